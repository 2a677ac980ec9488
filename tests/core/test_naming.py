"""Asking by name: a user names a player, a product or a doctor, and the assistant finds the record first."""

from __future__ import annotations

import itertools
import json
import re

from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import Role
from turnloom.core.players.offline.knowledge import knowledge_for
from turnloom.core.players.offline.naming import twin_name
from turnloom.core.players.offline.voice import lower_first


def test_a_twin_is_made_for_a_request_about_one_named_record_and_parses_back():
    session = create_session("football", seed=0)
    knowledge = knowledge_for(session)
    twin = knowledge.intent(twin_name("player_stats"))
    assert [s.tool for s in twin.steps] == ["search_players", "get_player_appearances_summary"]
    assert twin.steps[1].arguments == {"player_id": "$prev.id"}
    (request,) = knowledge.parser.parse("How has Tiago Henriques been doing this season?")
    assert request.intent.name == twin.name and request.slots == {"player_name": "Tiago Henriques"}


def test_people_who_use_the_system_are_not_looked_up_by_name():
    knowledge = knowledge_for(create_session("retail", seed=0))
    assert not any(i.name.endswith("__by_name") and "customer_name" in i.slots for i in knowledge.pack.intents)


async def test_users_name_records_and_the_assistant_searches_before_it_answers():
    searched = 0
    for seed in range(12):
        session = create_session("football", seed=seed, tasks=3)
        await open_engine(session).run()
        messages = session.messages
        for k, message in enumerate(messages):
            for call in message.tool_calls:
                if call.name != "search_players" or set(json.loads(call.arguments)) != {"name"}:
                    continue
                name = json.loads(call.arguments)["name"]
                asked = next(m for m in reversed(messages[:k]) if m.role is Role.USER)
                assert name in asked.text  # the user said the name
                ids = {c.id for c in message.tool_calls if c.name == "search_players"}
                result = next(m for m in messages[k:] if m.role is Role.TOOL and m.tool_call_id in ids)
                found = json.loads(result.content)
                assert [row["name"] for row in found] == [name]  # a name that is the record's alone
                end = next((j for j in range(k + 1, len(messages)) if messages[j].role is Role.USER), len(messages))
                later = [c for m in messages[k + 1 : end] for c in m.tool_calls]
                # then its id or a record it links to (the player's club), or the search was the answer
                # (it found the record whole: nothing to read again)
                reply = next((m.text for m in messages[k + 1 : end] if m.role is Role.ASSISTANT and m.content), "")
                answered = name in reply and str(found[0]["id"]) in reply
                links = {str(v) for f, v in found[0].items() if f == "id" or f.endswith("_id")}
                assert answered or any(str(v) in links for c in later for v in json.loads(c.arguments).values())
                searched += 1
    assert searched >= 5


async def test_users_ask_for_their_own_records_by_date_and_email():
    asked = 0
    for seed in range(40):
        session = create_session("airline", seed=seed, tasks=3)
        await open_engine(session).run()
        messages = session.messages
        for k, message in enumerate(messages):
            for call in message.tool_calls:
                arguments = json.loads(call.arguments)
                if call.name != "search_bookings" or set(arguments) != {"passenger_id", "booked_on"}:
                    continue
                said = next(m for m in reversed(messages[:k]) if m.role is Role.USER).text
                assert arguments["booked_on"] in said  # the date the user gave, and their email (now or before)
                assert any(m.role is Role.USER and "@" in m.text for m in messages[:k])
                result = next(m for m in messages[k:] if m.role is Role.TOOL and m.tool_call_id == call.id)
                (booking,) = json.loads(result.content)  # their only booking of that date
                assert booking["passenger_id"] == arguments["passenger_id"]
                asked += 1
    assert asked >= 4


def _said_before(messages, k: int, words: str, number: str) -> bool:
    pattern = re.compile(rf"\b(?:{words})s?\s+(?:#|no\.\s*|number\s+)?{number}\b", re.I)
    return any(m.role in (Role.USER, Role.ASSISTANT) and pattern.search(m.text) for m in messages[:k])


async def test_a_named_record_is_asked_for_by_id_only_once_the_conversation_showed_its_id():
    """A user knows a player, product or doctor by name; its row id only once an answer showed it."""
    by_id = 0
    for domain, words in (("football", "player|club|team"), ("retail", "product|item"), ("clinic", "doctor")):
        for seed in range(10):
            session = create_session(domain, seed=seed, tasks=3)
            await open_engine(session).run()
            messages = session.messages
            for k, message in enumerate(messages):
                if message.role is not Role.USER:
                    continue
                mentions = list(re.finditer(r"\b[a-z]+\s+(?:#|no\.\s*|number\s+)?\d+\b(?!-)", message.text, re.I))
                if len(mentions) > 1:
                    continue  # a change between two records ("move player 25 to club 2") is asked by ids
                for match in re.finditer(rf"\b({words})s?\s+(?:#|no\.\s*|number\s+)?(\d+)\b", message.text, re.I):
                    table = {"team": "club", "item": "product"}.get(match.group(1).lower(), match.group(1).lower())
                    rows = session_rows(session, table + "s", int(match.group(2)))
                    if rows == 1:  # a name the record has alone: it is said unless the id was shown
                        assert _said_before(messages, k, words, match.group(2)), (domain, seed, message.text)
                        by_id += 1
    assert by_id >= 5  # ids the answers showed are still used


