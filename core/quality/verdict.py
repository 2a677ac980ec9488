"""A verdict per dialogue, with reasons: is it fit to train on?

Offline, deterministic checks, each named:

- `finish`: the simulated user finished (`user_done`), not a cap or an error.
- `required_tools`: every subtask of every task was served by a successful call
  of its intent's tools (the final call with the subtask's own values, matched
  as the offline user simulator matches it).
- `grounding`: every value the assistant states appears in a tool result or an
  earlier message (`grounding.ungrounded_values`).
- `tool_errors`: no tool error ignored: after a failed call the assistant either
  tries again or tells the user something went wrong.
- `rules`: no rule violation left unflagged: each user turn is re-checked
  against the rules in force with the engine's own checks (`rulecheck.audit_session`),
  and a violation its recorded verdicts do not show is a failure (flagged ones
  are kept as notes).

With a rubric judge (the `judge` role of a `RoleSet`) `judge_session` adds its
verdict too. Filtering exports and counting acceptance is left to callers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from turnloom.core.models import ChatMessage, FinishReason, Role, Rule, Session
from turnloom.core.quality.grounding import ungrounded_values
from turnloom.core.rules.check import audit_session

if TYPE_CHECKING:
    from turnloom.core.players.offline.knowledge import DomainKnowledge

CHECKS = ("finish", "required_tools", "grounding", "tool_errors", "rules")

# words with which an assistant tells the user that something failed
_ACKNOWLEDGES_FAILURE = re.compile(
    r"\b(error|fail\w*|couldn'?t|could not|can'?t|cannot|unable|not found|no (?:such|record|matching)|"
    r"invalid|sorry|unfortunately|didn'?t work|problem|issue|doesn'?t exist|does not exist)\b",
    re.IGNORECASE,
)


@dataclass
class Check:
    """One named check's outcome."""

    name: str
    passed: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    """Whether a dialogue is accepted, and why not."""

    session_id: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def reasons(self) -> list[str]:
        """Every failure, prefixed with its check's name."""
        return [f"{check.name}: {reason}" for check in self.checks for reason in check.reasons]

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "valid": self.valid,
            "reasons": self.reasons,
            "failed_checks": [c.name for c in self.checks if not c.passed],
            "notes": self.notes,
        }


def validate_session(session: Session, rules: list[Rule] | None = None) -> Verdict:
    """The offline verdict on one dialogue.

    Args:
        session: the dialogue.
        rules: the rules to re-check user turns against; the session's rules in force when None.

    Returns:
        The verdict (valid only if every check passed).
    """
    verdict = Verdict(session.id)
    knowledge = _knowledge(session, verdict.notes)
    verdict.checks.append(_check_finish(session))
    verdict.checks.append(_check_required_tools(session, knowledge, verdict.notes))
    verdict.checks.append(_check_grounding(session))
    verdict.checks.append(_check_tool_errors(session))
    verdict.checks.append(
        _check_rules(session, session.config.rules if rules is None else rules, knowledge, verdict.notes)
    )
    return verdict


async def judge_session(session: Session, judge: Any, verdict: Verdict | None = None) -> Verdict:
    """The offline verdict plus the rubric judge's (the `judge` role, `backends.judge.RubricJudge`).

    The judge is awaited once per task as `judge.judge(session, task_index)` and
    returns a judgment with `valid` and `reasoning` (a bool, or a dict with
    `valid`/`passed` and `reasons`/`failures`, is accepted too).

    Returns:
        The verdict with a `judge` check appended (failing with each rejected task's reasoning).

    Raises:
        BackendError: the judge's endpoint failed.
    """
    verdict = verdict or validate_session(session)
    reasons: list[str] = []
    for index in range(len(session.tasks)):
        passed, why = _judge_result(await judge.judge(session, index))
        if not passed:
            reasons += [f"task {index + 1}: {w}" for w in why] or [f"task {index + 1}: rejected by the rubric judge"]
    verdict.checks.append(Check("judge", not reasons, reasons))
    return verdict


def _judge_result(result: Any) -> tuple[bool, list[str]]:
    if isinstance(result, bool):
        return result, []
    get = result.get if isinstance(result, dict) else lambda key, default=None: getattr(result, key, default)
    passed = get("valid", None)
    if passed is None:
        passed = get("passed", False)
    reasons = get("reasons", None) or get("failures", None) or []
    if isinstance(reasons, str):
        reasons = [reasons]
    if not reasons and get("reasoning", None):
        reasons = [get("reasoning")]
    return bool(passed), [str(r) for r in reasons]


# ---------------------------------------------------------------- checks


