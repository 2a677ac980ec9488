"""What stands between tool SQL and the dialogue's database: the authorizer, the clock guard, bindable values.

`make_authorizer` refuses ATTACH/DETACH, pragmas, extension loading, schema changes,
transaction control, writes from read-only tools and the non-replayable functions;
`ClockGuard` replaces SQLite's date/time functions so the current time is refused
whatever expression spells it; `unbindable` says why SQLite could not take an
argument. Running the SQL and shaping results is `sqlenv`'s business.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

_SCHEMA_ACTIONS = frozenset(
    getattr(sqlite3, name) for name in dir(sqlite3) if name.startswith(("SQLITE_CREATE_", "SQLITE_DROP_"))
) | {sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_REINDEX, sqlite3.SQLITE_ANALYZE}
_WRITE_ACTIONS = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})
_CLOCK_FUNCTIONS = frozenset({"date", "time", "datetime", "julianday", "strftime", "unixepoch", "timediff"})
_ALWAYS_DENIED_FUNCTIONS = frozenset(
    {"load_extension", "random", "randomblob", "current_date", "current_time", "current_timestamp"}
)
_NOW_LITERAL = re.compile(r"'\s*now\s*'", re.IGNORECASE)


class ClockGuard:
    """Replaces SQLite's date/time functions on a connection by ones that refuse the current time.

    The authorizer only sees a function's name, so `datetime('n'||'ow')` or `julianday()` would
    read the clock; these replacements look at the actual argument values at run time, refuse
    'now' (and a call with no time value), and hand everything else to SQLite's own function
    on a private connection, so results are exactly SQLite's.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._helper = sqlite3.connect(":memory:", check_same_thread=False)
        self.refusal: str | None = None
        for name in _CLOCK_FUNCTIONS:
            if name == "timediff" and sqlite3.sqlite_version_info < (3, 43):
                continue  # no timediff() before SQLite 3.43: nothing to guard
            conn.create_function(name, -1, self._replacement(name), deterministic=True)

    def _replacement(self, name: str) -> Callable[..., Any]:
        def clock_function(*args: Any) -> Any:
            # strftime(format, time, ...), timediff(time, time), the others (time, ...)
            times = args[1:2] if name == "strftime" else args[:2] if name == "timediff" else args[:1]
            if not times:  # no time value at all means the current time
                return self._refuse(name)
            if any(isinstance(value, str) and value.strip().lower() == "now" for value in times):
                return self._refuse(name)
            marks = ", ".join("?" * len(args))
            return self._helper.execute(f"SELECT {name}({marks})", args).fetchone()[0]

        return clock_function

    def _refuse(self, name: str) -> Any:
        self.refusal = f"the function {name}() is not allowed with the current time (it is not replayable)"
        raise ValueError(self.refusal)

    def close(self) -> None:
        self._helper.close()


def make_authorizer(sql: str, params: dict[str, Any], allow_writes: bool, denials: list[str]) -> Callable[..., int]:
    """An authorizer for one tool statement; it records why it refused into `denials`."""
    mentions_now = _NOW_LITERAL.search(sql) is not None or any(
        isinstance(v, str) and v.strip().lower() == "now" for v in params.values()
    )

    def authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None) -> int:
        reason = None
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            reason = "ATTACH/DETACH (and VACUUM) are not allowed"
        elif action == sqlite3.SQLITE_PRAGMA:
            reason = f"PRAGMA {arg1} is not allowed"
        elif action in _SCHEMA_ACTIONS:
            reason = "schema changes (CREATE/DROP/ALTER) are not allowed"
        elif action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
            reason = "transaction control is not allowed"
        elif action == sqlite3.SQLITE_FUNCTION:
            name = (arg2 or "").lower()
            if name == "load_extension":
                reason = "loading extensions is not allowed"
            elif name in _ALWAYS_DENIED_FUNCTIONS or (name in _CLOCK_FUNCTIONS and mentions_now):
                reason = f"the function {name}() is not allowed (it is not replayable)"
        elif action in _WRITE_ACTIONS:
            if (arg1 or "").lower() in ("sqlite_master", "sqlite_temp_master", "sqlite_schema"):
                reason = "schema changes (CREATE/DROP/ALTER) are not allowed"
            elif not allow_writes:
                reason = "this tool is read-only; writes are not allowed"
            elif (arg1 or "").lower().startswith("sqlite_"):
                reason = f"writing to the internal table {arg1} is not allowed"
        if reason is None:
            return sqlite3.SQLITE_OK
        denials.append(reason)
        return sqlite3.SQLITE_DENY

    return authorize


def unbindable(params: dict[str, Any]) -> str | None:
    """Why SQLite cannot take one of `params` (a number out of its range, text that is not UTF-8), or None."""
    for name, value in params.items():
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            return f"argument {name!r}: {value} is out of range for a database integer (-2^63 to 2^63-1)"
        if isinstance(value, float) and value != value:
            return f"argument {name!r}: NaN is not a number the database can store"
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"argument {name!r}: the text holds a lone surrogate (not valid Unicode)"
    return None
