"""One verdict per dialogue, stored in the session with a digest of what it judged.

`evaluate` runs the named checks (`quality.checks`) and turns their findings into a
`DialogueVerdict`: accepted, or rejected with every failure (check, messages, reason);
warnings are kept beside but never reject. `session_digest` fingerprints what a verdict
judged (tools, tasks, transcript, write log, finish, rules, and the checks' version), so a
session changed since (edited in the TUI, forked, changed by hand) no longer matches it:
`verdict_for` then judges it again. `judged_verdict` adds the rubric judge (paper Sec. 3.4)
when one is given: its decision per task, reasons, tokens and requests go into the verdict
and its tokens into the session's usage. Offline, the named checks are the verdict.

Saving sessions and choosing whether a judge runs (the `judge` role) are left to callers
(`batch.job`, the `stats` and `export` commands, the TUI).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from turnloom.core.models import (
    CheckFailure,
    DialogueVerdict,
    JudgeRecord,
    Session,
    ToolSpec,
    Usage,
)
from turnloom.core.quality.checks import CHECK_NAMES, MAX_MESSAGES, Finding, Severity, run_checks

if TYPE_CHECKING:
    from turnloom.core.players.llm.judge import Judgment
    from turnloom.core.players.setup import BackendSetup

# bump when a check changes what it accepts: every stored verdict is then judged again
CHECKS_VERSION = "13.5"
JUDGE_CHECK = "judge"
ALL_CHECKS = (*CHECK_NAMES, JUDGE_CHECK)


class Judge(Protocol):
    """What `judged_verdict` needs of a judge (`players.llm.judge.RubricJudge`)."""

    async def judge(self, session: Session, task_index: int) -> Judgment: ...


def session_digest(session: Session, max_messages: int = MAX_MESSAGES) -> str:
    """A fingerprint of everything a verdict judges (not usage, not the verdict itself), and the length limit."""
    body = session.model_dump_json(
        include={"domain", "db_path", "disabled_tools", "tasks", "messages", "write_log", "finish_reason"}
    )
    rules = session.config.model_dump_json(include={"mode", "execution", "rules"})
    tools = _tools_digest(session.tools)
    return hashlib.sha256(f"{CHECKS_VERSION}\0{max_messages}\0{rules}\0{tools}\0{body}".encode()).hexdigest()[:32]


# a batch's dialogues share their domain's tools: comparing with the last few seen (a C-level comparison of
# the specs' field values, which are all the JSON holds) is a fraction of the cost of serialising them again
_TOOLS_SEEN: list[tuple[list[dict[str, Any]], str]] = []


def _tools_digest(tools: list[ToolSpec]) -> str:
    fields = [spec.__dict__ for spec in tools]
    for seen, digest in _TOOLS_SEEN:
        if seen == fields:
            return digest
    body = "[" + ",".join(spec.model_dump_json() for spec in tools) + "]"
    digest = hashlib.sha256(body.encode()).hexdigest()
    _TOOLS_SEEN.insert(0, ([spec.model_copy(deep=True).__dict__ for spec in tools], digest))
    del _TOOLS_SEEN[8:]
    return digest


def evaluate(
    session: Session, *, live: bool = False, max_messages: int = MAX_MESSAGES, digest: str | None = None
) -> DialogueVerdict:
    """The named checks' verdict on `session` (not stored; see `verdict_for`).

    `live`: the dialogue just ended under the engine (see `checks.run_checks`); `max_messages`:
    the transcript-length limit of the checks; `digest`: the session's, when the caller has it.
    """
    findings = run_checks(session, live=live, max_messages=max_messages)
    failures = [_failure(f) for f in findings if f.severity is Severity.REJECT]
    warnings = [_failure(f) for f in findings if f.severity is Severity.WARNING]
    return DialogueVerdict(
        accepted=not failures,
        digest=digest or session_digest(session, max_messages),
        failures=failures,
        warnings=warnings,
        judged_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
    )


def current_verdict(session: Session, max_messages: int = MAX_MESSAGES) -> DialogueVerdict | None:
    """The stored verdict if it judged the session as it is now, else None."""
    verdict = session.verdict
    if verdict is None or verdict.digest != session_digest(session, max_messages):
        return None
    return verdict


def verdict_for(session: Session, *, live: bool = False, max_messages: int = MAX_MESSAGES) -> DialogueVerdict:
    """The session's current verdict: the stored one when still current, else the checks' (stored in it)."""
    digest = session_digest(session, max_messages)
    verdict = session.verdict
    if verdict is None or verdict.digest != digest:
        verdict = session.verdict = evaluate(session, live=live, max_messages=max_messages, digest=digest)
    return verdict


def needs_judge(session: Session) -> bool:
    """Whether a judge has yet to rule on the session as it is now."""
    verdict = current_verdict(session)
    return verdict is None or verdict.judge is None


async def judged_verdict(
    session: Session, judge: Judge | None, profile: str | None = None, *, live: bool = False
) -> DialogueVerdict:
    """The checks' verdict plus, with a judge, the judge's on every task; stored in the session.

    A current verdict the judge already ruled on is returned as is (nothing is asked again).

    Args:
        session: the dialogue; its `verdict` and `usage` are updated.
        judge: the rubric judge, or None offline (the checks alone are the verdict).
        profile: the judge's profile name, recorded in the verdict.
        live: the dialogue just ended under the engine (its rule verdicts are fresh).

    Returns:
        The verdict.

    Raises:
        BackendError: the judge's endpoint failed (the checks' verdict is stored before).
    """
    verdict = verdict_for(session, live=live)
    if judge is None or verdict.judge is not None:
        return verdict
    reasons: list[str] = []
    failures: list[CheckFailure] = []
    usage, requests, model = Usage(), 0, None
    for index, task in enumerate(session.tasks):
        judgment = await judge.judge(session, index)
        usage = usage + judgment.spend.usage
        requests += judgment.spend.requests
        model = judgment.spend.model or model
        reasons.append(f"task {index + 1}: {'valid' if judgment.valid else 'invalid'}: {judgment.reasoning}")
        if not judgment.valid:
            failures.append(
                CheckFailure(
                    check=JUDGE_CHECK, messages=[task.introduced_at], reason=f"task {index + 1}: {judgment.reasoning}"
                )
            )
    record = JudgeRecord(
        valid=not failures, reasons=reasons, profile=profile, model=model, usage=usage, requests=requests
    )
    session.usage = session.usage + usage
    verdict = verdict.model_copy(
        update={"judge": record, "failures": verdict.failures + failures, "accepted": verdict.accepted and not failures}
    )
    session.verdict = verdict
    return verdict


async def settle_verdict(session: Session, backends: BackendSetup | None) -> DialogueVerdict:
    """The verdict of a dialogue that just ended: the checks, and the judge when its role is mapped.

    Raises:
        BackendError: the judge's endpoint failed.
    """
    judge = None
    profile = session.config.roles.get(JUDGE_CHECK)
    if backends is not None and profile:
        from turnloom.core.players.setup import build_judge

        judge = build_judge(session, backends)
    return await judged_verdict(session, judge, profile if judge is not None else None, live=True)


def failed_checks(verdict: DialogueVerdict) -> list[str]:
    """The names of the checks that rejected the dialogue, in check order, once each."""
    names = {f.check for f in verdict.failures}
    return [name for name in ALL_CHECKS if name in names]


def reasons(verdict: DialogueVerdict) -> list[str]:
    """Every failure as `check: reason`."""
    return [f"{f.check}: {f.reason}" for f in verdict.failures]


def _failure(finding: Finding) -> CheckFailure:
    return CheckFailure(
        check=finding.check,
        messages=sorted(set(finding.messages)),
        reason=finding.reason,
        warning=finding.severity is Severity.WARNING,
    )
