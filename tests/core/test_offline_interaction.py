"""The offline user and assistant as a conversation: no request asked twice, clarification of a change
that fits several records, follow-ups about a listed record, reactions that fit the outcome, and the
number of tasks per dialogue drawn from the seed."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import FinishReason, Role
from turnloom.core.players.offline.knowledge import knowledge_for
from turnloom.core.players.offline.tasks import task_count
from turnloom.core.players.offline.transcript_reading import is_follow_up as _is_follow_up
from turnloom.core.players.offline.voice_words import ALREADY_TOLD

THANKS = re.compile(r"\b(thanks?|thank you|thx|appreciate)\b", re.I)


async def _run(domain, seed=0, **kw):
    session = create_session(domain, seed=seed, **kw)
    engine = open_engine(session)
    await engine.run()
    return session


def _result(message):
    return json.loads(message.content or "null")


@pytest.mark.parametrize("domain", pack_names())
async def test_a_later_task_never_asks_what_an_earlier_task_asked(domain):
    for seed in range(8):
        session = await _run(domain, seed, tasks=4)
        knowledge = knowledge_for(session)
        seen: set[tuple] = set()
        for task in session.tasks:
            keys = {
                (knowledge.intent(s.intent).steps[-1].tool, tuple(sorted(map(str, s.slots.values()))))
                for s in task.subtasks
            }
            assert not keys & seen, (seed, task.template, keys & seen)
            seen |= keys


async def test_a_change_that_fits_several_records_is_clarified_then_made_to_the_one_chosen():
    clarified = 0
    for seed in range(60):
        session = await _run("clinic", seed)
        messages = session.messages
        for k, message in enumerate(messages):
            asks = message.role is Role.ASSISTANT and message.content and message.content.endswith("?")
            if not asks or messages[k - 1].role is not Role.TOOL:
                continue
            listed = _result(messages[k - 1])
            assert isinstance(listed, list) and len(listed) > 1
            offered = {row["id"] for row in listed}
            answer = messages[k + 1]
            assert answer.role is Role.USER and answer.meta.subtasks  # the user answers for the same subtask
            write = next(c for m in messages[k + 2 :] for c in m.tool_calls if c.name.startswith("update_"))
            chosen = json.loads(write.arguments)["id"]
            assert chosen in offered and re.search(rf"\b{chosen}\b", answer.text)
            clarified += 1
        assert session.finish_reason is FinishReason.USER_DONE
    assert clarified >= 3


async def test_follow_ups_ask_about_a_listed_record_for_what_the_list_did_not_show():
    follow_ups = 0
    for domain in pack_names():
        for seed in range(10):
            session = await _run(domain, seed)
            knowledge = knowledge_for(session)
            messages = session.messages
            for k, message in enumerate(messages):
                if k == 0 or message.role is not Role.USER or not _is_follow_up(message):
                    continue
                before = max(i for i in range(k) if messages[i].role is Role.USER)
                listed = [
                    row["id"]
                    for m in messages[before:k]
                    if m.role is Role.TOOL and isinstance(_result(m), list)
                    for row in _result(m)
                ]
                requests = knowledge.parser.parse(message.text)
                assert len(requests) == 1, message.text
                (value,) = requests[0].slots.values()
                assert value in listed
                assert not requests[0].intent.steps[-1].tool.endswith("_by_id") or len(requests[0].intent.steps) > 1
                assert messages[k + 1].tool_calls  # the assistant does the work
                follow_ups += 1
    assert follow_ups >= 10


@pytest.mark.parametrize("domain", pack_names())
async def test_no_thanks_right_after_an_answer_that_found_nothing(domain):
    for seed in range(10):
        session = await _run(domain, seed)
        messages = session.messages
        for k, message in enumerate(messages):
            if message.role is not Role.USER or k == 0:
                continue
            since = (
                messages[max(i for i in range(k) if messages[i].role is Role.USER) + 1 : k]
                if any(m.role is Role.USER for m in messages[:k])
                else []
            )
            empty = any(m.role is Role.TOOL and _result(m) in ([], None, {}) for m in since)
            if empty:
                assert not THANKS.search(message.text), message.text


def test_tasks_per_dialogue_are_drawn_from_the_seed_with_a_tail_of_long_dialogues():
    counts = Counter(task_count(seed) for seed in range(2000))
    assert [task_count(seed) for seed in range(50)] == [task_count(seed) for seed in range(50)]
    assert min(counts) == 1 and max(counts) >= 8
    assert sum(n for c, n in counts.items() if c <= 5) / 2000 >= 0.9
    assert sum(n for c, n in counts.items() if c >= 6) > 0
    assert 2.3 <= sum(c * n for c, n in counts.items()) / 2000 <= 3.5


async def test_the_user_corrects_a_first_record_the_assistant_took_wrongly():
    corrected = 0
    for seed in range(30):
        session = await _run("retail", seed)
        messages = session.messages
        for k, message in enumerate(messages):
            if message.role is not Role.USER or not re.search(r"first (one|was)|earliest one", message.text):
                continue
            before = max(i for i in range(k) if messages[i].role is Role.USER)
            dated = next(
                _result(m)
                for m in messages[before:k]
                if m.role is Role.TOOL and isinstance(_result(m), list) and "order_date" in (_result(m) or [{}])[0]
            )
            earliest = min(dated, key=lambda row: row["order_date"])
            assert dated[0]["id"] != earliest["id"]  # the chain had taken the first listed, not the earliest
            assert earliest["order_date"] in message.text
            wanted = {"order_id": earliest["id"]}
            if any(phrase in message.text for phrase in ALREADY_TOLD):  # that order's items were shown before
                assert any(json.loads(c.arguments) == wanted for m in messages[:before] for c in m.tool_calls)
                continue
            call = messages[k + 1].tool_calls[0]
            assert json.loads(call.arguments) == wanted
            corrected += 1
    assert corrected >= 3


async def test_a_person_found_once_is_not_looked_up_again_until_something_changes_them():
    """'List my orders' after the customer was found: straight to their orders, not the email lookup again.

    A lookup by email repeats only when the user named that email again in the turn (they asked
    about it), or after a change to that kind of record (a new email, a new name).
    """
    repeats = lookups = 0
    for domain in ("retail", "airline", "clinic", "telecom"):
        for seed in range(10):
            session = create_session(domain, seed=seed, tasks=3)
            await open_engine(session).run()
            seen: set[tuple[str, str]] = set()
            user_text = ""
            for message in session.messages:
                if message.role is Role.USER:
                    user_text = message.text
                for call in message.tool_calls:
                    if not call.name.endswith("_by_email"):
                        if not call.name.startswith(("get_", "search_", "list_")):  # a write: forget that kind
                            seen = {s for s in seen if s[0].split("_by_")[0].removeprefix("get_") not in call.name}
                        continue
                    lookups += 1
                    key = (call.name, call.arguments)
                    email = json.loads(call.arguments)["email"]
                    if key in seen and email not in user_text:
                        repeats += 1
                    seen.add(key)
    assert lookups >= 40
    assert repeats == 0
