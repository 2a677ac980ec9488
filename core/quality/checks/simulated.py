"""Simulated results: stable ids, no placeholder strings, aggregates that add up.

`simulated_values` (applied to every tool result; real SQL passes by construction):
- stable: the same record (table and id) shown twice with a field changed, while no write
  touched it in between, or the same read with the same arguments answered differently;
- no placeholders: strings like `word-12`, `lorem ipsum`, `placeholder`, `TODO`, `xxx`;
- aggregates add up: a summary with a count, a total and an average of the same thing has
  average x n = total (to rounding) for some n <= count (SQL's AVG and SUM skip nulls, COUNT(*)
  does not; both are null when no value is there), and nothing summed over zero rows.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from turnloom.core.quality.checks.finding import Finding
from turnloom.core.quality.checks.view import CallView, SessionView, same_value, shown

PLACEHOLDER = re.compile(
    r"^(?:[a-z]{3,}-\d{1,3}|lorem ipsum.*|placeholder|todo|tbd|xxx+|foo|bar|string|sample text)$", re.I
)


def check_simulated_values(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    records: dict[tuple[str, str], tuple[CallView, dict]] = {}
    answers: dict[str, CallView] = {}
    for call in view.calls:
        if not call.ok:
            continue
        if call.writes:
            _written(records, call)
            answers.clear()
            continue
        signature = call.signature
        earlier = answers.get(signature)
        if earlier is not None and earlier.step != call.step and earlier.value != call.value:
            findings.append(
                Finding(
                    "simulated_values",
                    (earlier.result_index, call.result_index),
                    f"{call.name} with the same arguments answered differently at messages "
                    f"{earlier.result_index} and {call.result_index}, with no write in between",
                )
            )
        answers[signature] = call
        for row in call.records():
            findings += _placeholders(call, row)
            findings += _aggregates(call, row)
            if "id" not in row:
                continue
            key = (call.table, shown(row["id"]))
            seen = records.get(key)
            if seen is not None:
                changed = [f for f in row if f in seen[1] and not same_value(row[f], seen[1][f])]
                if changed:
                    findings.append(
                        Finding(
                            "simulated_values",
                            (seen[0].result_index, call.result_index),
                            f"{call.table} {key[1]} changed {', '.join(changed)} between messages "
                            f"{seen[0].result_index} and {call.result_index} with no write to it",
                        )
                    )
            records[key] = (call, row)
    return findings


def _written(records: dict[tuple[str, str], tuple[CallView, dict]], call: CallView) -> None:
    """Fold a write into the records seen: the fields it set take their new values; other fields stay."""
    key, intent = call.record_key(), call.intent
    if key is None or intent is None or key[0] != "id":
        for stale in [k for k in records if k[0] == call.table]:
            del records[stale]
        return
    seen = records.get((call.table, shown(key[1])))
    if seen is None:
        return
    if intent.kind == "delete":
        del records[(call.table, shown(key[1]))]
    else:
        records[(call.table, shown(key[1]))] = (seen[0], {**seen[1], **intent.fields})


def _placeholders(call: CallView, row: dict[str, Any]) -> list[Finding]:
    bad = [f"{f}={v!r}" for f, v in row.items() if isinstance(v, str) and _is_placeholder(v)]
    if not bad:
        return []
    return [
        Finding(
            "simulated_values",
            (call.result_index,),
            f"the result at message {call.result_index} ({call.name}) holds placeholder values: {', '.join(bad[:4])}",
        )
    ]


@functools.lru_cache(maxsize=8192)
def _is_placeholder(value: str) -> bool:
    # results repeat their strings (statuses, names, emails) from row to row and call to call
    return PLACEHOLDER.match(value.strip()) is not None


def _adds_up(count: float, avg: Any, total: Any) -> bool:
    """Whether avg and total fit a count of rows as SQL computes them: COUNT(*) counts every row,
    AVG and SUM only the non-null values (both null when every value is null, or there are no rows)."""
    numbers = (int, float)
    if avg is None or total is None:
        return avg is None and total is None
    if not isinstance(avg, numbers) or not isinstance(total, numbers) or isinstance(avg, bool):
        return False
    if count == 0:
        return False  # nothing to sum, yet a sum
    if abs(avg) < 1e-9:
        return abs(total) < 0.01
    n = total / avg  # the rows with a value
    return round(n) >= 1 and round(n) <= count and abs(avg * round(n) - total) <= 0.006 * round(n) + 0.01


def _aggregates(call: CallView, row: dict[str, Any]) -> list[Finding]:
    counts = [f for f in row if f == "count" or f.endswith("_count") or f.startswith("count_")]
    if len(counts) != 1 or not isinstance(row[counts[0]], (int, float)):
        return []
    count = row[counts[0]]
    out = []
    for field, avg in row.items():
        if not field.startswith("avg_"):
            continue
        base = field.removeprefix("avg_")
        total_field = next((f for f in (f"total_{base}", f"sum_{base}") if f in row), None)
        if total_field is None:
            continue
        wrong = not _adds_up(count, avg, row[total_field])
        total = row[total_field]
        if wrong:
            out.append(
                Finding(
                    "simulated_values",
                    (call.result_index,),
                    f"the summary at message {call.result_index} does not add up: {field} {shown(avg)} x "
                    f"{counts[0]} {shown(count)} != {total_field} {shown(total)}",
                )
            )
    return out
