"""Text: what the assistant says agrees with the tool results it reports on.

`text_consistent`, for every assistant reply and the successful calls since the user's turn:
- nothing contradicts a result: a field the reply states ("status cancelled", "total: 12.50",
  "the status of booking 2 is confirmed", "changed the seat on that booking to 1A") carries the
  value of that field in the record the statement is about (the record it names by id, by a
  value such as a flight number, or by "that booking"; any record read when it names none).
  A record is what the reads showed, with the writes made after them in the same exchange
  folded in: a reply may report the value it read and then the change it made ("it was on the
  29th; I've moved it to the 18th"), but a value a write replaced is stale and fails when the
  reply states it after announcing the change, or never states the new value at all ("visit
  date 2025-11-29 ... I've updated the visit date");
- no key field left out: when a reply reports a record the user asked about (a line names the
  record by id, or the reply states several of its values), it states the record's status,
  totals, prices and one of its dates (for each row of a list, its status).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from turnloom.core.quality.checks.finding import Finding
from turnloom.core.quality.checks.view import (
    CallView,
    SessionView,
    contains_value,
    same_value,
    shown,
    singular,
    stands_in,
)

_KEY_FIELD = re.compile(r"(status|total|price|fare|fee|amount|cost|balance|wage)")
_DATE_FIELD = re.compile(r"(date|_on$)")
_STATUS = re.compile(r"status")
# words that report a change rather than state a value ("the email of that passenger is updated")
_NOT_A_VALUE = re.compile(
    r"^(?:updated|changed|set|done|saved|recorded|unchanged|now$|as follows|below|the following|not\b|"
    r"on\b|of\b|for\b|that\b|this\b|the\b|a\b|an\b)",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_REF_ID = re.compile(r"\b([A-Za-z_]+)\s*(?:no\.|#|number)?\s*#?([A-Z]{0,4}-?\d+)\b")


def human(name: str) -> str:
    return name.replace("_", " ")


_human = functools.lru_cache(maxsize=4096)(human)


@dataclass(eq=False)
class _Record:
    """One row a reply may report: what the read showed, and what a later write in the exchange made of it."""

    table: str
    row: dict[str, Any]
    call: CallView
    listed: bool
    written: dict[str, Any] = field(default_factory=dict)  # field -> value a later write set
    same_step: set[str] = field(default_factory=set)  # fields written in the read's own step (order undefined)
    earlier: bool = False  # read in an earlier exchange: only what the writes of this one changed is judged

    def allowed(self, name: str) -> list[Any]:
        """The values a reply may state for the field."""
        if name in self.written:
            before = [self.row[name]] if self.row.get(name) is not None else []
            return [self.written[name], *before]
        return [self.row[name]] if self.row.get(name) is not None else []


def check_text_consistent(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    users = view.user_turns()
    turn = 0  # user turns before the reply
    latest: dict[tuple[str, str], tuple[CallView, dict]] = {}  # (table, id) -> the last row read of it
    done = 0  # calls folded into `latest`: those made before the last user turn so far
    all_calls = view.calls
    for index in view.replies_between(0, len(view.messages)):
        while turn < len(users) and users[turn] < index:
            turn += 1
        last_user = users[turn - 1] if turn else -1
        while done < len(all_calls) and all_calls[done].step < last_user:
            call = all_calls[done]
            done += 1
            if call.ok and not call.writes:
                for row in call.records():
                    if "id" in row:
                        latest[(call.table, shown(row["id"]))] = (call, row)
        calls = [c for c in view.calls_between(last_user + 1, index) if c.ok and c.result_index < index]
        if not calls:
            continue
        records = _records(calls, latest)
        if not records:
            continue
        text = view.messages[index].text
        findings += _contradictions(index, text, records)
        findings += _left_out(index, text, records)
    return findings


def _records(calls: list[CallView], latest: dict[tuple[str, str], tuple[CallView, dict]]) -> list[_Record]:
    """The records the exchange's reads show, and those its writes change (as last read before it)."""
    out: list[_Record] = []
    reads = [c for c in calls if not c.writes]
    writes = [c for c in calls if c.writes and not c.empty and c.intent is not None and c.record_key() is not None]
    rows = [(call, row, False) for call in reads for row in call.records()]
    for write in writes:
        key = write.record_key()
        assert key is not None
        if any(c.table == write.table and same_value(row.get(key[0]), key[1]) for c, row, _ in rows):
            continue
        last = latest.get((write.table, shown(key[1]))) if key[0] == "id" else None
        if last is not None:
            rows.append((last[0], last[1], True))
    for call, row, earlier in rows:
        record = _Record(call.table, row, call, isinstance(call.value, list), earlier=earlier)
        for write in writes:
            if write.step < call.step or write.table != call.table:
                continue
            key = write.record_key()
            assert key is not None and write.intent is not None
            if key[0] not in row or not same_value(row[key[0]], key[1]):
                continue
            for name, value in write.intent.fields.items():
                if name not in row:
                    continue
                if write.step == call.step:
                    record.same_step.add(name)
                record.written[name] = value
        out.append(record)
    return out


