"""Effects: every subtask of every task had its effect, as the session itself shows it.

`effects`, per subtask, inside its task's messages:
- a read is answered: a successful call that used one of the subtask's values (or, with no
  values, any successful read) returned data, and a later assistant reply states some of it;
- a write is applied: a successful write whose arguments carry every value of the subtask
  changed a row, and, in SQL execution, the database rebuilt from the session's write log
  (with the SQL environment) shows the change right after that write.
Whether a subtask is a write is read from the task: its rubric line names a writing tool, its
values include a new one (`new_*`), or its description says so (cancel, change, book, ...).
This holds for built-in domains, `--db` databases and LLM-written tasks alike.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Sequence
from typing import Any

from turnloom.core.errors import TurnloomError
from turnloom.core.lifecycle.dialogue import base_image
from turnloom.core.models import Subtask, Task, ToolExecution
from turnloom.core.quality.checks.finding import Finding
from turnloom.core.quality.checks.view import CallView, SessionView, _numberless, same_value, shown, singular
from turnloom.core.tools.sqlenv import SqlEnvironment

_WRITE_WORDS = re.compile(
    r"\b(cancel|change|update|set|book|create|add|register|open|delete|remove|move|reschedule|upgrade|"
    r"downgrade|switch|assign|raise|lower|adjust|mark|close|sign up|transfer|renew|terminate|suspend|"
    r"rebook|rename|correct|file|report|issue)\w*\b",
    re.IGNORECASE,
)

_WORD = re.compile(r"\w+")


def check_effects(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    session = view.session
    applied: dict[str, CallView] = {}  # call id -> the write that serves a write subtask
    writes: dict[str, bool] = {}
    for spec in session.tools:
        writes[spec.name] = writes.get(spec.name, False) or spec.writes
    # reads of earlier tasks: a record found then (the customer an email named) need not be read again
    earlier = _EarlierReads([c for c in view.calls if c.ok and not c.writes and not c.empty])
    for t, task in enumerate(session.tasks):
        start, end = view.task_window(t)
        calls = [c for c in view.calls_between(start, end) if c.ok]
        earlier.add_until(start)
        for s, subtask in enumerate(task.subtasks):
            label = f"task {t + 1} subtask {s + 1} ({subtask.description})"
            values = _values(subtask)
            before = earlier.with_any(values)
            if _is_write(session, task, s, subtask, writes):
                write = next(
                    (
                        c
                        for c in calls
                        if c.writes
                        and not c.empty
                        and all(_carries(c.arguments, v) or _chained(c, v, calls, before) for v in values)
                    ),
                    None,
                )
                if write is None:
                    findings.append(Finding("effects", (start,), f"{label}: no successful write with {_list(values)}"))
                else:
                    applied[write.call_id] = write
            elif not _answered(view, calls, values, end, before):
                findings.append(
                    Finding(
                        "effects", (start,), f"{label}: no read with {_list(values)} returned data the reply states"
                    )
                )
    if session.config.execution is ToolExecution.SQL and applied:
        findings += _in_database(view, applied)
    return findings


class _EarlierReads:
    """The reads before a point of the dialogue, found by a value they were asked with or returned.

    Indexed once as the tasks go by, and only the latest few reads of a value are kept (the same
    customer looked up in each of a thousand tasks), so judging stays linear in the transcript's length."""

    KEPT = 8

    def __init__(self, reads: list[CallView]) -> None:
        self._reads = reads
        self._added = 0
        self._by_value: dict[str, deque[CallView]] = {}

    def add_until(self, start: int) -> None:
        while self._added < len(self._reads) and self._reads[self._added].step < start:
            call = self._reads[self._added]
            scalars = {*_scalars(call.arguments)}
            scalars.update(v for row in call.records() for v in row.values() if not isinstance(v, (dict, list, bool)))
            for key in {_value_key(v) for v in scalars if v is not None}:
                self._by_value.setdefault(key, deque(maxlen=self.KEPT)).append(call)
            self._added += 1

    def with_any(self, values: list[Any]) -> list[CallView]:
        """The reads that carry or returned one of the values (each checked as `same_value` compares)."""
        found: dict[int, CallView] = {}
        for value in values:
            for call in self._by_value.get(_value_key(value), ()):
                if _carries(call.arguments, value) or _in_result(call, value):
                    found.setdefault(id(call), call)
        return list(found.values())