def session_rows(session, table: str, record: int) -> int:
    """How many records of `table` share the name of `record` (0 when the table has no names)."""
    import sqlite3

    from turnloom.core.domains import get_pack

    connection = sqlite3.connect(":memory:")
    pack = get_pack(session.domain)
    connection.executescript(pack.schema_sql)
    pack.populate(connection, __import__("random").Random(pack.data_seed))
    try:
        (count,) = connection.execute(
            f"SELECT COUNT(*) FROM {table} o WHERE o.name = (SELECT name FROM {table} WHERE id = ?)", (record,)
        ).fetchone()
    except sqlite3.OperationalError:
        return 0
    return count


async def test_a_change_to_a_record_known_by_its_date_finds_it_first_and_so_does_its_check():
    """'Cancel my booking from 2025-02-11 under ben@…': the person, their record of that date, then the change; the confirmation the user asks for afterwards names it the same way (they never heard its id)."""
    changes = 0
    for seed in range(40):
        session = create_session("airline", seed=seed, tasks=3)
        await open_engine(session).run()
        messages = session.messages
        turns = [k for k, m in enumerate(messages) if m.role is Role.USER] + [len(messages)]
        for k, end in itertools.pairwise(turns):
            steps = [m for m in messages[k:end] if m.role is Role.ASSISTANT and m.tool_calls]
            chain = [s.tool_calls[0].name for s in steps]
            # (the search found the booking whole: it is not read again by id before the change)
            if chain[:2] != ["get_passenger_by_email", "search_bookings"] or len(chain) != 3:
                continue
            if not chain[2].startswith(("update_booking_", "create_bag")):
                continue
            said = messages[k].text
            assert re.search(r"\d{4}-\d{2}-\d{2}", said)  # the date, and the email now or before
            assert any(m.role is Role.USER and "@" in m.text for m in messages[: k + 1])
            changes += 1
        for k, message in enumerate(messages):  # a check names the booking only by an id the user has heard
            if message.role is Role.USER and message.meta.notes and message.meta.notes.verify:
                for number in re.findall(r"\b(?:booking|reservation)\s+(?:#|no\.\s*|number\s+)?(\d+)", message.text):
                    assert _said_before(messages, k, "booking|reservation", number), message.text
    assert changes >= 3


async def test_users_ask_about_their_own_account_by_email_not_by_a_row_id():
    asked = 0
    for seed in range(20):
        session = create_session("telecom", seed=seed, tasks=3)
        await open_engine(session).run()
        messages = session.messages
        for k, message in enumerate(messages):
            if message.role is not Role.USER or "the subscriber under " not in message.text:
                continue
            # looked up by that email, or, found in an earlier turn, named by their id in this turn's calls
            email = re.search(r"the subscriber under (\S+@[\w.-]*\w)", message.text).group(1)
            found = [
                json.loads(m.content)
                for m in messages[:k]
                if m.role is Role.TOOL
                and (m.name or "").startswith("get_subscriber_by_")
                and email in (m.content or "")
            ]
            values = {v for record in found for n, v in record.items() if n == "id" or n.endswith("_id")}
            turn = next((j for j in range(k + 1, len(messages)) if messages[j].role is Role.USER), len(messages))
            calls = [c for m in messages[k:turn] for c in m.tool_calls]
            # their record's ids (their own, their plan's) go on where the transcript already shows them
            assert any(
                c.name == "get_subscriber_by_email" or any(v in values for v in c.parsed_arguments().values())
                for c in calls
            ), message.text
            asked += 1
    assert asked >= 5


def test_a_name_that_opens_a_request_keeps_its_capital_after_a_connector():
    assert lower_first("Bruno Ramos is now worth 6500000.0, please update it.").startswith("Bruno Ramos")
    assert lower_first("Order 18 needs to go to Turin now.").startswith("order 18")
    assert lower_first("Could I trouble you to mark Bruno Dias at 8000000.0?").startswith("could I trouble")


async def test_a_request_about_two_records_names_both_and_the_assistant_finds_each_before_the_change():
    """'Switch my account over to Smart 30': the user by email, the plan by name, then the change on both ids."""
    changes = 0
    for seed in range(30):
        session = create_session("telecom", seed=seed, tasks=3)
        await open_engine(session).run()
        messages = session.messages
        for k, message in enumerate(messages):
            change = next((c for c in message.tool_calls if c.name == "update_subscriber_plan_id"), None)
            if change is None:
                continue
            before = [c for m in messages[:k] for c in m.tool_calls]
            plan = json.loads(change.arguments)["plan_id"]
            searched = [c for c in before if c.name == "search_plans" and "name" in json.loads(c.arguments)]
            if not searched:
                continue
            result = next(m for m in messages if m.role is Role.TOOL and m.tool_call_id == searched[-1].id)
            assert [row["id"] for row in json.loads(result.content)] == [plan]  # the plan named, and only it
            said = next(m for m in reversed(messages[:k]) if m.role is Role.USER).text
            assert json.loads(searched[-1].arguments)["name"] in said
            changes += 1
    assert changes >= 2