def _contradictions(index: int, text: str, records: list[_Record]) -> list[Finding]:
    findings: list[Finding] = []
    every = {f for r in records for f in r.row}
    lowered = text.lower()
    # ids are grounding's business; a field the reply never names needs no look
    fields = sorted(
        (f for f in every if f != "id" and not f.endswith("_id") and _human(f) in lowered), key=lambda f: -len(f)
    )
    if not fields:
        return []
    names = tuple(_human(f) for f in every)
    index_of = _Index(records)
    announced: set[tuple[tuple[str, str], str]] = set()  # (record, field) whose written value the reply already stated
    # (record, field) -> the value the reply gave that a change of this exchange replaced, before announcing it
    replaced: dict[tuple[tuple[str, str], str], tuple[str, _Record]] = {}
    for line in text.splitlines():
        statements = _stated_fields(line, fields)
        if not statements:
            continue
        line_about = index_of.about(line) if any(ref is None for _, _, ref in statements) else []
        for name, stated, ref in statements:
            if "\0" in stated or stated.lower().startswith(names):
                continue  # "In total: orders count 2" states no total
            if _NOT_A_VALUE.match(stated):
                continue
            named = [r for r in (index_of.about(ref) if ref is not None else line_about) if name in r.row]
            about = named or (
                [r for r in records if name in r.row]
                if ref is None or ref.lower().startswith(("that", "this", "the"))
                else []
            )
            if not about:
                continue
            allowed = [v for r in about for v in r.allowed(name)]
            # a summary's values are looked at only when no value of the records agrees
            agrees = any(_agrees(stated, v) for v in allowed)
            known = allowed if agrees else allowed + index_of.aggregates(name)
            if known and not (agrees or any(_agrees(stated, v) for v in known[len(allowed) :])):
                findings.append(
                    Finding(
                        "text_consistent",
                        (index, *_results_of(about)),
                        f"message {index} says {human(name)} {stated!r}, but the result shows "
                        f"{' or '.join(repr(shown(v)) for v in _dedup(known)[:3])}",
                    )
                )
                continue
            if not named and ref is None:
                continue  # a line about no record in particular ("both delivered") is not judged for staleness
            changed = [r for r in about if name in r.written and name not in r.same_step]
            if len({_key(r) for r in changed}) != 1:
                continue  # no change, or a statement that could be about several changed records
            r = changed[0]
            if _agrees(stated, r.written[name]):
                announced.add((_key(r), name))
            elif (_key(r), name) not in announced:
                replaced.setdefault((_key(r), name), (stated, r))
            else:
                findings.append(
                    Finding(
                        "text_consistent",
                        (index, r.call.result_index),
                        f"message {index} says {human(name)} {stated!r} after stating it was changed to "
                        f"{shown(r.written[name])!r}: the value is stale",
                    )
                )
    for (key, name), (stated, r) in replaced.items():
        if (key, name) not in announced and not contains_value(text, shown(r.written[name])):
            findings.append(
                Finding(
                    "text_consistent",
                    (index, r.call.result_index),
                    f"message {index} gives {human(name)} {stated!r} for {_name(r)}, the value its change replaced, "
                    f"and never the new one ({shown(r.written[name])!r})",
                )
            )
    return findings


def _key(record: _Record) -> tuple[str, str]:
    return (record.table, shown(record.row.get("id", id(record.row))))


