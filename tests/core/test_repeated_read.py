"""`repeated_read` (a warning): a read the page already answered, with no write in between: the same
call again, or another key (by id after by email) returning the same record, every field as shown."""

from __future__ import annotations

import json

from _clean_dialogues import clean_session
from _mutations import _insert, same_record_again

from turnloom.core.models import ChatMessage, MessageMeta, Role, Session, ToolCall
from turnloom.core.quality.checks import Severity, run_checks
from turnloom.core.quality.checks.view import SessionView
from turnloom.core.quality.verdict import evaluate, reasons


def repeats(session: Session) -> list:
    return [f for f in run_checks(session) if f.check == "repeated_read"]


def test_the_same_record_read_under_another_key_warns_and_points_at_both_reads():
    clean = clean_session("clinic", seed=5)
    assert repeats(clean) == []
    session = same_record_again(clean)
    lookup, again = SessionView(session).calls[:2]
    assert (lookup.name, again.name) == ("get_patient_by_email", "get_patient_by_id")
    (finding,) = repeats(session)
    assert finding.severity is Severity.WARNING and finding.messages == (lookup.step, again.step)
    assert "get_patient_by_id" in finding.reason and "get_patient_by_email" in finding.reason
    assert f"patient {lookup.records()[0]['id']}" in finding.reason
    verdict = evaluate(session)
    assert verdict.accepted, reasons(verdict)
    assert [w.check for w in verdict.warnings] == ["repeated_read"]


def test_a_read_that_shows_a_field_the_page_had_not_is_no_repeat():
    session = same_record_again(clean_session("retail", seed=2))
    lookup = SessionView(session).calls[0]
    shown = {k: v for k, v in lookup.records()[0].items() if k != "city"}  # the first read left the city out
    session.messages[lookup.result_index] = session.messages[lookup.result_index].model_copy(
        update={"content": json.dumps(shown)}
    )
    assert repeats(session) == []


def test_a_record_whose_value_changed_is_no_repeat():
    session = same_record_again(clean_session("airline", seed=1))
    again = SessionView(session).calls[1]
    changed = dict(again.records()[0], name="Someone Else")
    session.messages[again.result_index] = session.messages[again.result_index].model_copy(
        update={"content": json.dumps(changed)}
    )
    assert repeats(session) == []


def test_the_same_record_read_again_after_a_write_is_no_repeat():
    clean = clean_session("telecom", seed=3)
    view = SessionView(clean)
    lookup = view.calls[0]
    write = next(c for c in view.calls if c.writes)
    by_id = next(s for s in clean.tools if s.name == f"get_{lookup.table}_by_id")
    again = [
        ChatMessage(
            role=Role.ASSISTANT,
            tool_calls=[
                ToolCall(id="after_write", name=by_id.name, arguments=json.dumps({"id": lookup.records()[0]["id"]}))
            ],
        ),
        ChatMessage(
            role=Role.TOOL,
            tool_call_id="after_write",
            name=by_id.name,
            content=lookup.content,
            meta=MessageMeta(task_index=0),
        ),
    ]
    session = _insert(clean.model_copy(deep=True), write.result_index + 1, again)
    assert repeats(session) == []
    # the same read placed before the write is one
    session = _insert(clean.model_copy(deep=True), lookup.result_index + 1, again)
    assert [f.messages for f in repeats(session)] == [(lookup.step, lookup.result_index + 1)]


def test_two_reads_in_one_parallel_step_are_no_repeat():
    session = same_record_again(clean_session("retail", seed=4))
    view = SessionView(session)
    lookup, again = view.calls[:2]
    step = session.messages[lookup.step]
    merged = step.model_copy(update={"tool_calls": [*step.tool_calls, *session.messages[again.step].tool_calls]})
    messages = list(session.messages)
    result = messages[again.result_index]
    del messages[again.step : again.result_index + 1]
    messages[lookup.step] = merged
    messages.insert(lookup.result_index + 1, result)
    session.messages = messages
    for record in session.write_log:  # everything after the moved result is one message earlier
        record.message_index -= record.message_index > again.result_index
    for task in session.tasks:
        task.introduced_at -= task.introduced_at > again.result_index
    session = Session.model_validate(session.model_dump())
    assert [c.step for c in SessionView(session).calls[:2]] == [lookup.step, lookup.step]
    assert repeats(session) == []


def test_a_record_read_on_its_own_after_a_list_that_held_it_is_no_repeat():
    session = same_record_again(clean_session("football", seed=2))
    lookup = SessionView(session).calls[0]
    row = lookup.records()[0]
    listed = [row, dict(row, id=row["id"] + 1000, name="Another Club")]  # the first read listed two records
    session.messages[lookup.result_index] = session.messages[lookup.result_index].model_copy(
        update={"content": json.dumps(listed)}
    )
    assert repeats(session) == []
