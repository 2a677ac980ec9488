"""How the offline user writes: one register per person, true things about themselves, their email as it is now."""

from __future__ import annotations

import json
import random
import re

from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import Mode, Role
from turnloom.core.players.offline.identity import draw_identity
from turnloom.core.players.offline.knowledge import knowledge_for
from turnloom.core.players.offline.voice import Persona, Voice
from turnloom.core.players.offline.voice_registers import REGISTERS
from turnloom.core.players.offline.voice_words import GREETINGS


def _voice(register: str, seed: int) -> Voice:
    persona = Persona("Ana Lopez", "ana@example.com", politeness=2, verbosity=2, register=register)
    return Voice([], random.Random(seed), persona)


def test_a_formal_writer_greets_and_signs_off_in_formal_words_and_a_brisk_one_in_brisk_ones():
    formal, brisk = REGISTERS["formal"], REGISTERS["brisk"]
    for seed in range(40):
        opening = _voice("formal", seed).opening("order")
        greeting = opening.split(",")[0].rstrip(".!")
        assert not greeting.startswith(("Hey", "Hi", "Morning")), opening
        closing = _voice("brisk", seed).closing()
        assert closing.startswith(brisk["endings"] + brisk["plain"]), closing
    openings = [_voice("formal", seed).opening("order") for seed in range(40)]
    assert sum(o.startswith(formal["greetings"]) for o in openings) >= 20
    assert not any(o.startswith(tuple(set(GREETINGS) - set(formal["greetings"]))) for o in openings)


def test_registers_are_drawn_per_dialogue_and_bend_the_persona():
    drawn = [Persona.drawn(seed) for seed in range(300)]
    assert {p.register for p in drawn} == set(REGISTERS)
    assert all(p.politeness >= 1 for p in drawn if p.register == "formal")
    assert all(p.verbosity <= 1 for p in drawn if p.register == "brisk")
    assert Persona.drawn(7) == Persona.drawn(7)


async def test_what_a_user_says_about_themselves_in_an_opening_is_what_their_record_says():
    said = 0
    for seed in range(60):
        session = create_session("retail", seed=seed, tasks=1)
        engine = open_engine(session)
        await engine.run()
        first = session.messages[0].text
        match = re.search(r"\b(?:I live in|I'm based in|I'm over in|I'm writing from) ([A-Z][\w ]+?)[,.!]", first)
        if match is None:
            continue
        assert draw_identity(engine.environment, seed).row["city"] == match.group(1), first
        said += 1
    assert said >= 3


async def test_a_user_who_changed_their_email_gives_the_new_one_from_then_on():
    changed = 0
    for seed in range(30):
        session = create_session("telecom", mode=Mode.USER_ORIENTED, seed=seed, tasks=3)
        await open_engine(session).run()
        messages = session.messages
        for k, message in enumerate(messages):
            change = next((c for c in message.tool_calls if c.name == "update_subscriber_email"), None)
            if change is None:
                continue
            lookups = [
                json.loads(c.arguments)["email"]
                for m in messages[:k]
                for c in m.tool_calls
                if c.name == "get_subscriber_by_email"
            ]
            old = lookups[-1] if lookups else None
            # until the next change of email, if they change it again
            until = next(
                (j for j in range(k + 1, len(messages)) if any(c.name == change.name for c in messages[j].tool_calls)),
                len(messages),
            )
            later = [m.text for m in messages[k:until] if m.role is Role.USER]
            new = json.loads(change.arguments)["email"]
            if old is not None and old != new:
                assert not any(f"under {old}" in text for text in later), later
                # and when they leave it out, the assistant looks them up by the new one
                looked = [c for m in messages[k:until] for c in m.tool_calls if c.name == "get_subscriber_by_email"]
                assert all(json.loads(c.arguments)["email"] == new for c in looked)
                changed += 1
    assert changed >= 1


async def test_an_answer_reached_through_a_cancelled_booking_says_the_booking_is_cancelled():
    found = 0
    for seed in range(60):
        session = create_session("airline", seed=seed, tasks=3)
        await open_engine(session).run()
        messages = session.messages
        for k, message in enumerate(messages):
            if message.role is not Role.TOOL or message.name != "get_booking_by_id":
                continue
            booking = json.loads(message.content)
            following = next((m for m in messages[k + 1 :] if m.role is Role.ASSISTANT), None)
            if booking.get("status") != "cancelled" or following is None or not following.tool_calls:
                continue
            if following.tool_calls[0].name != "get_flight_by_id":
                continue
            reply = next(m for m in messages[k + 1 :] if m.role is Role.ASSISTANT and not m.tool_calls)
            assert re.search(rf"booking {booking['id']}(?: is|: it's) (?:\w+ )?cancelled", reply.text, re.I), reply.text
            found += 1
    assert found >= 1


async def test_one_sentence_of_a_turn_gives_the_email_when_the_user_names_their_records():
    for domain in ("airline", "telecom", "clinic"):
        for seed in range(12):
            session = create_session(domain, mode=Mode.TASK_ORIENTED, seed=seed, tasks=3)
            await open_engine(session).run()
            for message in session.messages:
                if message.role is Role.USER:
                    # the records named by date or by the person's account, not a pack phrasing's own email
                    named = re.findall(
                        r"(?:\d{4}-\d{2}-\d{2}|the (?:subscriber|patient|passenger)) under \S+@", message.text
                    )
                    assert len(named) <= 1, message.text


