"""What the review view narrows and orders its rows by, and the text search across messages.

`ReviewFilter` holds the curator's choices (rejected only, a failed check, unlabelled, a
label, a domain, a text); `apply` keeps the rows that pass all of them, `sort_rows` orders
them by one column. `search_text` finds the sessions whose messages (text, tool-call names
and arguments, tool results, reasoning) contain a text, ignoring case: it reads only the
`messages` part of each JSON snapshot and parses it only when the raw bytes already hold the
text, so 10,000 files take about a second (bench/README.md, issue 20). TOML files, journals
and texts that JSON would escape are read the slow, certain way (the whole session opened).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from turnloom.core.errors import SessionFileError
from turnloom.core.models import Session
from turnloom.core.review.index import MESSAGES_KEY, NEXT_KEY, ReviewRow, messages_span
from turnloom.core.storage.journal import open_session

# the columns `sort_rows` orders by, and how a row is keyed for each (None sorts last)
SORT_KEYS: dict[str, str] = {
    "path": "path",
    "id": "session_id",
    "title": "title",
    "domain": "domain",
    "mode": "mode",
    "execution": "execution",
    "messages": "messages",
    "tasks": "tasks",
    "done": "tasks_done",
    "verdict": "accepted",
    "checks": "failed_checks",
    "label": "label",
    "changed": "mtime_ns",
    "size": "size",
}

_Text = TypeVar("_Text", str, bytes)


@dataclass
class ReviewFilter:
    """The review view's filters; the defaults keep every row."""

    rejected_only: bool = False
    check: str | None = None  # rows whose verdict failed this check
    unlabelled: bool = False
    label: str | None = None  # keep / drop / needs-fix
    domain: str | None = None
    text: str = ""  # searched in the messages (`search_text`), else in the row's own text


def apply(rows: Iterable[ReviewRow], flt: ReviewFilter, text_matches: set[str] | None = None) -> list[ReviewRow]:
    """The rows that pass every filter in `flt`, in their order.

    Args:
        rows: the index's rows.
        flt: the filters.
        text_matches: the paths `search_text` found for `flt.text`; without it the text is
            looked for in the row itself (title, id, path, label reason and tags).
    """
    needle = flt.text.strip().casefold()
    kept = []
    for row in rows:
        if flt.rejected_only and row.accepted is not False:
            continue
        if flt.check is not None and flt.check not in row.failed_checks:
            continue
        if flt.unlabelled and row.label is not None:
            continue
        if flt.label is not None and row.label != flt.label:
            continue
        if flt.domain is not None and row.domain != flt.domain:
            continue
        if needle:
            if text_matches is not None:
                if row.path not in text_matches:
                    continue
            elif needle not in _row_text(row):
                continue
        kept.append(row)
    return kept


def _row_text(row: ReviewRow) -> str:
    return " ".join((row.title, row.session_id, row.path, row.reason, *row.tags)).casefold()


def sort_rows(rows: Iterable[ReviewRow], key: str, reverse: bool = False) -> list[ReviewRow]:
    """`rows` ordered by the column `key` (one of `SORT_KEYS`), ties by path; empty values last.

    Raises:
        ValueError: an unknown key (the message lists the known ones).
    """
    attribute = SORT_KEYS.get(key)
    if attribute is None:
        raise ValueError(f"unknown sort key {key!r}; use one of: {', '.join(SORT_KEYS)}")
    by_path = sorted(rows, key=lambda row: row.path)
    present = [row for row in by_path if getattr(row, attribute) is not None]
    missing = [row for row in by_path if getattr(row, attribute) is None]
    if attribute == "failed_checks":
        present.sort(key=lambda row: (len(row.failed_checks), row.failed_checks), reverse=reverse)
    else:
        present.sort(key=lambda row: getattr(row, attribute), reverse=reverse)
    return present + missing