def _left_out(index: int, text: str, records: list[_Record]) -> list[Finding]:
    findings: list[Finding] = []
    # only a record with a status (a listed row), or a status, key field or date (a record reported
    # alone), can miss one: the others need no look for the lines about them
    judged = [r for r in records if not r.earlier and _has_key_fields(r)]
    if not judged:
        return findings
    lines = text.splitlines()
    naming: dict[tuple[str, str], list[str]] = {}  # (table, id) -> the lines that name it
    bare: dict[str, list[str]] = {}  # id -> the lines that name it as "ID 41"
    for line in lines:
        pairs, ids = _ids_named(line)
        for pair in pairs:
            naming.setdefault(pair, []).append(line)
        for number in ids:
            bare.setdefault(number, []).append(line)
    named_lines = {line for group in (*naming.values(), *bare.values()) for line in group}
    summary: str | None = None
    for record in judged:
        row = record.row
        candidates: list[str] = []
        if "id" in row:
            number = shown(row["id"])
            candidates = naming.get((record.table.lower(), number), []) + bare.get(number, [])
        own_line = _line_naming(sorted(candidates, key=lines.index), record)
        if own_line is None and (record.listed or _values_stated(text, row) < 3):
            continue
        scope = own_line if own_line is not None else text
        if record.listed:
            wanted = [f for f in row if row[f] is not None and _kind(f) == "status"]
        else:
            wanted = [f for f in row if row[f] is not None and _kind(f) in ("status", "key")]
            dates = [f for f in row if row[f] is not None and _kind(f) == "date"]
            if dates and not any(_mentions_field(scope, record, f) for f in dates):
                wanted.append(dates[0])
        missing = [f for f in wanted if not _mentions_field(scope, record, f)]
        if missing and (record.listed or scope.lstrip().startswith("-")):
            if summary is None:
                # lines naming no record (the head of a list: "they're both paid") speak for every row listed
                summary = "\n".join(line for line in lines if not _names_any(line, records, named_lines))
            missing = [f for f in missing if not _mentions_field(summary, record, f)]
        if missing:
            findings.append(
                Finding(
                    "text_consistent",
                    (index, record.call.result_index),
                    f"message {index} reports {_name(record)} without its "
                    + ", ".join(f"{human(f)} ({shown(row[f])})" for f in missing),
                )
            )
    return findings


def _has_key_fields(record: _Record) -> bool:
    """Whether the record has a field `_left_out` asks a reply for: a status for a listed row; a status,
    key field or date for a record reported alone."""
    kinds = ("status",) if record.listed else ("status", "key", "date")
    return any(v is not None and _kind(f) in kinds for f, v in record.row.items())


@functools.lru_cache(maxsize=4096)
def _kind(name: str) -> str:
    """What a field is to a reader: status, key (totals, prices), date, or other (ids are other)."""
    if name == "id" or name.endswith("_id"):
        return "other"
    if _STATUS.search(name):
        return "status"
    if _KEY_FIELD.search(name):
        return "key"
    return "date" if _DATE_FIELD.search(name) else "other"


def _stated_fields(line: str, fields: list[str]) -> tuple[tuple[str, str, str | None], ...]:
    """(field, stated value, the record reference if any) for each field the line names with a value."""
    lowered = line.lower()
    named = tuple(name for name in fields if _human(name) in lowered)
    return _statements(line, named) if named else ()


@functools.lru_cache(maxsize=4096)
def _statements(line: str, fields: tuple[str, ...]) -> tuple[tuple[str, str, str | None], ...]:
    """`_stated_fields` of the fields the line names, in order (a line repeats from dialogue to dialogue
    with the same fields named: it is parsed once)."""
    out: list[tuple[str, str, str | None]] = []
    masked = line
    lowered = line.lower()
    ascii_line = line.isascii()
    for name in fields:
        said = _human(name)
        spans: list[tuple[int, int]] = []
        pattern = _field_pattern(name)
        for match in _matches_at(pattern, masked, lowered, said) if ascii_line else pattern.finditer(masked):
            spans.append(match.span())
            ref = match.group("ref")
            value = match.group("v") if ref is not None else match.group("v2")
            if value is None:
                continue
            out.append((name, value.strip().strip("'\""), ref.strip() if ref else None))
        if spans:  # the matches masked, as `pattern.sub` would replace them (nothing where none matched)
            pieces: list[str] = []
            at = 0
            for start, end in spans:
                pieces += (masked[at:start], "\0" * (end - start))
                at = end
            pieces.append(masked[at:])
            masked = "".join(pieces)
    return tuple(out)


def _matches_at(pattern: re.Pattern[str], masked: str, lowered: str, said: str) -> Iterator[re.Match[str]]:
    """`pattern.finditer(masked)` for an ASCII line, tried only where the field's name occurs in it.

    A match starts with the field's name, ignoring case: in ASCII text `lowered` has the name at the
    same places (`masked` is the line with earlier matches blanked), so matching there finds the same
    matches as trying the pattern at every character; `match(masked, at)` sees the character before
    `at` for the word boundary, as a scan does.
    """
    at = lowered.find(said)
    while at >= 0:
        match = pattern.match(masked, at)
        if match is None:
            at = lowered.find(said, at + 1)
        else:
            yield match
            at = lowered.find(said, match.end())


_END = r"(?=\s*(?:[,;\n]|\.\s|\.$|$)|\s+and\s|\s+\()"