def _value_key(value: Any) -> str:
    """A key equal for values `same_value` calls equal (numbers to the cent, text without case or edge spaces)."""
    if type(value) is str:
        return _text_key(value)
    try:
        return f"n{round(float(value), 2)}"
    except (TypeError, ValueError):
        return "s" + str(value).strip().lower()


@functools.lru_cache(maxsize=8192)
def _text_key(value: str) -> str:
    """`_value_key` of a text (results repeat their texts from call to call; most fail the number parse, slowly)."""
    try:
        return f"n{round(float(value), 2)}"
    except (TypeError, ValueError):
        return "s" + str(value).strip().lower()


def _values(subtask: Subtask) -> list[Any]:
    return [v for v in subtask.slots.values() if isinstance(v, (int, float, str)) and not isinstance(v, bool)]


def _is_write(session: Any, task: Task, index: int, subtask: Subtask, writes: dict[str, bool]) -> bool:
    """`writes`: tool name -> whether some tool of that name writes (names can repeat in a hand-made file)."""
    if len(task.rubric) == len(task.subtasks):
        named = [writes[word] for word in set(_WORD.findall(task.rubric[index])) if word in writes]
        if named:
            return any(named)
    if any(name.startswith("new_") for name in subtask.slots):
        return True
    return bool(_WRITE_WORDS.match(subtask.description.strip()))


def _carries(arguments: dict[str, Any], value: Any) -> bool:
    return any(same_value(given, value) for given in arguments.values() if not isinstance(given, (dict, list)))


def _answered(
    view: SessionView, calls: list[CallView], values: list[Any], end: int, before: Sequence[CallView] = ()
) -> bool:
    """`before`: the reads of earlier tasks that carry or returned one of the values."""
    for call in calls:
        if call.writes or call.empty:
            continue
        if (
            values
            and not any(_carries(call.arguments, v) or _in_result(call, v) for v in values)
            and not any(_takes_id_of(call, earlier) for earlier in before)
        ):
            continue
        # the user may have named a value found only through a chain: later calls of the chain count
        chain = [c for c in calls if c.step >= call.step and not c.writes and not c.empty]
        if any(_stated(view, c, end) for c in chain):
            return True
    return False


def _chained(write: CallView, value: Any, calls: list[CallView], before: Sequence[CallView] = ()) -> bool:
    """The write reaches the value through earlier reads: email -> passenger -> bookings -> cancel booking 17.

    Reads that carry the value start the chain (reads of earlier tasks too: the passenger an email
    named in task 1); a read whose arguments carry a value an earlier link returned joins it; the
    write is chained when one of its arguments is in a link's result.
    """
    reads = [c for c in calls if not c.writes and not c.empty and c.step < write.step]
    links = [c for c in [*before, *reads] if _carries(c.arguments, value) or _in_result(c, value)]
    reads = [*before, *reads]
    rest = [c for c in reads if c not in links]
    frontier = links
    while frontier and rest:  # a read joins once: only the links found last round are new to the rest
        joined = [
            c for c in rest if any(_in_result(link, given) for link in frontier for given in _scalars(c.arguments))
        ]
        rest = [c for c in rest if c not in joined]
        links, frontier = links + joined, joined
    return any(_in_result(link, given) for link in links for given in _scalars(write.arguments))


def _takes_id_of(call: CallView, earlier: CallView) -> bool:
    """The call names, by an id argument, a record the earlier read returned or pointed to
    (customer_id 15 after customer 15; flight 15 after booking 34 on flight 15)."""
    ids = [v for row in earlier.records() for k, v in row.items() if _is_id(k) and not isinstance(v, (dict, list))]
    return any(
        same_value(given, found)
        for name, given in call.arguments.items()
        if _is_id(name) and not isinstance(given, (dict, list))
        for found in ids
    )


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _scalars(arguments: dict[str, Any]) -> list[Any]:
    return [v for v in arguments.values() if not isinstance(v, (dict, list, bool)) and v is not None]