async def test_a_user_whose_email_the_conversation_has_leaves_it_out_and_the_assistant_still_finds_them():
    """'List my orders, please.' after the email was given: the assistant takes it from the conversation.

    Either it looks the person up by the email the user gave earlier, or, when an earlier turn
    already found them, it goes straight on with their id (customer_id 15) without reading them again.
    """
    elided = reused = 0
    for domain in ("retail", "airline", "telecom"):
        for seed in range(16):
            session = create_session(domain, seed=seed, tasks=3)
            await open_engine(session).run()
            messages = session.messages
            found: dict[int, str] = {}  # id of a person found by email -> that email
            for k, message in enumerate(messages):
                if message.role is Role.TOOL and message.name and message.name.endswith("_by_email"):
                    row = json.loads(message.content)
                    if isinstance(row, dict) and "id" in row:
                        found[row["id"]] = row.get("email")
                if message.role is not Role.USER or "@" in message.text:
                    continue
                step = next((m for m in messages[k + 1 :] if m.role is Role.ASSISTANT), None)
                for call in step.tool_calls if step is not None else []:
                    arguments = json.loads(call.arguments)
                    email = arguments.get("email")
                    if call.name.endswith("_by_email") and email is not None:
                        assert any(m.role is Role.USER and email in m.text for m in messages[:k]), message.text
                        created = {
                            json.loads(c.arguments).get("email")
                            for m in messages[:k]
                            for c in m.tool_calls
                            if c.name.startswith("create_")
                        }
                        assert email not in created, message.text  # not the account they opened for someone
                        result = next(m for m in messages if m.role is Role.TOOL and m.tool_call_id == call.id)
                        assert json.loads(result.content)  # the person was found
                        elided += 1
                    person = next((v for n, v in arguments.items() if n.endswith("_id") and v in found), None)
                    if person is not None and not any(c.name.endswith("_by_email") for c in step.tool_calls):
                        # the person came from an earlier turn: the email that found them was the user's own
                        assert any(m.role is Role.USER and found[person] in m.text for m in messages[:k]), message.text
                        reused += 1
    assert elided + reused >= 5
    assert reused >= 1


def test_a_phrasing_without_the_email_reads_as_a_whole_sentence():
    from turnloom.core.players.offline.language import elided

    assert elided("What have I ordered so far? My email is {email}.") == "What have I ordered so far?"
    assert elided("What orders are on the account with email {email}?") == "What orders are on my account?"
    assert elided("Cancel my booking from {booking_date} under {email}.") == "Cancel my booking from {booking_date}."
    assert elided("Show me order {order_id}.") is None
    knowledge = knowledge_for(create_session("retail", seed=0))
    assert "orders_by_email" in knowledge.parser.without_email
    assert "customer_by_email" not in knowledge.parser.without_email  # a look-up of the person is its email


def test_a_check_of_a_transfer_does_not_name_the_new_club_by_its_row_id():
    from turnloom.core.players.offline.transcript_reading import changed_value as _changed_value

    knowledge = knowledge_for(create_session("football", seed=0))
    transfer = knowledge.intent("transfer_player")
    assert _changed_value(transfer, {"player_id": 4, "club_id": 5}, created=False) is None
    value = knowledge.intent("update_market_value")
    assert _changed_value(value, {"player_id": 4, "new_value": 6500000.0}, created=False) == "6500000.0"


def test_every_phrasing_without_the_email_still_makes_the_whole_request():
    """Leaving out the email never leaves out the request ("It's about headaches." alone), nor makes the
    account the one who does something ("Can my account see Dr Lindholm?")."""
    from turnloom.core.domains import pack_names

    for domain in pack_names():
        knowledge = knowledge_for(create_session(domain, seed=0))
        for name, phrasings in knowledge.parser.without_email.items():
            slots = {s for s in knowledge.intent(name).slots if s != "email"}
            for phrasing in phrasings:
                assert {s for s in slots if "{" + s + "}" in phrasing} == slots, (name, phrasing)
                assert not re.search(r"\b(?:can|like) my account\b|\bme\b.*\bfor me\b", phrasing, re.I), phrasing


def test_the_email_a_user_goes_by_is_theirs_not_that_of_an_account_they_opened():
    from turnloom.core.models import ChatMessage, ToolCall
    from turnloom.core.players.offline.assistant import OfflineAssistant

    assistant = OfflineAssistant(knowledge_for(create_session("retail", seed=0)))

    def user(text: str) -> ChatMessage:
        return ChatMessage(role=Role.USER, content=text)

    opened = user("Please open a new account for Lena Vogel with email lena.vogel@example.com in Turin.")
    checked = user("Is there an account for lena.vogel@example.com?")
    assert assistant._users_email([opened, checked]) is None
    mine = user("What have I ordered so far? My email is ana.lopez@example.com.")
    assert assistant._users_email([opened, checked, mine]) == "ana.lopez@example.com"
    # a user known by their phone who changed their email goes by the new one
    change = ChatMessage(
        role=Role.ASSISTANT,
        tool_calls=[ToolCall(id="c1", name="update_customer_email", arguments='{"id": 4, "email": "ana@new.example"}')],
    )
    assert assistant._users_email([change]) == "ana@new.example"