@functools.lru_cache(maxsize=1024)
def _field_pattern(name: str) -> re.Pattern[str]:
    # "the status of booking 2 is X", "changed the seat on that booking to X", or "status X", "total: X", "a total of X"
    return re.compile(
        rf"\b{re.escape(human(name))}\b(?:"
        rf"\s+(?:of|on|for)\s+(?P<ref>[^,;:.\n]{{1,60}}?)\s+(?:is\s+now|is\s+currently|is|was|are|now|to)\s+"
        rf"(?P<v>[^,;\n]+?){_END}"
        rf"|(?:\s+(?:is\s+now|is\s+currently|is|was|of|now|to))?\s*[:=]?\s+(?P<v2>[^,;\n]+?){_END})",
        re.IGNORECASE,
    )


class _Index:
    """The records of one reply's exchange, looked up by (table, id) and by a text value."""

    def __init__(self, records: list[_Record]) -> None:
        self.records = records
        self._parts: dict[str, list[Any]] | None = None
        self._by_id: dict[tuple[str, str], list[_Record]] | None = None
        self._by_text: dict[str, list[_Record]] = {}

    def _build(self) -> dict[tuple[str, str], list[_Record]]:
        by_id: dict[tuple[str, str], list[_Record]] = {}
        by_text = self._by_text
        for record in self.records:
            if "id" in record.row:
                by_id.setdefault((record.table, shown(record.row["id"])), []).append(record)
            for k, v in record.row.items():
                if isinstance(v, str) and k != "id":
                    bucket = by_text.setdefault(v.lower(), [])
                    if not bucket or bucket[-1] is not record:
                        bucket.append(record)
        self._by_id = by_id
        return by_id

    def about(self, ref: str) -> list[_Record]:
        """The records a reference names: "booking 2", "flight TL269", "Ana Lopez (customer 4)"."""
        out: list[_Record] = []
        if not _DIGIT.search(ref):
            return out  # a reference names a record by a number
        by_id = self._by_id if self._by_id is not None else self._build()
        for key, value in _refs(ref):
            out += by_id.get(key, [])
            out += [r for r in self._by_text.get(value, []) if not any(r is o for o in out)]
        return out

    def aggregates(self, name: str) -> list[Any]:
        """Values a summary holds for the field: "a total of 200.8" may be `total_total` or `total_price`."""
        if self._parts is None:
            self._parts = {}
            for record in self.records:
                for f, v in record.row.items():
                    if v is None or "_" not in f:
                        continue
                    pieces = f.split("_")
                    for i in range(1, len(pieces)):
                        for part in ("_".join(pieces[:i]), "_".join(pieces[i:])):
                            if part != f:
                                self._parts.setdefault(part, []).append(v)
        return self._parts.get(name, [])


@functools.lru_cache(maxsize=4096)
def _refs(ref: str) -> tuple[tuple[tuple[str, str], str], ...]:
    """The (table, id) keys and the lower-case values a reference names, by `_REF_ID` (replies repeat
    their lines from dialogue to dialogue: the scan of a line is made once)."""
    return tuple(((singular(word.lower()), value), value.lower()) for word, value in _REF_ID.findall(ref))


def _agrees(stated: str, value: Any) -> bool:
    text = shown(value).lower()
    said = stated.lower()
    if "_" in text:  # a stored "no_show" or "checked_in" said in words: "a no-show", "checked in"
        said = said.removeprefix("a ").removeprefix("an ")
        return any(said.startswith(form) or form.startswith(said) for form in _said_forms(text))
    # the prefix tests first: same_value's number parse fails slowly (an exception) on most text
    return said.startswith(text) or text.startswith(said) or same_value(said, value)


def _said_forms(text: str) -> tuple[str, ...]:
    """A stored value with underscores as a reply may write it: as stored, in words, hyphenated (a noun,
    of several records too: "both no-shows")."""
    return text, text.replace("_", " "), text.replace("_", "-"), text.replace("_", "-") + "s"


_NAMED = re.compile(r"\b([A-Za-z_]+)\s*(?:no\.\s*|#)?(\d+)\b")
_NONE_NAMED: tuple[frozenset[tuple[str, str]], frozenset[str]] = (frozenset(), frozenset())
_ID_NAMED = re.compile(r"\bid:?\s+(\d+)\b", re.IGNORECASE)  # the word before it found by hand: `(\S*)\s*` is quadratic


