"""Reads: no stale read inside one parallel step, no identical read repeated for nothing.

`stale_read`: one assistant message (a parallel step) both writes a record and reads it, and the
read shows a value other than the one written: the order of the two is undefined, so what the
read shows (and what the assistant then quotes) is stale.
`repeated_read` (a warning): the same read with the same arguments made again while no write
happened in between; the answer was already on the page.
"""

from __future__ import annotations

from collections import defaultdict

from turnloom.core.quality.checks.finding import Finding, Severity
from turnloom.core.quality.checks.view import CallView, SessionView, same_value, shown


def check_stale_read(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    steps: dict[int, list[CallView]] = defaultdict(list)
    for call in view.calls:
        steps[call.step].append(call)
    for step, calls in steps.items():
        if len(calls) < 2:
            continue
        for write in (c for c in calls if c.writes and c.ok and c.intent is not None):
            key = write.record_key()
            intent = write.intent
            if key is None or intent is None:
                continue
            for read in (c for c in calls if not c.writes and c.ok and c.table == intent.table):
                for row in read.records():
                    if key[0] not in row or not same_value(row[key[0]], key[1]):
                        continue
                    stale = [f for f, v in intent.fields.items() if f in row and not same_value(row[f], v)]
                    if intent.kind == "delete" or stale:
                        what = ", ".join(f"{f} {shown(row[f])!r} (written {shown(intent.fields[f])!r})" for f in stale)
                        findings.append(
                            Finding(
                                "stale_read",
                                (step, read.result_index, write.result_index),
                                f"message {step} reads {intent.table} {shown(key[1])} ({read.name}) in the same "
                                f"step that writes it ({write.name}); the read shows {what or 'the deleted record'}",
                            )
                        )
    return findings


def check_repeated_read(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    seen: dict[str, CallView] = {}
    for call in view.calls:
        if not call.ok:
            continue
        if call.writes:
            seen.clear()
            continue
        signature = call.signature
        first = seen.get(signature)
        if first is not None and first.step != call.step:
            findings.append(
                Finding(
                    "repeated_read",
                    (first.step, call.step),
                    f"message {call.step} repeats {call.name}({_args(call)}) from message {first.step} "
                    "with no write in between",
                    Severity.WARNING,
                )
            )
        seen.setdefault(signature, call)
    return findings


def _args(call: CallView) -> str:
    return ", ".join(f"{k}={shown(v)}" for k, v in call.arguments.items())
