"""Reads: no stale read inside one parallel step, no identical read repeated for nothing.

`stale_read`: one assistant message (a parallel step) both writes a record and reads it, and the
read shows a value other than the one written: the order of the two is undefined, so what the
read shows (and what the assistant then quotes) is stale.
`repeated_read` (a warning): while no write happened in between, the same read made again with
the same arguments, or a read under other arguments (by email after by id) that returns the same
records (table and primary key) as an earlier read, every field as that read showed it: the
answer was already on the page. A record's detail after a list that held it is not a repeat.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

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
    # the records a read returned (table, keys) -> the latest read that returned exactly those, by key
    returned: dict[frozenset[tuple[str, str]], tuple[CallView, dict[tuple[str, str], dict[str, Any]]]] = {}
    for call in view.calls:
        if not call.ok:
            continue
        if call.writes:
            seen.clear()
            returned.clear()
            continue
        signature = call.signature
        first = seen.get(signature)
        keyed = _keyed_rows(call)
        records = frozenset(keyed) if keyed else None
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
        elif records is not None and (before := returned.get(records)) is not None:
            earlier = before[0]
            if earlier.step != call.step and _nothing_new(keyed, before[1]):
                findings.append(
                    Finding(
                        "repeated_read",
                        (earlier.step, call.step),
                        f"message {call.step} reads {_what(keyed)} again with {call.name}({_args(call)}), as "
                        f"message {earlier.step} returned it ({earlier.name}({_args(earlier)})), with no write in between",
                        Severity.WARNING,
                    )
                )
        if first is None:
            seen[signature] = call
        if records is not None:
            returned[records] = (call, keyed)
    return findings


def _keyed_rows(call: CallView) -> dict[tuple[str, str], dict[str, Any]]:
    """The result's rows by record (table, primary key: `id`, else `<table>_id`); empty when one has neither."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    table = call.table
    for row in call.records():
        value = row.get("id")
        if value is None or isinstance(value, (dict, list)):
            value = row.get(f"{table}_id")
            if value is None or isinstance(value, (dict, list)):
                return {}
        out[(table, shown(value))] = row
    return out


def _nothing_new(rows: dict[tuple[str, str], dict[str, Any]], before: dict[tuple[str, str], dict[str, Any]]) -> bool:
    """Every field of every row was in the earlier result, with the same value (a read that returns a field
    the earlier one did not, a record's detail after a summary of it, tells something new)."""
    for key, row in rows.items():
        earlier = before[key]
        if any(f not in earlier or not same_value(earlier[f], v) for f, v in row.items()):
            return False
    return True


def _what(rows: dict[tuple[str, str], dict[str, Any]]) -> str:
    if len(rows) == 1:
        ((table, key),) = rows
        return f"{table} {key}"
    table = next(iter(rows))[0]
    return f"the same {len(rows)} {table} records"


def _args(call: CallView) -> str:
    return ", ".join(f"{k}={shown(v)}" for k, v in call.arguments.items())
