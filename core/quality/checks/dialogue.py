"""The dialogue as a whole: it finished, errors were not ignored, values are grounded, rules held.

- `finish`: the simulated user finished (`user_done`), not a cap or an error.
- `tool_errors`: after a failed call the assistant tries again or tells the user.
- `grounding`: every value the assistant states appears in a tool result or an earlier message.
- `rules`: each user turn is re-checked against the rules in force with the engine's own rule
  checks; a violation its recorded verdicts do not show is a failure (flagged ones are fine).
  Right after the engine ran the dialogue (`generate`) the verdicts it recorded on every turn
  are that check, made on the same prefix, and are read instead of checking again.
"""

from __future__ import annotations

import re

from turnloom.core.lifecycle.dialogue import domain_reading
from turnloom.core.models import FinishReason, Role, RuleVerdict
from turnloom.core.quality.checks.finding import Finding
from turnloom.core.quality.checks.view import SessionView
from turnloom.core.quality.grounding import ungrounded_values
from turnloom.core.rules.check import CHECKS as RULE_CHECKS
from turnloom.core.rules.check import audit_session

_ACKNOWLEDGES_FAILURE = re.compile(
    r"\b(error|fail\w*|couldn'?t|could not|can'?t|cannot|unable|not found|no (?:such|record|matching)|"
    r"invalid|sorry|unfortunately|didn'?t work|problem|issue|doesn'?t exist|does not exist)\b",
    re.IGNORECASE,
)


def check_finish(view: SessionView) -> list[Finding]:
    session = view.session
    if session.finish_reason is FinishReason.USER_DONE:
        return []
    reason = session.finish_reason or "unfinished"
    last = max(len(session.messages) - 1, 0)
    return [Finding("finish", (last,), f"the dialogue ended with {reason}, not user_done")]


def check_tool_errors(view: SessionView) -> list[Finding]:
    messages = view.messages
    findings: list[Finding] = []
    for index, message in enumerate(messages):
        if message.role is not Role.TOOL or not message.meta.tool_error:
            continue
        reply_at = next((i for i in range(index + 1, len(messages)) if messages[i].role is not Role.TOOL), None)
        reply = messages[reply_at] if reply_at is not None else None
        if reply is None or reply.role is not Role.ASSISTANT:
            findings.append(Finding("tool_errors", (index,), f"the error from {message.name or 'a tool'} got no reply"))
        elif not reply.tool_calls and not _ACKNOWLEDGES_FAILURE.search(reply.text):
            findings.append(
                Finding(
                    "tool_errors",
                    (index, reply_at or index),
                    f"the error from {message.name or 'a tool'} at message {index} was ignored "
                    "(no retry, and the reply does not mention it)",
                )
            )
    return findings


def check_grounding(view: SessionView) -> list[Finding]:
    # the results the view parsed already: a JSON array there is the one `ungrounded_values` would count
    listed = {c.result_index: len(c.value) for c in view.calls if c.result_index >= 0 and isinstance(c.value, list)}
    problems = ungrounded_values(view.messages, listed=listed)
    by_message: dict[int, list[str]] = {}
    for problem in problems:
        by_message.setdefault(problem.message_index, []).append(problem.value)
    return [
        Finding(
            "grounding",
            (index,),
            f"message {index} states {', '.join(map(repr, values[:4]))}, found in no tool result or earlier message",
        )
        for index, values in by_message.items()
    ]


def _recorded(view: SessionView) -> dict[int, list[RuleVerdict]] | None:
    """The verdicts the engine's rule checker recorded on every user turn as it was made, when
    every turn has one for each enabled rule with a check (else None: the turns are checked again).
    Only for a dialogue that just ended under the engine: it judged each turn on the same prefix
    with the same checks, so checking again would repeat its work."""
    wanted = {rule.id for rule in view.session.config.rules if rule.enabled and (rule.kind or "") in RULE_CHECKS}
    out: dict[int, list[RuleVerdict]] = {}
    for index in view.user_turns():
        verdicts = view.messages[index].meta.verdicts
        if not wanted <= {v.rule_id for v in verdicts}:
            return None
        out[index] = verdicts
    return out


def check_rules(view: SessionView) -> list[Finding]:
    session = view.session
    rules = session.config.rules
    if not rules:
        return []
    findings: list[Finding] = []
    audit = _recorded(view) if view.live else None
    if audit is None:
        audit = audit_session(session, rules, domain_reading(session))
    for index, message in enumerate(session.messages):
        if message.role is not Role.USER:
            continue
        flagged = {v.rule_id for v in message.meta.violations}
        for verdict in audit.get(index, []):
            if not verdict.passed and verdict.rule_id not in flagged:
                detail = f": {verdict.detail}" if verdict.detail else ""
                findings.append(
                    Finding("rules", (index,), f"message {index} breaks {verdict.rule_id} unflagged{detail}")
                )
    return findings
