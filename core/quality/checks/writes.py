"""Writes: a write's effect is confirmed by the reads after it, and stays put until the next write.

`closed_record`: no change is made to a record the dialogue has shown closed (cancelled,
terminated, deleted ...) unless the change is to its status: moving the seat on a booking an
earlier turn cancelled, or paying into a terminated contract, is a change a curator rejects.

`write_confirmed`: after a successful write, the first later read that returns the same record
(same table, same key) with a field the write set must show the written value, unless another
write touched that record in between. A simulated tool that "forgets" a write, or a database
that did not take it, fails here. Stale reads inside one parallel step are `reads`' business.
"""

from __future__ import annotations

import functools

from turnloom.core.quality.checks.finding import Finding
from turnloom.core.quality.checks.view import CallView, SessionView, same_value, shown


def check_write_confirmed(view: SessionView) -> list[Finding]:
    return list(view.memo("write_confirmed", lambda: _write_confirmed(view)))


def _write_confirmed(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    writes = [c for c in view.calls if c.ok and c.writes and not c.empty]
    for write in writes:
        intent = write.intent
        key = write.record_key()
        if intent is None or key is None or intent.kind == "delete" or not intent.fields:
            continue
        pending = dict(intent.fields)
        for later in view.calls:
            if not pending:
                break
            if later.result_index <= write.result_index or later.step == write.step or not later.ok:
                continue
            if later.writes:
                if _touches(later, intent.table, key):
                    pending = {
                        f: v for f, v in pending.items() if f not in (later.intent.fields if later.intent else {})
                    }
                continue
            for row in _rows_of(later, intent.table, key):
                for column, written in list(pending.items()):
                    if column in row:
                        del pending[column]
                        if not same_value(row[column], written):
                            findings.append(
                                Finding(
                                    "write_confirmed",
                                    (write.result_index, later.result_index),
                                    f"{write.name} set {intent.table} {shown(key[1])} {column} to "
                                    f"{shown(written)!r}, but the read at message {later.result_index} "
                                    f"({later.name}) shows {shown(row[column])!r}",
                                )
                            )
    return findings


def _touches(call: CallView, table: str, key: tuple[str, object]) -> bool:
    other = call.record_key()
    return call.table == table and other is not None and other[0] == key[0] and same_value(other[1], key[1])


def _rows_of(call: CallView, table: str, key: tuple[str, object]) -> list[dict]:
    """The rows of a read's result that are the record (table, key)."""
    if call.table != table:
        return []
    return [row for row in call.records() if key[0] in row and same_value(row[key[0]], key[1])]


# statuses after which a record takes no more changes but a change of status
CLOSED = frozenset(
    {"cancelled", "canceled", "terminated", "closed", "deleted", "refunded", "void", "voided", "expired"}
)


def check_closed_record(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    status: dict[tuple[str, str], tuple[str, str, int]] = {}  # record -> (field, value, message that showed it)
    for call in view.calls:
        if not call.ok or call.empty:
            continue
        intent = call.intent
        if call.writes and intent is not None and (key := call.record_key()) is not None:
            record = (intent.table, shown(key[1]))
            known = status.get(record)
            if known is not None and known[1].lower() in CLOSED and known[0] not in intent.fields:
                findings.append(
                    Finding(
                        "closed_record",
                        (known[2], call.result_index),
                        f"{call.name} at message {call.result_index} changes {intent.table} {record[1]}, which "
                        f"message {known[2]} shows {known[1]}",
                    )
                )
            for field, value in intent.fields.items():
                if _is_status(field) and isinstance(value, str):
                    status[record] = (field, value, call.result_index)
        elif not call.writes:
            for row in call.records():
                if "id" not in row:
                    continue
                for field, value in row.items():
                    if _is_status(field) and isinstance(value, str):
                        status[(call.table, shown(row["id"]))] = (field, value, call.result_index)
    return findings


@functools.lru_cache(maxsize=4096)
def _is_status(field: str) -> bool:
    return field.lower() == "status" or field.lower().endswith("_status")