def _check_finish(session: Session) -> Check:
    if session.finish_reason is FinishReason.USER_DONE:
        return Check("finish", True)
    reason = session.finish_reason or "unfinished"
    return Check("finish", False, [f"the dialogue ended with {reason}, not user_done"])


def _knowledge(session: Session, notes: list[str]) -> DomainKnowledge | None:
    """The domain's offline knowledge (intents, the simulator's progress), or None with a note why not."""
    from turnloom.core.players.offline.knowledge import knowledge_for

    try:
        return knowledge_for(session)
    except Exception as exc:  # noqa: BLE001 - no pack, no check; say so
        notes.append(f"required_tools: not checked ({exc})")
        return None


def _check_required_tools(session: Session, knowledge: DomainKnowledge | None, notes: list[str]) -> Check:
    from turnloom.core.domains.progress import serves as _serves

    if knowledge is None:
        return Check("required_tools", True)
    successes = _successful_calls(session.messages)
    reasons: list[str] = []
    for t, task in enumerate(session.tasks):
        calls = [(name, args) for index, name, args in successes if index >= task.introduced_at]
        for s, subtask in enumerate(task.subtasks):
            try:
                intent = knowledge.intent(subtask.intent)
            except Exception:  # noqa: BLE001 - an LLM-written task's free-form intent
                notes.append(f"required_tools: task {t + 1} subtask {s + 1} names no known intent ({subtask.intent})")
                continue
            called = {name for name, _ in calls}
            missing = [step.tool for step in intent.steps if step.tool not in called]
            if missing:
                reasons.append(
                    f"task {t + 1} subtask {s + 1} ({subtask.intent}): {', '.join(missing)} never called successfully"
                )
            elif not any(_serves(intent, subtask.slots, name, args) for name, args in calls):
                values = ", ".join(f"{k}={v}" for k, v in subtask.slots.items())
                reasons.append(
                    f"task {t + 1} subtask {s + 1} ({subtask.intent}): no successful "
                    f"{intent.steps[-1].tool} call with {values or 'its values'}"
                )
    return Check("required_tools", not reasons, reasons)


def _successful_calls(messages: list[ChatMessage]) -> list[tuple[int, str, dict]]:
    """(index of the result, tool, arguments) for every call whose result was not an error."""
    calls: dict[str, tuple[str, dict]] = {}
    out: list[tuple[int, str, dict]] = []
    for index, message in enumerate(messages):
        if message.role is Role.ASSISTANT:
            for call in message.tool_calls:
                try:
                    calls[call.id] = (call.name, json.loads(call.arguments))
                except json.JSONDecodeError:
                    calls[call.id] = (call.name, {})
        elif message.role is Role.TOOL and not message.meta.tool_error and message.tool_call_id in calls:
            name, arguments = calls[message.tool_call_id]
            out.append((index, name, arguments))
    return out


def _check_grounding(session: Session) -> Check:
    problems = ungrounded_values(session.messages)
    reasons = [
        f"message {p.message_index} states {p.value!r}, found in no tool result or earlier message"
        for p in problems[:5]
    ]
    if len(problems) > 5:
        reasons.append(f"... and {len(problems) - 5} more")
    return Check("grounding", not problems, reasons)


def _check_tool_errors(session: Session) -> Check:
    messages = session.messages
    reasons: list[str] = []
    for index, message in enumerate(messages):
        if message.role is not Role.TOOL or not message.meta.tool_error:
            continue
        reply = next((m for m in messages[index + 1 :] if m.role is not Role.TOOL), None)
        if reply is None or reply.role is not Role.ASSISTANT:
            reasons.append(f"message {index}: the error from {message.name or 'a tool'} got no reply")
        elif not reply.tool_calls and not _ACKNOWLEDGES_FAILURE.search(reply.text):
            reasons.append(
                f"message {index}: the error from {message.name or 'a tool'} was ignored "
                "(no retry, and the reply does not mention it)"
            )
    return Check("tool_errors", not reasons, reasons)


def _check_rules(session: Session, rules: list[Rule], knowledge: DomainKnowledge | None, notes: list[str]) -> Check:
    reasons: list[str] = []
    audit = audit_session(session, rules, knowledge) if rules else {}
    for index, message in enumerate(session.messages):
        if message.role is not Role.USER:
            continue
        flagged = {v.rule_id for v in message.meta.violations}
        for rule_id in sorted(flagged):
            notes.append(f"rules: message {index} breaks {rule_id} (flagged)")
        for verdict in audit.get(index, []):
            if not verdict.passed and verdict.rule_id not in flagged:
                detail = f": {verdict.detail}" if verdict.detail else ""
                reasons.append(f"message {index} breaks {verdict.rule_id} unflagged{detail}")
    return Check("rules", not reasons, reasons)
