"""Text: what the assistant says agrees with the tool results it reports on.

`text_consistent`, for every assistant reply and the successful reads since the user's turn:
- nothing contradicts a result: a field the reply names ("status cancelled", "total: 12.50")
  carries the value of that field in the record the line is about (the row whose id it names,
  or any of the rows when it names none);
- no key field left out: when a reply reports a record the user asked about (it names the
  record's id, or states several of its values), it states the record's status, totals,
  prices and dates (for each row of a list, its status).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from turnloom.core.models import Role
from turnloom.core.quality.checks.finding import Finding
from turnloom.core.quality.checks.view import SessionView, contains_value, same_value, shown

_KEY_FIELD = re.compile(r"(status|total|price|fare|fee|amount|cost|balance|wage|date|_on$)")
_STATUS = re.compile(r"status")


def human(field: str) -> str:
    return field.replace("_", " ")


def check_text_consistent(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    last_user = -1
    for index, message in enumerate(view.messages):
        if message.role is Role.USER:
            last_user = index
            continue
        if message.role is not Role.ASSISTANT or not message.text.strip():
            continue
        reads = [
            c for c in view.calls_between(last_user + 1, index) if c.ok and not c.writes and c.result_index < index
        ]
        lists = {id(row) for c in reads if isinstance(c.value, list) for row in c.records()}
        rows = [row for c in reads for row in c.records()]
        if not rows:
            continue
        fields = sorted({f for row in rows for f in row}, key=lambda f: -len(f))
        names = {human(f) for f in fields}
        for line in message.text.splitlines():
            about = _rows_named(line, rows) or rows
            for field, stated in _stated_fields(line, fields):
                if field == "id" or field.endswith("_id") or "\0" in stated or stated.lower().startswith(tuple(names)):
                    continue  # ids are grounding's business; "In total: orders count 2" states no total
                known = [row[field] for row in about if field in row and row[field] is not None]
                if known and not any(_agrees(stated, value) for value in known):
                    findings.append(
                        Finding(
                            "text_consistent",
                            (index, *_result_of(reads, about)),
                            f"message {index} says {human(field)} {stated!r}, but the result shows "
                            f"{' or '.join(repr(shown(v)) for v in known[:3])}",
                        )
                    )
        for row in rows:
            listed = id(row) in lists
            own_line = _line_naming(message.text, row)
            if own_line is None and (listed or _values_stated(message.text, row) < 3):
                continue
            scope = own_line if own_line is not None else message.text
            wanted = [f for f in row if row[f] is not None and (_STATUS if listed else _KEY_FIELD).search(f)]
            wanted = [f for f in wanted if not f.endswith("_id") and f != "id"]
            missing = [f for f in wanted if not _mentions(scope, row[f])]
            if missing:
                findings.append(
                    Finding(
                        "text_consistent",
                        (index, *_result_of(reads, [row])),
                        f"message {index} reports {_name(row)} without its "
                        + ", ".join(f"{human(f)} ({shown(row[f])})" for f in missing),
                    )
                )
    return findings


def _stated_fields(line: str, fields: list[str]) -> list[tuple[str, str]]:
    """(field, stated value) for each field the line names followed by a value."""
    out: list[tuple[str, str]] = []
    masked = line
    lowered = line.lower()
    for field in fields:
        if human(field) not in lowered:
            continue
        pattern = _field_pattern(field)
        for match in pattern.finditer(masked):
            out.append((field, match.group("v").strip().strip("'\"")))
        masked = pattern.sub(lambda m: "\0" * len(m.group(0)), masked)
    return out


@functools.lru_cache(maxsize=1024)
def _field_pattern(field: str) -> re.Pattern[str]:
    return re.compile(
        rf"\b{re.escape(human(field))}\b(?:\s+(?:is|was|of|now))?\s*[:=]?\s+(?P<v>[^,;\n]+?)(?=\s*(?:[,;\n]|\.\s|\.$|$))",
        re.IGNORECASE,
    )


def _agrees(stated: str, value: Any) -> bool:
    text = shown(value).lower()
    said = stated.lower()
    if same_value(said, value) or said.startswith(text) or text.startswith(said):
        return True
    return False


def _names_id(line: str, value: Any) -> bool:
    """Whether the line names a record by its own id ("id 16", not "doctor id 16")."""
    for match in re.finditer(rf"\bid:?\s+{re.escape(shown(value))}\b", line, re.IGNORECASE):
        before = line[: match.start()].rstrip().lower()
        word = before.rsplit(None, 1)[-1] if before else ""
        if not word or not word[-1].isalpha() or word in ("with", "has", "is", "the", "record", "of", "for"):
            return True
    return False


def _rows_named(line: str, rows: list[dict]) -> list[dict]:
    return [row for row in rows if "id" in row and shown(row["id"]) in line and _names_id(line, row["id"])]


def _line_naming(text: str, row: dict) -> str | None:
    """The line about `row`: of the lines naming its id, the one stating most of its values."""
    if "id" not in row:
        return None
    lines = [line for line in text.splitlines() if shown(row["id"]) in line and _names_id(line, row["id"])]
    # on a tie the later line: a reply reports what it read last after what it listed first
    return max(reversed(lines), key=lambda line: _values_stated(line, row), default=None)


def _mentions(text: str, value: Any) -> bool:
    return contains_value(text, shown(value))


def _values_stated(text: str, row: dict) -> int:
    return sum(1 for v in row.values() if v is not None and len(shown(v)) > 1 and _mentions(text, v))


def _name(row: dict) -> str:
    return f"record {shown(row['id'])}" if "id" in row else "a record"


def _result_of(reads: list, rows: list[dict]) -> tuple[int, ...]:
    ids = {id(r) for r in rows}
    return tuple(sorted({c.result_index for c in reads if any(id(r) in ids for r in c.records())}))[:3]