@functools.lru_cache(maxsize=4096)
def _ids_named(line: str) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    """(table, id) pairs the line names ("invoice 16", "order #4") and ids it names bare ("ID 16", "with id 4")."""
    if not _DIGIT.search(line):
        return _NONE_NAMED  # both patterns end in a number (a third of a reply's lines have none)
    found = _NAMED.findall(line)
    pairs = frozenset((word.lower(), number) for word, number in found) | frozenset(
        (singular(word.lower()), number) for word, number in found
    )
    bare = frozenset(
        match[1]
        for match in _ID_NAMED.finditer(line)
        if not (word := _word_before(line, match.start()))
        or not word[-1].isalpha()
        or word.lower() in ("with", "has", "is", "the", "record", "of", "for")
    )
    return pairs, bare


def _word_before(line: str, end: int) -> str:
    """The run of non-space characters before `end`, spaces between skipped ("order id 4" -> "order")."""
    stop = end
    while stop > 0 and line[stop - 1].isspace():
        stop -= 1
    start = stop
    while start > 0 and not line[start - 1].isspace():
        start -= 1
    return line[start:stop]


def _names_id(line: str, value: Any, table: str) -> bool:
    """Whether the line names a record by its own id ("id 16", "invoice 16", not "doctor id 16")."""
    pairs, bare = _ids_named(line)
    number = shown(value)
    return (table.lower(), number) in pairs or number in bare


def _names_any(line: str, records: list[_Record], named_lines: set[str]) -> bool:
    if line not in named_lines:
        return False
    return any("id" in r.row and _names_id(line, r.row["id"], r.table) for r in records)


def _line_naming(candidates: list[str], record: _Record) -> str | None:
    """The line about the record: of the lines naming its id, the one stating most of its values."""
    row = record.row
    if "id" not in row or not candidates:
        return None
    # a line that names the record and states nothing of it ("created with ID 41") does not report it
    seen: set[str] = set()
    lines = []
    for line in candidates:
        if line not in seen and _values_stated(line, row, without_id=True) > 0:
            lines.append(line)
        seen.add(line)
    if len(lines) < 2:
        return lines[0] if lines else None
    # on a tie the later line: a reply reports what it read last after what it listed first
    return max(reversed(lines), key=lambda line: _values_stated(line, row), default=None)


def _mentions(text: str, value: Any) -> bool:
    needle = shown(value).lower()
    if "_" in needle:  # "no_show" is mentioned by "a no-show", "checked_in" by "checked in"
        return any(stands_in(_lowered(text), form) for form in _said_forms(needle))
    return stands_in(_lowered(text), needle)  # `contains_value`, the text lowered once


# a reply's line (or the reply) is asked about several fields and values in a row
_lowered = functools.lru_cache(maxsize=256)(str.lower)


def _mentions_field(text: str, record: _Record, name: str) -> bool:
    if any(_mentions(text, v) for v in record.allowed(name)):
        return True
    return record.row.get(name) == 0 and _says_none(text, name)


def _says_none(text: str, name: str) -> bool:
    """A zero total said in words: "no goals" for total_goals 0, "no assists" for assists_count 0."""
    measure = human(re.sub(r"^(?:total|sum|count)_|_(?:total|count)$", "", name))
    stem = re.escape(measure.rstrip("s"))
    return re.search(rf"\bno\s+{stem}s?\b", text, re.IGNORECASE) is not None


def _values_stated(text: str, row: dict, without_id: bool = False) -> int:
    hay = text.lower()
    return sum(1 for v in _needles(row, without_id) if v in hay and stands_in(hay, v))


def _needles(row: dict, without_id: bool) -> list[str]:
    """The row's values as a reply shows them, lower case, longer than one character (cached per row,
    with and without its id: both are asked of most rows)."""
    cached = _NEEDLES.get(id(row))
    if cached is None or cached[0] is not row:
        rest: list[str] = []
        every: list[str] = []
        for k, v in row.items():
            if v is None:
                continue
            text = shown(v).lower()
            if len(text) > 1:
                every.append(text)
                if k != "id":
                    rest.append(text)
        cached = _NEEDLES[id(row)] = (row, rest, every)
        if len(_NEEDLES) > 4096:
            _NEEDLES.clear()
            _NEEDLES[id(row)] = cached
    return cached[1] if without_id else cached[2]


_NEEDLES: dict[int, tuple[dict, list[str], list[str]]] = {}


def _name(record: _Record) -> str:
    return f"{record.table} {shown(record.row['id'])}" if "id" in record.row else f"a {record.table}"


def _results_of(records: list[_Record]) -> tuple[int, ...]:
    return tuple(sorted({r.call.result_index for r in records}))[:3]


def _dedup(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if not any(same_value(value, v) for v in out):
            out.append(value)
    return out
