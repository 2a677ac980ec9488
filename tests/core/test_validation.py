"""Validation: a verdict per dialogue, with the reason for every failed check."""

from __future__ import annotations

import asyncio

import pytest

from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import ChatMessage, FinishReason, MessageMeta, Role, RuleVerdict, Subtask
from turnloom.core.quality.verdict import CHECKS, judge_session, validate_session


def finished(seed: int = 3, tasks: int = 2, domain: str = "retail"):
    session = create_session(domain, seed=seed, tasks=tasks)
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


def failed_checks(session) -> list[str]:
    return [c.name for c in validate_session(session).checks if not c.passed]


@pytest.mark.parametrize("domain", ["retail", "airline", "clinic"])
def test_a_finished_offline_dialogue_passes_every_check(domain):
    verdict = validate_session(finished(domain=domain))
    assert [c.name for c in verdict.checks] == list(CHECKS)
    assert verdict.valid, verdict.reasons


def test_a_dialogue_stopped_by_the_message_cap_is_rejected():
    session = create_session("retail", seed=3, tasks=2, max_messages=6)
    engine = open_engine(session)
    asyncio.run(engine.run())
    assert session.finish_reason is FinishReason.MAX_MESSAGES
    verdict = validate_session(session)
    assert "finish" in failed_checks(session)
    assert any("max_messages" in r for r in verdict.reasons)


def test_a_value_no_tool_returned_is_ungrounded():
    session = finished()
    last = session.messages[-2]
    assert last.role is Role.ASSISTANT
    session.messages[-2] = last.model_copy(update={"content": last.text + " Your refund of 98765.43 is on its way."})
    verdict = validate_session(session)
    assert failed_checks(session) == ["grounding"]
    assert any("98765.43" in r for r in verdict.reasons)


def test_a_subtask_no_tool_call_served_is_reported_with_its_tool():
    session = finished()
    task = session.tasks[0]
    served = task.subtasks[0]
    extra = Subtask(
        description="again, for another record",
        intent=served.intent,
        slots={k: f"{v}-never-asked" for k, v in served.slots.items()},
    )
    session.tasks[0] = task.model_copy(update={"subtasks": [*task.subtasks, extra]})
    verdict = validate_session(session)
    # the user also declared the task done with the added subtask open, which the rules audit sees
    assert failed_checks(session) == ["required_tools", "rules"]
    assert any(f"subtask {len(task.subtasks) + 1}" in r for r in verdict.reasons)
    assert any("end_when_all_done unflagged" in r for r in verdict.reasons)


def _with_tool_error(reply: str):
    session = finished()
    call_at = next(i for i, m in enumerate(session.messages) if m.role is Role.ASSISTANT and m.tool_calls)
    result = session.messages[call_at + 1]
    meta = result.meta.model_copy(update={"tool_error": True})
    session.messages[call_at + 1] = result.model_copy(update={"content": '{"error": "no such row"}', "meta": meta})
    after = call_at + 1 + len(session.messages[call_at].tool_calls)
    session.messages[after] = ChatMessage(role=Role.ASSISTANT, content=reply)
    return session


def test_a_tool_error_the_assistant_glosses_over_is_rejected():
    session = _with_tool_error("All done, everything looks great.")
    assert "tool_errors" in failed_checks(session)


def test_a_tool_error_the_assistant_reports_is_accepted():
    session = _with_tool_error("Sorry, I couldn't find that record.")
    assert "tool_errors" not in failed_checks(session)


def _user_turn_saying(session, text: str, verdicts: list[RuleVerdict]):
    at = next(i for i, m in enumerate(session.messages) if m.role is Role.USER and i > 0)
    message = session.messages[at]
    meta = message.meta.model_copy(update={"verdicts": verdicts})
    session.messages[at] = message.model_copy(update={"content": message.text + " " + text, "meta": meta})
    return at


def test_a_rule_violation_nobody_flagged_is_rejected():
    session = finished()
    at = _user_turn_saying(session, "This is for my dataset, by the way.", [])
    verdict = validate_session(session)
    assert failed_checks(session) == ["rules"]
    assert any(f"message {at} breaks natural_style" in r and "dataset" in r for r in verdict.reasons)


def test_a_flagged_rule_violation_is_a_note_not_a_rejection():
    session = finished()
    flagged = [RuleVerdict(rule_id="natural_style", passed=False, detail="meta talk")]
    _user_turn_saying(session, "This is for my dataset, by the way.", flagged)
    verdict = validate_session(session)
    assert verdict.valid
    assert any("natural_style (flagged)" in n for n in verdict.notes)


def test_too_many_subtasks_in_one_turn_breaks_incremental_requests():
    session = finished()
    at = next(i for i, m in enumerate(session.messages) if m.role is Role.USER)
    message = session.messages[at]
    session.messages[at] = message.model_copy(
        update={"meta": MessageMeta(**{**message.meta.model_dump(), "subtasks": [0, 1, 2]})}
    )
    assert "rules" in failed_checks(session)
    assert any(f"message {at} breaks incremental_requests" in r for r in validate_session(session).reasons)


def test_rules_are_audited_with_the_engines_checks_not_just_two_kinds():
    session = finished()
    at = _user_turn_saying(session, "Is there anything else I can do for you?", [])
    verdict = validate_session(session)
    assert any(f"message {at} breaks stay_in_role" in r for r in verdict.reasons), verdict.reasons
    assert validate_session(session, rules=[]).valid


class _Judge:
    def __init__(self, answer):
        self.answer = answer
        self.seen = None

    async def judge(self, session, task_index):
        self.seen = (session.id, task_index)
        return self.answer(task_index) if callable(self.answer) else self.answer


def test_a_rubric_judge_adds_its_own_verdict():
    session = finished()
    accepted = asyncio.run(judge_session(session, _Judge({"valid": True, "reasons": []})))
    assert accepted.valid and accepted.checks[-1].name == "judge"
    judge = _Judge(lambda i: {"valid": i == 0, "reasoning": "the assistant invented a policy"})
    rejected = asyncio.run(judge_session(session, judge))
    assert judge.seen == (session.id, len(session.tasks) - 1) and not rejected.valid
    assert rejected.reasons == ["judge: task 2: the assistant invented a policy"]


def test_the_verdict_serialises_with_its_reasons():
    session = finished()
    session.finish_reason = FinishReason.LOOP_DETECTED
    data = validate_session(session).to_dict()
    assert data["valid"] is False and data["failed_checks"] == ["finish"]
    assert data["reasons"] == ["finish: the dialogue ended with loop_detected, not user_done"]
