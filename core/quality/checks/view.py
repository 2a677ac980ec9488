"""A dialogue read once for the checks: its tool calls with their results, the records they hold,
and what each write meant to change.

Everything here is derived from the session alone (transcript, tools, tasks, write log): the
table a call touches comes from its SQL (`FROM t`, `UPDATE t`, `INSERT INTO t`) or, for a tool
without SQL (written by an LLM, simulated), from its name (`update_order_status` -> `order`).
Judging is left to the check modules.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from turnloom.core.models import ChatMessage, Role, Session, ToolSpec
from turnloom.core.quality.grounding import stands_in

_ZERO_MEASURE = re.compile(r"^(?:total|sum)_|_count$")
_FROM = re.compile(r'\bFROM\s+"?(\w+)"?', re.IGNORECASE)
_UPDATE = re.compile(r'^\s*UPDATE\s+"?(\w+)"?', re.IGNORECASE)
_INSERT = re.compile(r'^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+"?(\w+)"?\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)', re.I | re.S)
_DELETE = re.compile(r'^\s*DELETE\s+FROM\s+"?(\w+)"?', re.IGNORECASE)
_SET_PAIR = re.compile(r'"?(\w+)"?\s*=\s*(?:COALESCE\(\s*)?:(\w+)')
_WHERE_KEY = re.compile(r'\bWHERE\s+"?(\w+)"?\s*=\s*:(\w+)', re.IGNORECASE)
_WRITE_VERB = re.compile(
    r"^(create|add|insert|update|set|change|modify|delete|remove|cancel|book|register|assign|close|open|mark)_"
)
_VERB_PREFIX = re.compile(
    r"^(get|list|search|find|lookup|fetch|count|create|add|insert|update|set|change|delete|remove)_"
)


T = TypeVar("T")


class cached_property(Generic[T]):  # noqa: N801 - used as `functools.cached_property` is
    """`functools.cached_property` without its lock (Python 3.11 takes one on every first read, a
    large part of computing a call's table or signature): a view is read by one thread."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | cached_property[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)  # later reads find it there first
        return value


@dataclass(frozen=True)
class WriteIntent:
    """What a write call meant to do to one record.

    `key` is (column, value) naming the record (None for an INSERT: its id is the result's
    `lastrowid`); `fields` are the columns it set and their values.
    """

    kind: str  # update | insert | delete
    table: str
    key: tuple[str, Any] | None
    fields: dict[str, Any]


@dataclass
class CallView:
    """One tool call with its result."""

    step: int  # index of the assistant message that made the call (a parallel step when it made several)
    result_index: int  # index of the tool message answering it (-1 when unanswered)
    call_id: str
    name: str
    arguments: dict[str, Any]
    spec: ToolSpec | None
    content: str = ""
    error: bool = True
    value: Any = None  # the result parsed as JSON (None when it is not JSON)
    _rows: list[dict[str, Any]] | None = field(default=None, repr=False)
    arguments_text: str | None = field(default=None, repr=False)  # the JSON `arguments` was parsed from

    # `writes`, `ok` and `empty` are asked hundreds of times a dialogue, by every check, and cannot change
    # once the view has attached the call's result (nothing changes a view after that): each computed once
    @cached_property
    def writes(self) -> bool:
        if self.spec is not None:
            return self.spec.writes
        return bool(_WRITE_VERB.match(self.name))

    @cached_property
    def signature(self) -> str:
        """The call as a repeat of it would look: its name and arguments."""
        if self.arguments_text is not None:
            return _signature(self.name, self.arguments_text)
        return self.name + json.dumps(self.arguments, sort_keys=True)

    @cached_property
    def ok(self) -> bool:
        return self.result_index >= 0 and not self.error

    @cached_property
    def table(self) -> str:
        return _table_of(self.spec.sql if self.spec is not None and self.spec.sql else "", self.name)

    def records(self) -> list[dict[str, Any]]:
        """The rows the result holds (a row object, or the objects of an array); the same list every call."""
        rows = self._rows
        if rows is None:
            if isinstance(self.value, dict):
                rows = [self.value]
            elif isinstance(self.value, list):
                rows = [row for row in self.value if isinstance(row, dict)]
            else:
                rows = []
            self._rows = rows
        return rows

    @cached_property
    def shown_values(self) -> frozenset[str]:
        """The result's values as a reply would show them (lower case, one character or more than one)."""
        # a function of the result's text (the value is its JSON), which repeats from dialogue to dialogue
        # (the same record read again): computed once per text
        values = _SHOWN.get(self.content)
        if values is None:
            values = self._shown_values()
            if len(self.content) <= _PARSED_LONGEST:
                _SHOWN[self.content] = values
                if len(_SHOWN) > _SHOWN_KEPT:
                    del _SHOWN[next(iter(_SHOWN))]
        return values

    def _shown_values(self) -> frozenset[str]:
        rows = self.records()
        if not rows and self.value is not None and not isinstance(self.value, (dict, list)):
            return frozenset({shown(self.value).lower()})
        values: set[str] = set()
        for row in rows:
            for k, v in row.items():
                if v is None or isinstance(v, (dict, list)):
                    continue
                if len(text := shown(v)) > 1:
                    values.add(text.lower())
                # a total reads with its measure: total_goals 0 is stated by "no goals", 8 by "8 goals"
                if isinstance(v, bool) or not isinstance(v, (int, float)) or (measure := _measure(k)) is None:
                    continue
                if v == 0:
                    values.add("no " + measure)
                else:
                    values.update({f"{text} {measure}", f"{text} {measure.removesuffix('s')}"})
        return frozenset(values)

    @cached_property
    def empty(self) -> bool:
        """A read that found nothing (null, or an empty array), or a write that changed no row."""
        if self.writes:
            return isinstance(self.value, dict) and self.value.get("rowcount") == 0
        return self.value is None or self.value == [] or self.value == {}

    @cached_property
    def intent(self) -> WriteIntent | None:
        """What this write meant to change, or None for a read or a write it cannot tell."""
        if not self.writes:
            return None
        sql = self.spec.sql if self.spec is not None and self.spec.sql else ""
        args = self.arguments
        if sql:
            kind, key_column, pairs = _sql_shape(sql)
            fields = {column: args[param] for column, param in pairs if args.get(param) is not None}
            if kind == "insert":
                return WriteIntent("insert", self.table, None, fields)
            key = (key_column[0], args.get(key_column[1])) if key_column else None
            if kind == "delete":
                return WriteIntent("delete", self.table, key, {})
            fields = {column: args.get(param) for column, param in pairs if param in args}
            return WriteIntent("update", self.table, key, fields)
        # no SQL: the id-like argument names the record, the others are what it sets
        keys = [k for k in args if k == "id" or k == f"{self.table}_id"]
        key = ("id", args[keys[0]]) if keys else None
        fields = {k.removeprefix("new_"): v for k, v in args.items() if k not in keys}
        kind = "insert" if self.name.startswith(("create_", "add_", "insert_", "register_")) else "update"
        if self.name.startswith(("delete_", "remove_")):
            kind = "delete"
        return WriteIntent(kind, self.table, key if kind != "insert" else None, fields)

    def record_key(self) -> tuple[str, Any] | None:
        """The record a write touched: its WHERE key, or the id an INSERT returned."""
        intent = self.intent
        if intent is None:
            return None
        if intent.key is not None:
            return intent.key
        if isinstance(self.value, dict) and self.value.get("lastrowid") is not None:
            return ("id", self.value["lastrowid"])
        return None


_NOT_JSON = object()
# JSON text (a call's arguments, a result) -> its value, oldest first: dialogues repeat them (the same
# record read again, the same lookup by email), and the checks only read what the view parsed
_PARSED: dict[str, Any] = {}
_PARSED_KEPT = 2048
_PARSED_LONGEST = 8192  # a longer text is parsed each time and not kept: the caches stay a few megabytes


def _parsed(text: str) -> Any:
    """`json.loads(text)`, or `_NOT_JSON` when it is not JSON; the same object for the same text
    (never changed by any check)."""
    value = _PARSED.get(text, _PARSED)
    if value is not _PARSED:
        return value
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = _NOT_JSON
    if len(text) <= _PARSED_LONGEST:
        _PARSED[text] = value
        if len(_PARSED) > _PARSED_KEPT:
            del _PARSED[next(iter(_PARSED))]
    return value


@functools.lru_cache(maxsize=4096)
def _signature(name: str, arguments_text: str) -> str:
    """`CallView.signature` of a call made with these arguments (the same lookups recur from dialogue to dialogue)."""
    arguments = _parsed(arguments_text)
    return name + json.dumps({} if arguments is _NOT_JSON else arguments, sort_keys=True)


# result text -> `CallView.shown_values` of a call with that result, oldest first
_SHOWN: dict[str, frozenset[str]] = {}
_SHOWN_KEPT = 2048


@functools.lru_cache(maxsize=4096)
def _measure(key: str) -> str | None:
    """What a total or count field measures, as a reply says it (`total_goals` -> "goals"); None for another field."""
    if not _ZERO_MEASURE.search(key):
        return None
    return _ZERO_MEASURE.sub("", key).replace("_", " ").lower()


@functools.lru_cache(maxsize=4096)
def _table_of(sql: str, name: str) -> str:
    """The table a call touches: from its SQL, else from its name (`update_order_status` -> `order`)."""
    for pattern in (_UPDATE, _INSERT, _DELETE, _FROM):
        match = pattern.search(sql)
        if match:
            return singular(match.group(1).lower())
    return singular(_VERB_PREFIX.sub("", name).split("_by_")[0].split("_")[0])


@functools.lru_cache(maxsize=4096)
def _sql_shape(sql: str) -> tuple[str, tuple[str, str] | None, tuple[tuple[str, str], ...]]:
    """A write statement's kind, its WHERE (column, parameter), and the (column, parameter) pairs it sets."""
    insert = _INSERT.search(sql)
    if insert:
        columns = [c.strip().strip('"') for c in insert.group(2).split(",")]
        pairs = []
        for column, value in zip(columns, _split_values(insert.group(3)), strict=False):
            param = re.search(r":(\w+)", value)
            if param:
                pairs.append((column, param.group(1)))
        return "insert", None, tuple(pairs)
    where = _WHERE_KEY.search(sql)
    key = (where.group(1), where.group(2)) if where else None
    if _DELETE.search(sql):
        return "delete", key, ()
    head = re.split(r"\bWHERE\b", sql, flags=re.IGNORECASE)[0]
    return "update", key, tuple(_SET_PAIR.findall(head))


def _split_values(text: str) -> list[str]:
    """The comma-separated items of a VALUES list, commas inside parentheses kept."""
    out, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            out.append(current)
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    out.append(current)
    return out


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses") or word.endswith("ches"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass
class _ReplyScan:
    """How far the replies after one call were read for its values (`SessionView.stated_after`)."""

    values: frozenset[str]  # the result's values as shown, less those the call was asked with
    scanned: int  # replies before this message index were read; none stated a value
    found: int | None = None  # the first reply that states one


@dataclass
class SessionView:
    """The session's calls, user turns and texts, indexed once for every check."""

    session: Session
    live: bool = False  # just ended under the engine: the rule verdicts on its user turns are fresh
    calls: list[CallView] = field(default_factory=list)
    _stated: dict[int, _ReplyScan] = field(default_factory=dict, repr=False)
    _lowered: dict[int, str] = field(default_factory=dict, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_id: dict[str, CallView] = {}
        specs: dict[str, ToolSpec] = {}
        for spec in reversed(self.session.tools):  # the first spec of a name wins, as in `Session.tool`
            specs[spec.name] = spec
        for index, message in enumerate(self.session.messages):
            if message.role is Role.ASSISTANT:
                for call in message.tool_calls:
                    arguments = _parsed(call.arguments)
                    if arguments is _NOT_JSON:
                        arguments = {}
                    view = CallView(
                        index, -1, call.id, call.name, arguments, specs.get(call.name), arguments_text=call.arguments
                    )
                    by_id[call.id] = view
                    self.calls.append(view)
            elif message.role is Role.TOOL and message.tool_call_id in by_id:
                view = by_id[message.tool_call_id]
                view.result_index = index
                view.content = message.text
                view.error = message.meta.tool_error
                value = _parsed(message.text)
                view.value = None if value is _NOT_JSON else value
                if isinstance(view.value, dict) and "error" in view.value and len(view.value) <= 3:
                    view.error = True

    @cached_property
    def messages(self) -> list[ChatMessage]:
        return self.session.messages

    @cached_property
    def _users(self) -> list[int]:
        return [i for i, m in enumerate(self.messages) if m.role is Role.USER]

    @cached_property
    def _replies(self) -> list[int]:
        return [i for i, m in enumerate(self.messages) if m.role is Role.ASSISTANT and m.text.strip()]

    @cached_property
    def _steps(self) -> list[int]:
        return [c.step for c in self.calls]  # calls are in message order: sorted by step

    def user_turns(self) -> list[int]:
        return list(self._users)

    def exchange(self, user_index: int) -> tuple[int, int]:
        """The messages answering the user turn at `user_index`: [start, end)."""
        users = self._users
        at = bisect.bisect_right(users, user_index)
        return user_index + 1, users[at] if at < len(users) else len(self.messages)

    def calls_between(self, start: int, end: int) -> list[CallView]:
        steps = self._steps
        return self.calls[bisect.bisect_left(steps, start) : bisect.bisect_left(steps, end)]

    def stated_after(self, call: CallView, end: int) -> bool:
        """Some value of the call's result appears in an assistant reply after it and before `end`.

        A value the call was asked with does not count: saying the email back is not answering
        "who is registered under this email?".
        """
        # checks ask this with different ends (the exchange's, the task's): each call's replies are
        # read once, in order, up to the first that states a value or the furthest end asked so far
        scan = self._stated.get(call.result_index)
        if scan is None:
            given = {shown(v).lower() for v in call.arguments.values() if not isinstance(v, (dict, list))}
            scan = self._stated[call.result_index] = _ReplyScan(call.shown_values - given, call.result_index + 1)
        if scan.found is not None:
            return scan.found < end
        if not scan.values or scan.scanned >= end:
            return False
        for reply in self.replies_between(scan.scanned, end):
            text = self.lowered(reply)
            # both in lower case already; a value not in the text at all needs no boundary look
            if any(v in text and stands_in(text, v) for v in scan.values):
                scan.found = reply
                return True
        scan.scanned = end
        return False

    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """What `compute` returns, computed once per view (a check another check builds on)."""
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]

    def lowered(self, index: int) -> str:
        text = self._lowered.get(index)
        if text is None:
            text = self._lowered[index] = self.messages[index].text.lower()
        return text

    def replies_between(self, start: int, end: int) -> list[int]:
        """Indexes of assistant messages with text in [start, end)."""
        replies = self._replies
        return replies[bisect.bisect_left(replies, start) : bisect.bisect_left(replies, end)]

    def task_window(self, task_index: int) -> tuple[int, int]:
        """The messages of task `task_index`: from its introduction to the next task's (inclusive)."""
        tasks = self.session.tasks
        start = tasks[task_index].introduced_at
        end = tasks[task_index + 1].introduced_at + 1 if task_index + 1 < len(tasks) else len(self.messages)
        return start, end


def same_value(a: Any, b: Any) -> bool:
    """Equal as a reader compares them: numbers by value (to the cent), text without case or edge spaces."""
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    # text that cannot be a number compares as text: the number parse below would fail on it, slowly
    # (an exception); `b` is parsed second, so only when parsing `a` cannot raise anything else first
    if (type(a) is str and _numberless(a)) or (type(b) is str and _numberless(b) and _parses_quietly(a)):
        return (
            a.strip().lower() == b.strip().lower()
            if type(a) is type(b)
            else str(a).strip().lower() == str(b).strip().lower()
        )
    try:
        return abs(float(a) - float(b)) < 0.005 + 1e-9 * abs(float(a))
    except (TypeError, ValueError):
        return str(a).strip().lower() == str(b).strip().lower()


_DIGIT = re.compile(r"\d")


@functools.lru_cache(maxsize=8192)
def _numberless(text: str) -> bool:
    """Whether `float(text)` must fail: no digit, and no "nan" or "inf" (the only digitless numbers)."""
    if _DIGIT.search(text):
        return False
    lowered = text.lower()
    return "nan" not in lowered and "inf" not in lowered


def _parses_quietly(value: Any) -> bool:
    """Whether `float(value)` returns or raises ValueError or TypeError (not OverflowError, for a huge int)."""
    return type(value) is not int or -(2**63) <= value < 2**63


def shown(value: Any) -> str:
    """A value as a message would show it."""
    if type(value) is str:  # most values: nothing to convert
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def contains_value(text: str, value: str) -> bool:
    """Whether `value` stands in `text` as a value (not inside a longer word or number); case-insensitive."""
    return stands_in(text.lower(), value.lower())
