"""The offline assistant answers in sentences that carry what was asked, from tool results only."""

from __future__ import annotations

import json
import random
import re

import pytest

from turnloom.core.domains import get_pack, pack_names
from turnloom.core.lifecycle.dialogue import create_session, open_engine, run_to_end
from turnloom.core.models import Role
from turnloom.core.players.offline.assistant import Outcome
from turnloom.core.players.offline.language import Request
from turnloom.core.players.offline.replies import answer
from turnloom.core.quality.grounding import stated_values


def _result(session, engine, tool, **arguments):
    """What the tool really returns on the dialogue's database."""
    return json.loads(engine.environment.db.execute(session.tool(tool), arguments).content)


def _outcome(domain, intent, result, tool=None, **slots):
    request = Request(get_pack(domain).intent(intent), slots, 0, 0)
    return Outcome(request, tool or request.intent.steps[-1].tool, result=result)


@pytest.fixture
def airline():
    session = create_session("airline", seed=0)
    return session, open_engine(session)


def test_a_record_with_a_status_is_answered_with_its_status(airline):
    session, engine = airline
    flights = _result(session, engine, "search_flights", limit=50)
    flight = next(f for f in flights if f["status"] == "cancelled")
    outcome = _outcome("airline", "flight_status", flight, flight_number=flight["flight_number"])
    reply = answer([outcome], random.Random(1), session.tools)
    assert "cancelled" in reply and flight["flight_number"] in reply


def test_what_was_asked_leads_the_answer(airline):
    session, engine = airline
    flight = _result(session, engine, "search_flights", limit=1)[0]
    request = Request(get_pack("airline").intent("flight_status"), {"flight_number": flight["flight_number"]}, 0, 0)
    outcome = Outcome(request, "get_flight_by_flight_number", result=flight)
    reply = answer([outcome], random.Random(3), session.tools)
    assert "departure" in reply.split(".")[0]  # "when does it leave" is about departure
    assert flight["status"] in reply


def test_a_list_is_summarised_with_its_count_a_few_items_and_the_rest():
    session = create_session("football", seed=0)
    engine = open_engine(session)
    players = _result(session, engine, "get_club_players", club_id=4)
    assert len(players) > 4
    reply = answer([_outcome("football", "club_squad", players, club_id=4)], random.Random(0), session.tools)
    words = dict(enumerate("zero one two three four five six seven eight nine ten eleven twelve".split()))
    assert words[len(players)] in reply.lower()
    assert len([line for line in reply.splitlines() if line.startswith("- ")]) == 3
    assert f"{words[len(players) - 3]} more" in reply or "other" in reply
    assert players[0]["name"] in reply and players[-1]["name"] not in reply


def test_a_summary_states_its_count_and_total_in_words_not_field_names(airline):
    session, engine = airline
    summary = _result(session, engine, "get_passenger_bookings_summary", passenger_id=1)
    reply = answer([_outcome("airline", "passenger_spend", summary, passenger_id=1)], random.Random(0), session.tools)
    assert f"{summary['bookings_count']} bookings" in reply
    assert json.dumps(summary["total_price"]) in reply
    assert not any(key in reply for key in summary)


def test_writes_say_what_changed(airline):
    session, _ = airline
    outcome = _outcome("airline", "change_seat", {"rowcount": 1}, booking_id=3, seat="14C")
    assert "14C" in answer([outcome], random.Random(0), session.tools)
    created = _outcome("airline", "add_bag", {"rowcount": 1, "lastrowid": 77}, booking_id=3, weight_kg=9.5)
    assert "77" in answer([created], random.Random(0), session.tools)
    missing = _outcome("airline", "cancel_booking", {"rowcount": 0}, booking_id=999)
    assert "nothing" in answer([missing], random.Random(0), session.tools).lower()


def test_wording_varies_with_the_seed_and_repeats_with_it(airline):
    session, engine = airline
    booking = _result(session, engine, "get_booking_by_id", id=2)
    outcome = _outcome("airline", "booking_details", booking, booking_id=2)
    wordings = {answer([outcome], random.Random(seed), session.tools) for seed in range(12)}
    assert len(wordings) >= 3
    assert answer([outcome], random.Random(5), session.tools) == answer([outcome], random.Random(5), session.tools)


@pytest.mark.parametrize("domain", pack_names())
async def test_replies_never_dump_field_names_and_state_only_result_values(domain):
    for seed in range(3):
        session = create_session(domain, seed=seed)
        await open_engine(session).run()
        result_text = ""
        for message in session.messages:
            if message.role is Role.TOOL:
                result_text = message.content or ""
                fields = set(re.findall(r'"(\w+_\w+)":', result_text))
            elif message.role is Role.ASSISTANT and message.content and result_text:
                text = message.content
                assert not [f for f in fields if re.search(rf"\b{f}\b", text)], text
                assert "total total" not in text and "Here's what I found for" not in text
                evidence = " ".join(m.content or "" for m in session.messages if m.role is Role.TOOL)
                assert all(v in evidence for v in stated_values(text)), text


