"""Asking by name: a user names a player, a product or a doctor, and the assistant finds the record first."""

from __future__ import annotations

import json

from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import Role
from turnloom.core.players.offline.knowledge import knowledge_for
from turnloom.core.players.offline.naming import twin_name


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
                following = next(m for m in messages[k + 1 :] if m.role is Role.ASSISTANT)
                assert any(str(found[0]["id"]) in c.arguments for c in following.tool_calls)  # then its id
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
                assert arguments["booked_on"] in said and "@" in said  # the date and the email the user gave
                result = next(m for m in messages[k:] if m.role is Role.TOOL and m.tool_call_id == call.id)
                (booking,) = json.loads(result.content)  # their only booking of that date
                assert booking["passenger_id"] == arguments["passenger_id"]
                asked += 1
    assert asked >= 4
