"""The records an answer reports, as the changes of the same exchange left them.

A user who asks "what's on file for me, and put my new phone on it" gets one answer after
the read and the change. Reported as read, the record would show the phone the change just
replaced, and the answer would say the old number beside "I've updated your phone". The
answer reports each record with the exchange's successful updates folded in: what the
record is now, which is what the user asked about.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Protocol, TypeVar

from turnloom.core.models import ChatMessage, Role, ToolSpec
from turnloom.core.players.offline.shown_records import table_of

_UPDATE = re.compile(r"^\s*UPDATE\s+[\"`\[]?(\w+)", re.I)


class _Outcome(Protocol):
    tool: str
    result: object
    caveat: tuple[str, dict] | None


OutcomeT = TypeVar("OutcomeT", bound=_Outcome)


def as_changed(
    outcomes: list[OutcomeT], messages: list[ChatMessage], user_index: int, available: dict[str, ToolSpec]
) -> list[OutcomeT]:
    """`outcomes` with every row the exchange since `user_index` updated showing the new values."""
    changes = _updates(messages, user_index, available)
    if not changes:
        return outcomes
    out: list[OutcomeT] = []
    for outcome in outcomes:
        result = _as_changed(outcome.tool, outcome.result, changes, available)
        if result is not outcome.result:
            outcome = dataclasses.replace(outcome, result=result)  # type: ignore[type-var]
        if outcome.caveat is not None:  # the record the chain went through, named first
            tool, row = outcome.caveat
            now = _as_changed(tool, row, changes, available)
            if now is not row:
                outcome = dataclasses.replace(outcome, caveat=(tool, now))  # type: ignore[type-var]
        out.append(outcome)
    return out


def _as_changed(tool: str, result: Any, changes: dict[str, list], available: dict[str, ToolSpec]) -> Any:
    """A read's result with the changed rows of its table replaced (the same object if none changed)."""
    spec = available.get(tool)
    table = table_of(spec) if spec is not None and not spec.writes else None
    if table is None or not isinstance(result, (dict, list)):
        return result
    return _changed(result, changes.get(table, []))


def _updates(
    messages: list[ChatMessage], user_index: int, available: dict[str, ToolSpec]
) -> dict[str, list[tuple[str, Any, dict[str, Any]]]]:
    """table -> (key column, key value, fields set) of each update since the user spoke that changed a row."""
    made: dict[str, dict[str, Any]] = {}  # call id -> its arguments, for updates
    tables: dict[str, str] = {}
    changes: dict[str, list[tuple[str, Any, dict[str, Any]]]] = {}
    for message in messages[user_index + 1 :]:
        if message.role is Role.ASSISTANT:
            for call in message.tool_calls:
                spec = available.get(call.name)
                match = _UPDATE.match(spec.sql or "") if spec is not None and spec.writes else None
                if match is not None:
                    made[call.id] = call.parsed_arguments()
                    tables[call.id] = match.group(1).lower()
        elif message.role is Role.TOOL and message.tool_call_id in made and not message.meta.tool_error:
            try:
                result = json.loads(message.content or "null")
            except json.JSONDecodeError:
                continue
            arguments = made[message.tool_call_id]
            if not (isinstance(result, dict) and result.get("rowcount")) or len(arguments) < 2:
                continue
            # the first argument names the record, the rest are what changed (the derived update tools)
            (key, value), *fields = arguments.items()
            changes.setdefault(tables[message.tool_call_id], []).append((key, value, dict(fields)))
    return changes


def _changed(result: dict | list, changes: list[tuple[str, Any, dict[str, Any]]]) -> dict | list:
    """The result with the changed rows replaced by copies holding the new values (the same object if none)."""
    if isinstance(result, dict):
        return _row(result, changes)
    rows = [_row(row, changes) if isinstance(row, dict) else row for row in result]
    return rows if any(new is not old for new, old in zip(rows, result, strict=True)) else result


def _row(row: dict, changes: list[tuple[str, Any, dict[str, Any]]]) -> dict:
    for key, value, fields in changes:
        if key in row and row[key] == value and any(f in row for f in fields):
            row = {**row, **{f: v for f, v in fields.items() if f in row}}
    return row