def test_a_summary_names_whose_it_is_and_says_money_as_worth():
    session = create_session("retail", seed=0)
    engine = open_engine(session)
    customer = _result(session, engine, "get_customer_by_id", id=7)
    summary = _result(session, engine, "get_customer_orders_summary", customer_id=7)
    by_email = _outcome("retail", "spend_by_email", summary, email=customer["email"])
    reply = answer([by_email], random.Random(0), session.tools)
    assert customer["email"] in reply and "that one" not in reply.lower()
    assert f"worth {json.dumps(summary['total_total'])} in all" in reply
    # a record of the same reply names the owner of a summary by id
    record = _outcome("retail", "customer_by_email", customer, email=customer["email"])
    by_id = _outcome("retail", "customer_spend", summary, customer_id=7)
    reply = answer([record, by_id], random.Random(0), session.tools)
    assert f"{customer['name']} (customer 7) has" in reply or f"for {customer['name']} (customer 7)" in reply


def test_a_summary_of_counted_things_counts_them_and_says_when_there_are_none():
    session = create_session("football", seed=0)
    summary = {"appearances_count": 3, "total_minutes": 270, "avg_minutes": 90.0, "total_goals": 0, "avg_goals": 0.0}
    reply = answer([_outcome("football", "player_stats", summary, player_id=4)], random.Random(0), session.tools)
    assert "3 appearances" in reply and "no goals" in reply and "0 goals" not in reply  # goals are what it asks
    one = {"appearances_count": 1, "total_minutes": 90, "avg_minutes": 90.0, "total_goals": 1, "avg_goals": 1.0}
    reply = answer([_outcome("football", "player_stats", one, player_id=4)], random.Random(0), session.tools)
    assert "1 appearance" in reply and "1 goal" in reply and "1 goals" not in reply and "average" not in reply


def test_a_record_keeps_its_prices_and_dates_however_many_details_it_has():
    session = create_session("telecom", seed=0)
    engine = open_engine(session)
    invoice = _result(session, engine, "get_invoice_by_id", id=21)
    reply = answer([_outcome("telecom", "invoice_details", invoice, invoice_id=21)], random.Random(0), session.tools)
    for field in ("status", "amount", "issued_on", "due_on"):
        assert str(invoice[field]) in reply, (field, reply)
    assert "For reference" not in reply and "the due on" not in reply


def test_units_and_participles_read_as_words():
    session = create_session("airline", seed=0)
    bag = {"id": 42, "booking_id": 2, "tag_number": "BAG-9101", "weight_kg": 20.2, "status": "checked"}
    reply = answer([_outcome("airline", "booking_bags", [bag], booking_id=2)], random.Random(0), session.tools)
    assert "20.2 kg" in reply and "weight kg" not in reply
    club = {"id": 1, "name": "Porto Athletic", "city": "Porto", "founded": 1906, "budget": 37300000.0}
    football = create_session("football", seed=0)
    reply = answer([_outcome("football", "club_info", club, club_id=1)], random.Random(0), football.tools)
    assert "dates from 1906" in reply and "the founded" not in reply


@pytest.mark.parametrize("domain", pack_names())
def test_the_quality_gate_finds_no_reply_contradicting_or_leaving_out_what_results_show(domain):
    from turnloom.core.models import Mode, ToolExecution
    from turnloom.core.quality.checks import run_checks

    for seed in range(3):
        for execution in ToolExecution:
            for mode in Mode:
                session = create_session(domain, seed=seed, mode=mode, execution=execution)
                run_to_end(session)
                found = [f for f in run_checks(session) if f.check == "text_consistent"]
                assert not found, [f.reason for f in found]


def test_a_database_refusal_is_explained_in_words():
    session = create_session("airline", seed=0)
    request = Request(get_pack("airline").intent("add_bag"), {"booking_id": 3}, 0, 0)
    refused = Outcome(request, "create_bag", error="UNIQUE constraint failed: bags.tag_number")
    reply = answer([refused], random.Random(0), session.tools)
    assert "already a bag with that tag number" in reply and "constraint" not in reply
    other = Outcome(request, "create_bag", error="no such booking")
    assert "no such booking" in answer([other], random.Random(0), session.tools)


def test_what_every_listed_record_shares_is_said_once():
    session = create_session("retail", seed=0)
    engine = open_engine(session)
    products = [p for p in _result(session, engine, "search_products", limit=50) if p["category"] == "kitchen"]
    assert len(products) == 4
    reply = answer(
        [_outcome("retail", "products_in_category", products, category="kitchen")], random.Random(0), session.tools
    )
    assert reply.count("kitchen") == 1 and products[-1]["name"] in reply