def _in_result(call: CallView, value: Any) -> bool:
    if type(value) is str and _numberless(value):
        # text that cannot be a number is `same_value` as a value only as text: looked up, not compared one by one
        texts, flags = _result_texts(call)
        return value.strip().lower() in texts or value.lower() in flags
    return any(same_value(v, value) for row in call.records() for v in row.values() if not isinstance(v, (dict, list)))


def _result_texts(call: CallView) -> tuple[frozenset[str], frozenset[str]]:
    """The result's values as `same_value` compares them with text that cannot be a number: every value
    but a boolean as its stripped lower-case text, and the booleans as "true" / "false" (not stripped)."""
    texts = _TEXTS.get(call.content)
    if texts is None:
        values = [
            v for row in call.records() for v in row.values() if not isinstance(v, (dict, list)) and v is not None
        ]
        texts = (
            frozenset(str(v).strip().lower() for v in values if not isinstance(v, bool)),
            frozenset(str(v).lower() for v in values if isinstance(v, bool)),
        )
        if len(call.content) <= _TEXTS_LONGEST:
            _TEXTS[call.content] = texts
            if len(_TEXTS) > _TEXTS_KEPT:
                del _TEXTS[next(iter(_TEXTS))]
    return texts


# result text -> `_result_texts` of a call with that result (a function of the text), oldest first
_TEXTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
_TEXTS_KEPT = 2048
_TEXTS_LONGEST = 8192  # a longer result's texts are found each time and not kept


def _stated(view: SessionView, call: CallView, end: int) -> bool:
    """Some value of the call's result appears in an assistant reply after it."""
    return view.stated_after(call, end)


def _in_database(view: SessionView, applied: dict[str, CallView]) -> list[Finding]:
    """Each write that serves a subtask is in the write log and shows in the state rebuilt from it."""
    findings: list[Finding] = []
    logged = {record.tool_call_id for record in view.session.write_log}
    for call in applied.values():
        if call.call_id not in logged:
            findings.append(
                Finding(
                    "effects",
                    (call.result_index,),
                    f"{call.name} at message {call.result_index} is not in the write log",
                )
            )
    try:
        env = SqlEnvironment(base_image(view.session))
    except TurnloomError as exc:
        return findings + [Finding("effects", (0,), f"the database cannot be rebuilt: {exc}")]
    tables: dict[str, str] | None = None  # singular lower-case name -> the table
    try:
        for record in view.session.write_log:
            try:
                env.apply_write(record)
            except TurnloomError as exc:
                findings.append(Finding("effects", (record.message_index,), str(exc)))
                break
            served = applied.get(record.tool_call_id)
            if served is not None:
                if tables is None:  # a logged write can create no table (the authorizer)
                    tables = {}
                    for name in env.table_names():
                        tables.setdefault(singular(name.lower()), name)  # the first by name, as a scan would find
                problem = _state_problem(env, served, tables)
                if problem:
                    findings.append(Finding("effects", (served.result_index,), problem))
    finally:
        env.close()
    return findings


def _state_problem(env: SqlEnvironment, call: CallView, tables: dict[str, str]) -> str | None:
    intent, key = call.intent, call.record_key()
    if intent is None or key is None or not re.fullmatch(r"\w+", key[0]):
        return None
    table = tables.get(intent.table)
    if table is None:
        return None
    rows = env.query(f'SELECT * FROM "{table}" WHERE "{key[0]}" = :key', {"key": key[1]})
    where = f"{table} {key[0]}={shown(key[1])}"
    if intent.kind == "delete":
        return f"{call.name} at message {call.result_index}: {where} is still in the database" if rows else None
    if not rows:
        return f"{call.name} at message {call.result_index}: {where} is not in the database rebuilt from the write log"
    wrong = [f for f, v in intent.fields.items() if f in rows[0] and not same_value(rows[0][f], v)]
    if wrong:
        return (
            f"{call.name} at message {call.result_index}: in the database rebuilt from the write log, {where} has "
            + ", ".join(f"{f}={shown(rows[0][f])!r} (written {shown(intent.fields[f])!r})" for f in wrong)
        )
    return None


def _list(values: list[Any]) -> str:
    return ", ".join(repr(shown(v)) for v in values) or "its values"
