"""Records the conversation already shows as they stand: what the offline assistant need not read again.

A record one tool call returned (one row, as an object) stands until something is written:
a chain that passes through it ("change my phone" after the user's file was shown: the
patient, then the change) takes it from the transcript instead of reading it a second time
under the same or another key. Only single-record results count, and a search that found one
record (a list may leave fields out), only reads of a table the tool's SQL names, and only since
the last successful write.
The assistant decides when to use them (`assistant`); this module only finds them.
"""

from __future__ import annotations

import functools
import json
import re

from turnloom.core.models import ChatMessage, Role, ToolSpec

_SELECT = re.compile(r"^\s*SELECT\s+(.*?)\s+FROM\s", re.I | re.S)
_FROM = re.compile(r"\bFROM\s+[\"`\[]?(\w+)", re.I)
_WRITTEN = re.compile(r"\b(?:UPDATE|INTO|FROM)\s+[\"`\[]?(\w+)", re.I)


def table_of(spec: ToolSpec) -> str | None:
    """The table a read tool's SQL selects from (None for a tool without SQL)."""
    return _table(spec.sql or "")


def columns_of(spec: ToolSpec) -> frozenset[str]:
    """The columns a read tool's SQL selects as they are (empty for a tool without SQL or with expressions)."""
    return _columns(spec.sql or "")


@functools.lru_cache(maxsize=1024)
def _columns(sql: str) -> frozenset[str]:
    match = _SELECT.match(sql)
    if match is None:
        return frozenset()
    names = [c.strip().strip('"`[]') for c in match.group(1).split(",")]
    return frozenset(n for n in names if re.fullmatch(r"\w+", n))


def listed_record(listed: object, tool: ToolSpec, listing: ToolSpec | None, arguments: dict) -> dict | None:
    """The row of a list that a one-record look-up with `arguments` would return, when the list came from a
    read of the same table that selects every column the look-up does (a search that found the record:
    its detail is already in hand), else None."""
    if listing is None or not isinstance(listed, list) or tool.writes or tool.returns != "one":
        return None
    table = table_of(tool)
    wanted = columns_of(tool)
    if table is None or table != table_of(listing) or not wanted or not wanted <= columns_of(listing):
        return None
    for row in listed:
        if isinstance(row, dict) and all(k in row and row[k] == v for k, v in arguments.items()):
            return row
    return None


@functools.lru_cache(maxsize=1024)
def _table(sql: str) -> str | None:
    match = _FROM.search(sql)
    return match.group(1).lower() if match else None


def shown_records(
    messages: list[ChatMessage], user_index: int, available: dict[str, ToolSpec]
) -> list[tuple[str, dict]]:
    """(table, record) of the single records read before `user_index` with nothing written to their table
    since, the latest first."""
    found: list[tuple[str, dict]] = []
    stale: set[str] = set()  # tables written after the records still to come (going back in time)
    for message in reversed(messages[:user_index]):
        if message.role is not Role.TOOL or message.meta.tool_error:
            continue
        spec = available.get(message.name or "")
        content = message.content or ""
        if spec is None:
            continue
        if spec.writes:
            if '"rowcount": 0' not in content:
                written = _written(spec.sql or "")
                if written is None:
                    break  # a change to who knows what: anything shown before may be stale
                stale.add(written)
            continue
        one = spec.returns == "one" and content.startswith("{")
        # a search that found one record shows it whole (it selects every column; other lists may leave some out)
        found_one = spec.name.startswith("search_") and content.startswith("[{") and content.endswith("}]")
        if not one and not found_one:
            continue  # errors and empty answers show nothing
        table = table_of(spec)
        try:
            result = json.loads(content)
        except json.JSONDecodeError:
            continue
        if found_one and isinstance(result, list) and len(result) == 1:
            result = result[0]
        if table is not None and table not in stale and isinstance(result, dict) and "id" in result:
            found.append((table, result))
    return found


@functools.lru_cache(maxsize=1024)
def _written(sql: str) -> str | None:
    """The table a write's SQL changes (UPDATE x, INSERT INTO x, DELETE FROM x)."""
    match = _WRITTEN.search(sql)
    return match.group(1).lower() if match else None
