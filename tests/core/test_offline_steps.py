"""What the offline players decide, held as specifications (issue 14, the curator's interaction notes).

- nobody asks about a record the answer just listed with what they would ask ("what's the status of
  visit 12?" right after the list showed visit 12 and its status);
- a user never asks for other people's records (a clinic patient listing a doctor's whole calendar);
- a record a search returned with every field is not read again by id, on the way to what was asked or as
  the answer itself;
- requests made from what the user has take the chain of look-ups they need (their plan, then plans
  that compare with it);
- the calls a dialogue made are read as the transcript grows, not again at every turn.
"""

from __future__ import annotations

import functools
import json
import re

from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import ChatMessage, Mode, Role, Session, ToolExecution
from turnloom.core.players.offline.calls_made import CallsMade, calls_made
from turnloom.core.players.offline.identity import lists_others

DOMAINS = ("airline", "clinic", "football", "retail", "telecom")


@functools.cache
def _corpus() -> tuple[Session, ...]:
    """Every built-in domain, both modes, twelve seeds, five tasks each (SQL execution)."""
    return tuple(
        run_to_end(create_session(domain, mode=mode, execution=ToolExecution.SQL, seed=seed, tasks=5))
        for domain in DOMAINS
        for mode in (Mode.USER_ORIENTED, Mode.TASK_ORIENTED)
        for seed in range(12)
    )


def _exchanges(session: Session) -> list[tuple[int, list[ChatMessage]]]:
    """(user turn index, the messages that answer it) for every user turn."""
    messages = session.messages
    users = [k for k, m in enumerate(messages) if m.role is Role.USER]
    return [(k, messages[k + 1 : end]) for k, end in zip(users, [*users[1:], len(messages)], strict=True)]


def _results(exchange: list[ChatMessage]) -> list[tuple[str, dict, object]]:
    """(tool, arguments, parsed result) of every call the exchange made, in order."""
    return [(tool, arguments, result) for _, _, tool, arguments, result in _calls(exchange)]


def _calls(exchange: list[ChatMessage]) -> list[tuple[int, str, str, dict, object]]:
    """(step, call id, tool, arguments, parsed result) of every call the exchange made, in order."""
    calls = {c.id: (n, c) for n, m in enumerate(exchange) for c in m.tool_calls}
    found = []
    for message in exchange:
        step, call = calls.get(message.tool_call_id or "", (0, None)) if message.role is Role.TOOL else (0, None)
        if call is not None and not message.meta.tool_error:
            found.append((step, call.id, call.name, call.parsed_arguments(), json.loads(message.content or "null")))
    return found


def test_no_one_asks_about_a_record_the_last_answer_listed_with_what_they_ask():
    asked_again = []
    for session in _corpus():
        exchanges = _exchanges(session)
        for (_, before), (k, exchange) in zip(exchanges, exchanges[1:], strict=False):
            steps = [m for m in exchange if m.role is Role.ASSISTANT and m.tool_calls]
            answer = next((m.text for m in reversed(before) if m.role is Role.ASSISTANT and m.content), "")
            results = _results(exchange)
            if len(steps) != 1 or len(results) != 1 or not results[0][0].endswith("_by_id"):
                continue
            record = results[0][2]
            listed = [r for _, _, result in _results(before) if isinstance(result, list) for r in result]
            entity = results[0][0].removeprefix("get_").removesuffix("_by_id")
            if isinstance(record, dict) and record in listed and re.search(rf"\b{entity} {record['id']}\b", answer):
                asked_again.append((session.domain, session.config.seed, session.messages[k].text))
    assert not asked_again, asked_again[:5]


def test_a_patient_never_asks_for_a_doctors_calendar():
    session = create_session("clinic", mode=Mode.USER_ORIENTED, seed=0, tasks=1)
    private = {t.name for t in session.tools if t.sql and t.returns == "many" and lists_others(t.sql)}
    # the calendar lists every patient's visits; their own visits and a doctor's record are theirs to ask for
    assert private == {"get_doctor_appointments"}
    called = [
        (s.config.seed, c.name)
        for s in _corpus()
        if s.domain == "clinic"
        for m in s.messages
        for c in m.tool_calls
        if c.name in private
    ]
    assert not called, called[:5]


def test_a_record_a_search_found_is_not_read_again_by_id():
    again = []
    for session in _corpus():
        for k, exchange in _exchanges(session):
            calls = _calls(exchange)
            for n, (step, _, tool, arguments, result) in enumerate(calls):
                # what earlier steps of the same request-turn listed (calls in the same step run side by side)
                listed = [
                    r for s, _, _, _, earlier in calls[:n] if s < step and isinstance(earlier, list) for r in earlier
                ]
                if tool.endswith("_by_id") and isinstance(result, dict) and result in listed:
                    again.append((session.domain, session.config.seed, k, tool, arguments))
    assert not again, again[:5]


def test_a_request_from_what_the_user_has_runs_its_chain():
    # telecom seed 5, user-oriented: "Which postpaid plans cost no more than what I pay now? I'm ..."
    chains = []
    for seed in range(40):
        session = run_to_end(create_session("telecom", mode=Mode.USER_ORIENTED, seed=seed, tasks=5))
        for k, exchange in _exchanges(session):
            if "what I pay now" in session.messages[k].text or "my current allowance" in session.messages[k].text:
                chains.append([tool for tool, _, _ in _results(exchange)])
    assert chains
    for tools in chains:
        # the plan comes from the user's record (read now, or shown before), then the comparison
        assert tools[-1] == "search_plans"
        assert set(tools[:-1]) <= {"get_subscriber_by_email", "get_plan_by_id"}
    assert any(len(tools) == 3 for tools in chains)


def test_the_calls_made_are_read_once_as_the_transcript_grows():
    session = run_to_end(create_session("retail", mode=Mode.USER_ORIENTED, seed=3, tasks=3))
    messages = session.messages
    reads: list[ChatMessage] = []

    class Counted(CallsMade):
        def _read(self, message: ChatMessage) -> None:
            reads.append(message)
            super()._read(message)

    index = Counted()
    for end in range(1, len(messages) + 1):
        assert index.of(messages[:end]) == calls_made(messages[:end])
    assert len(reads) == len(messages)  # each message read once, however often it was asked


def test_the_calls_made_start_again_on_another_transcript():
    session = run_to_end(create_session("retail", mode=Mode.USER_ORIENTED, seed=3, tasks=3))
    other = run_to_end(create_session("retail", mode=Mode.USER_ORIENTED, seed=4, tasks=3))
    index = CallsMade()
    assert index.of(session.messages) == calls_made(session.messages)
    # a fork: the first messages, then another continuation
    forked = session.messages[:5] + other.messages[5:]
    assert index.of(forked) == calls_made(forked)
    assert index.of(other.messages) == calls_made(other.messages)