def search_text(folder: Path, rows: Sequence[ReviewRow], needle: str) -> set[str]:
    """The paths of the rows whose messages contain `needle`, ignoring case.

    Searched: each message's text, reasoning and tool name, and its tool calls' names and
    arguments. A JSON snapshot is searched in place: only the bytes of its `messages` array
    (where the row says they are), and only in the lines that hold those values, so nothing is
    parsed; TOML files, sessions with a journal and texts JSON would escape open the session.

    Args:
        folder: the folder the rows' paths are relative to.
        rows: the rows to search (unreadable ones never match).
        needle: the text; blank matches every row.
    """
    folded = needle.strip().casefold()
    if not folded:
        return {row.path for row in rows}
    # JSON writes `"`, `\` and control characters escaped: the raw bytes cannot be searched for them
    raw_searchable = not any(ch in folded for ch in '"\\') and all(ord(ch) >= 0x20 for ch in folded)
    base = os.fspath(folder)
    found: set[str] = set()
    for row in rows:
        if row.problem is not None:
            continue
        path = os.path.join(base, row.path)
        try:
            if raw_searchable and path.endswith(".json") and not os.path.exists(path[: -len(".json")] + ".journal"):
                hit = _json_file_has(path, row, folded)
            else:
                hit = _session_has(open_session(path)[0], folded)
        except (OSError, SessionFileError):
            continue  # changed or removed since the index was read: not a match
        if hit:
            found.add(row.path)
    return found


def _json_file_has(path: str, row: ReviewRow, folded: str) -> bool:
    section = None
    if row.messages_to > row.messages_from > len(MESSAGES_KEY):
        with open(path, "rb") as stream:
            stream.seek(row.messages_from - len(MESSAGES_KEY))
            chunk = stream.read(row.messages_to - row.messages_from + len(MESSAGES_KEY) + len(NEXT_KEY))
        if chunk.startswith(MESSAGES_KEY) and chunk.endswith(NEXT_KEY):  # else the file changed since
            section = chunk[len(MESSAGES_KEY) : -len(NEXT_KEY)]
    if section is None:
        with open(path, "rb") as stream:
            data = stream.read()
        start, end = messages_span(data)
        if not end:  # not written by turnloom's own writer: read it whole
            return _session_has(open_session(path)[0], folded)
        section = data[start:end]
    if folded.isascii():
        return _lines_hold(section.lower(), folded.encode(), _VALUE_LINES, b'\n"\\')
    return _lines_hold(section.decode("utf-8", "replace").casefold(), folded, _VALUE_LINES_TEXT, '\n"\\')


# the lines of a messages array (indent 2 inside the session) that hold searched values: a message's
# content, reasoning and name (6 spaces), a tool call's name and arguments (10 spaces)
_VALUE_LINES = (
    b'      "content": "',
    b'      "reasoning": "',
    b'      "name": "',
    b'          "name": "',
    b'          "arguments": "',
)
_VALUE_LINES_TEXT = tuple(prefix.decode() for prefix in _VALUE_LINES)


def _lines_hold(section: _Text, needle: _Text, prefixes: tuple[_Text, ...], marks: _Text) -> bool:
    """Whether `needle` occurs inside a searched value of `section` (both already case-folded).

    `marks` is newline, quote and backslash, as `section`'s type spells them.
    """
    newline, quote, backslash = marks[0:1], marks[1:2], marks[2:3]
    at = section.find(needle)
    while at >= 0:
        line_start = section.rfind(newline, 0, at) + 1
        line_end = section.find(newline, at)
        closing = section.rfind(quote, at, len(section) if line_end < 0 else line_end)
        head = section[line_start:at]
        for prefix in prefixes:
            # inside the value: after its opening quote, before its closing one, not the letter of an escape (\n)
            if (
                head.startswith(prefix)
                and closing >= at + len(needle)
                and not _escaped(section, at, backslash, line_start + len(prefix))
            ):
                return True
        at = section.find(needle, at + 1)
    return False


def _escaped(text: _Text, at: int, backslash: _Text, floor: int) -> bool:
    """Whether the character at `at` follows an odd run of backslashes (it is part of an escape)."""
    run = 0
    while at - run - 1 >= floor and text[at - run - 1 : at - run] == backslash:
        run += 1
    return run % 2 == 1


def _texts(messages: list[Any]) -> Iterable[str]:
    for message in messages:
        if not isinstance(message, dict):
            continue
        for key in ("content", "reasoning", "name"):
            if isinstance(message.get(key), str):
                yield message[key]
        for call in message.get("tool_calls") or ():
            if isinstance(call, dict):
                yield str(call.get("name", ""))
                yield str(call.get("arguments", ""))


def _session_has(session: Session, folded: str) -> bool:
    return any(folded in text.casefold() for text in _texts([m.model_dump() for m in session.messages]))
