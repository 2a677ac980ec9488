"""The SQL tool environment: one dialogue's own SQLite database, and the tools that run on it.

A `SqlEnvironment` is an in-memory copy of a base image (a serialized database),
so a dialogue's writes persist across its turns and tasks and never reach another
dialogue. Tool SQL runs with bound parameters only, under an authorizer that
refuses ATTACH/DETACH, pragmas, extension loading, schema changes, VACUUM,
transaction control and non-deterministic functions (so every write replays
exactly). Tool failures come back as error results, never as exceptions.

Reads by the roles (`query`) on a database nothing has written to yet are shared
between the environments of one base image (`PristineReads`): a batch's dialogues
all start from the same image, and their task generators and offline players ask it
the same questions. Every statement is deterministic (the authorizer and the clock
guard see to that), so a read of the untouched image has one answer.

Base images come from `dbimage`; deriving tools from a schema is left to
`forge`; turning a `WriteEffect` into a logged `WriteRecord` is left to the engine.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jsonschema

from turnloom.core.errors import DatabaseError
from turnloom.core.models import ToolSpec, WriteRecord
from turnloom.core.tools.sql_guards import ClockGuard, make_authorizer, unbindable
from turnloom.core.untrusted import SchemaRefError, offline_validator

MAX_ROWS = 1000  # rows a single tool call may return; more are cut off
MAX_STEPS = 100_000  # progress-handler ticks (of 1000 VM steps, about a second) before a call is interrupted
_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/)*", re.DOTALL)
MAX_RESULT_BYTES = 256 * 1024  # default cap on one tool result's JSON text (`GenerationConfig.max_tool_result_bytes`)


@dataclass(frozen=True)
class WriteEffect:
    """What a successful write did, enough to replay it."""

    sql: str
    params: dict[str, Any]
    rowcount: int
    lastrowid: int | None = None


@dataclass(frozen=True)
class ToolResult:
    """The answer to one tool call: JSON text for the assistant, plus the write it made."""

    content: str
    is_error: bool = False
    write: WriteEffect | None = None

    @classmethod
    def error(cls, message: str, kind: str) -> ToolResult:
        return cls(_to_json({"error": message, "type": kind}), is_error=True)


class _Refused(Exception):
    """Tool SQL refused before it reached SQLite."""


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _first_keyword(sql: str) -> str:
    rest = _LEADING_NOISE.sub("", sql, count=1)
    match = re.match(r"[A-Za-z]+", rest)
    return match.group(0).upper() if match else ""


def _is_insert(sql: str) -> bool:
    keyword = _first_keyword(sql)
    if keyword in ("INSERT", "REPLACE"):
        return True
    return keyword == "WITH" and re.search(r"\b(INSERT|REPLACE)\b", sql, re.IGNORECASE) is not None


@functools.lru_cache(maxsize=1024)
def _validator(schema_json: str) -> jsonschema.Draft202012Validator:
    validator: jsonschema.Draft202012Validator = offline_validator(json.loads(schema_json))
    return validator


# the validators of the parameter schemas called lately, by the schema's identity: a batch's dialogues
# share their `ToolSpec`s (`SessionFactory`), and encoding the schema for `_validator`'s key cost as much
# as checking the arguments
_BY_IDENTITY: dict[int, tuple[dict[str, Any], jsonschema.Draft202012Validator]] = {}


def _validator_of(parameters: dict[str, Any]) -> jsonschema.Draft202012Validator:
    known = _BY_IDENTITY.get(id(parameters))
    if known is None or known[0] is not parameters:
        validator = _validator(json.dumps(parameters, sort_keys=True))  # equal schemas share one validator
        if len(_BY_IDENTITY) >= 256:
            _BY_IDENTITY.clear()
        # the schema is held beside its validator, so its id cannot pass to another object
        known = _BY_IDENTITY[id(parameters)] = (parameters, validator)
    return known[1]


def validate_arguments(spec: ToolSpec, arguments: Any) -> str | None:
    """Check a call's arguments against the tool's parameter schema (JSON Schema 2020-12).

    Args:
        spec: the tool.
        arguments: the parsed arguments.

    Returns:
        None when they fit, else a message naming each offending argument
        (or saying the tool's own schema is invalid).
    """
    if not isinstance(arguments, dict):
        return "arguments must be a JSON object"
    try:
        validator = _validator_of(spec.parameters)
    except jsonschema.SchemaError as exc:
        return f"the tool's parameter schema is invalid: {exc.message}"
    except SchemaRefError as exc:
        return f"the tool's parameter schema cannot be used: {exc}"
    except RecursionError:
        return "the tool's parameter schema is nested too deeply to be checked"
    try:
        errors = sorted(validator.iter_errors(arguments), key=lambda e: [str(p) for p in e.path])
    except RecursionError:
        return "the arguments are nested too deeply for the tool's parameter schema"
    if not errors:
        return None
    parts = []
    for err in errors:
        where = f"argument {'.'.join(str(p) for p in err.path)!r}: " if err.path else ""
        parts.append(where + err.message)
    return "; ".join(parts)


def _bindable(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


class PristineReads:
    """Answers of `SqlEnvironment.query` on base images nothing has written to, shared per image.

    At most `IMAGES` images (least recently used out first; an image's entry keeps its bytes,
    which its sessions' environments hold anyway) and `PER_IMAGE` statements each; results of
    more than `MAX_ROWS` rows are not kept. Entries are whole results: callers get copies.
    """

    IMAGES = 4
    PER_IMAGE = 1024
    MAX_ROWS = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._images: OrderedDict[bytes, OrderedDict[tuple, list[dict[str, Any]]]] = OrderedDict()

    def get(self, image: bytes, key: tuple) -> list[dict[str, Any]] | None:
        with self._lock:
            reads = self._images.get(image)
            rows = reads.get(key) if reads is not None else None
            if rows is None:
                return None
            self._images.move_to_end(image)
            reads.move_to_end(key)  # type: ignore[union-attr]
        return [dict(row) for row in rows]

    def put(self, image: bytes, key: tuple, rows: list[dict[str, Any]]) -> None:
        if len(rows) > self.MAX_ROWS:
            return
        kept = [dict(row) for row in rows]
        with self._lock:
            reads = self._images.get(image)
            if reads is None:
                reads = self._images[image] = OrderedDict()
                if len(self._images) > self.IMAGES:
                    self._images.popitem(last=False)
            else:
                self._images.move_to_end(image)
            reads[key] = kept
            if len(reads) > self.PER_IMAGE:
                reads.popitem(last=False)


class SqlEnvironment:
    """One dialogue's database: an in-memory copy of a base image.

    Args:
        base_image: a serialized SQLite database (see `load_database_image`,
            `build_pack_image`). It is copied; the bytes are never changed.
        max_result_bytes: the cap on one tool result's JSON text; a bigger result is an error
            result, and SQLite refuses to build a single value larger than that in the first place.
    """

    def __init__(self, base_image: bytes, *, max_result_bytes: int = MAX_RESULT_BYTES) -> None:
        self._lock = threading.RLock()
        self.max_result_bytes = max_result_bytes
        # the key of its reads while nothing is written (`PristineReads`)
        self._image = base_image if type(base_image) is bytes else None
        self._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._conn.deserialize(bytes(base_image))
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._clock = ClockGuard(self._conn)

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> SqlEnvironment:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the database. Further calls fail."""
        self._conn.close()
        self._clock.close()

    @classmethod
    def rebuilt(
        cls,
        base_image: bytes,
        write_log: Iterable[WriteRecord],
        upto: int | None = None,
        *,
        max_result_bytes: int = MAX_RESULT_BYTES,
    ) -> SqlEnvironment:
        """A new environment with the logged writes replayed in order.

        Args:
            base_image: the dialogue's starting database.
            write_log: the session's write records, in commit order.
            upto: replay only writes whose `message_index < upto`; all when None.

        Returns:
            The rebuilt environment.

        Raises:
            DatabaseError: a logged write no longer applies to this image.
        """
        env = cls(base_image, max_result_bytes=max_result_bytes)
        for record in write_log:
            if upto is None or record.message_index < upto:
                env.apply_write(record)
        return env

    # -- tools -------------------------------------------------------------

    def execute(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolResult:
        """Run one tool call; failures come back as error results, never as exceptions.

        Args:
            spec: the tool; its `sql` uses `:named` parameters.
            arguments: the parsed arguments of the call.

        Returns:
            The result: a row object (or null), an array of rows, or
            `{"rowcount", "lastrowid"}` with its `WriteEffect` for a write.
        """
        if not spec.sql:
            return ToolResult.error(f"the tool {spec.name} has no SQL to run", "not_executable")
        problems = validate_arguments(spec, arguments)
        if problems:
            broken = problems.startswith("the tool's parameter schema")
            return ToolResult.error(problems, "invalid_tool" if broken else "invalid_arguments")
        properties = spec.parameters.get("properties", {})
        params = {name: _bindable(arguments.get(name)) for name in properties}
        problem = unbindable(params)
        if problem:
            return ToolResult.error(problem, "invalid_arguments")
        try:
            rows, rowcount, lastrowid = self._run(spec.sql, params, allow_writes=spec.writes, capped=True)
        except (sqlite3.Error, _Refused) as exc:
            return ToolResult.error(str(exc), "sql_error")
        except (OverflowError, ValueError, TypeError, MemoryError) as exc:  # a value SQLite cannot take or give
            return ToolResult.error(f"the database cannot run this call: {exc}", "sql_error")
        if spec.writes:
            body: dict[str, Any] = {"rowcount": rowcount}
            if _is_insert(spec.sql):
                lastrowid = lastrowid if rowcount > 0 else None  # INSERT OR IGNORE that inserted nothing
                body["lastrowid"] = lastrowid
            else:
                lastrowid = None
            effect = WriteEffect(spec.sql, params, rowcount, lastrowid)
            return ToolResult(_to_json(body), write=effect)
        content = _to_json(rows[0] if rows else None) if spec.returns == "one" else _to_json(rows)
        if len(content) > self.max_result_bytes or len(content.encode("utf-8")) > self.max_result_bytes:
            return ToolResult.error(
                f"the result is {len(content.encode('utf-8'))} bytes, over the cap of {self.max_result_bytes}; "
                "ask for fewer rows or columns",
                "result_too_large",
            )
        return ToolResult(content)

    def dry_run(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolResult:
        """Run a tool call and undo whatever it changed (used to validate tools).

        Args:
            spec: the tool.
            arguments: the call's arguments.

        Returns:
            The result the call would have had.
        """
        with self._lock:
            self._conn.execute("SAVEPOINT turnloom_dry_run")
            try:
                return self.execute(spec, arguments)
            finally:
                self._conn.execute("ROLLBACK TO turnloom_dry_run")
                self._conn.execute("RELEASE turnloom_dry_run")

    def apply_write(self, effect: WriteEffect | WriteRecord) -> None:
        """Re-run a logged write (rebuilding state for fork or replay).

        Args:
            effect: a `WriteEffect` from `execute`, or a session's `WriteRecord`.

        Raises:
            DatabaseError: the write fails on the current state.
        """
        try:
            self._run(effect.sql, dict(effect.params), allow_writes=True)
        except (sqlite3.Error, _Refused) as exc:
            raise DatabaseError(
                f"a logged write cannot be replayed ({exc}): {effect.sql!r}; "
                "the session's write log does not fit this database"
            ) from exc

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a read-only SELECT for the offline roles (sampling rows for tasks).

        Args:
            sql: one statement with `:named` parameters.
            params: the values to bind.

        Returns:
            The rows as dicts, column name -> raw value.

        Raises:
            DatabaseError: the SQL fails or tries to write.
        """
        image, key = self._image, None
        try:
            # nothing written through this connection yet (a refused or rolled-back write counts too):
            # the database is its base image, whose answers are shared (`PristineReads`)
            if image is not None and self._conn.total_changes == 0:
                key = _read_key(sql, params)
                if key is not None and (cached := _PRISTINE_READS.get(image, key)) is not None:
                    return cached
            rows, _, _ = self._run(sql, dict(params or {}), allow_writes=False, max_rows=None)
            if key is not None and self._conn.total_changes == 0:
                _PRISTINE_READS.put(image, key, rows)  # type: ignore[arg-type]
        except (sqlite3.Error, _Refused) as exc:
            raise DatabaseError(f"query failed ({exc}): {sql!r}") from exc
        return rows

    def _run(
        self,
        sql: str,
        params: dict[str, Any],
        *,
        allow_writes: bool,
        max_rows: int | None = MAX_ROWS,
        capped: bool = False,
    ) -> tuple[list[dict[str, Any]], int, int | None]:
        if _first_keyword(sql) == "VACUUM":
            raise _Refused("VACUUM is not allowed")
        denials: list[str] = []
        ticks = 0

        def progress() -> int:
            nonlocal ticks
            ticks += 1
            return 1 if ticks > MAX_STEPS else 0

        with self._lock:
            conn = self._conn
            problem = unbindable(params)
            if problem:
                raise _Refused(problem)
            self._clock.refusal = None
            # no single value bigger than a whole result may be built (zeroblob(10**9) fails at once)
            # (a tool call only: replaying a logged write or sampling rows is never capped)
            length_limit = conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
            if capped:
                conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, self.max_result_bytes)
            conn.execute("SAVEPOINT turnloom_call")
            conn.set_authorizer(make_authorizer(sql, params, allow_writes, denials))
            conn.set_progress_handler(progress, 1000)
            try:
                cursor = conn.execute(sql, params)
                names = [d[0] for d in cursor.description or ()]
                raw = cursor.fetchall() if max_rows is None else cursor.fetchmany(max_rows)
                rows = [dict(zip(names, row)) for row in raw]
                rowcount, lastrowid = cursor.rowcount, cursor.lastrowid
                cursor.close()
            except BaseException as exc:
                # whatever happened (a SQLite error, a value it cannot bind, an interrupt), the
                # connection leaves this call as it came: no savepoint open, no authorizer set
                conn.set_authorizer(None)
                conn.set_progress_handler(None, 0)
                conn.execute("ROLLBACK TO turnloom_call")
                conn.execute("RELEASE turnloom_call")
                if not isinstance(exc, sqlite3.Error):
                    raise
                if denials:
                    raise _Refused(denials[0]) from exc
                if self._clock.refusal:
                    raise _Refused(self._clock.refusal) from exc
                if ticks > MAX_STEPS:
                    raise _Refused("the statement ran too long and was interrupted") from exc
                if isinstance(exc, sqlite3.ProgrammingError) and "one statement" in str(exc):
                    raise _Refused("multiple statements are not allowed; tool SQL is one statement") from exc
                raise
            finally:
                conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, length_limit)
            conn.set_authorizer(None)
            conn.set_progress_handler(None, 0)
            conn.execute("RELEASE turnloom_call")
        return rows, rowcount, lastrowid

    # -- state -------------------------------------------------------------

    def table_names(self) -> list[str]:
        """User tables (no sqlite_* internals), sorted by name."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            ).fetchall()
        return [r[0] for r in rows]

    def row_counts(self) -> dict[str, int]:
        """Table name -> number of rows."""
        with self._lock:
            return {
                t: self._conn.execute(f"SELECT COUNT(*) FROM {_ident(t)}").fetchone()[0] for t in self.table_names()
            }

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every user table's rows, in rowid order (all columns for WITHOUT ROWID tables)."""
        out: dict[str, list[dict[str, Any]]] = {}
        with self._lock:
            for table in self.table_names():
                try:
                    cursor = self._conn.execute(f"SELECT * FROM {_ident(table)} ORDER BY rowid")
                except sqlite3.OperationalError:
                    cursor = self._conn.execute(f"SELECT * FROM {_ident(table)}")
                    names = [d[0] for d in cursor.description]
                    order = ", ".join(str(i + 1) for i in range(len(names)))
                    cursor = self._conn.execute(f"SELECT * FROM {_ident(table)} ORDER BY {order}")
                names = [d[0] for d in cursor.description]
                out[table] = [dict(zip(names, row)) for row in cursor.fetchall()]
        return out

    def state_digest(self) -> str:
        """A sha256 over a canonical dump of every table: equal digests, equal states."""
        canonical = json.dumps(self.dump(), sort_keys=True, ensure_ascii=False, default=_json_default)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def image(self) -> bytes:
        """The current database, serialized (usable as another environment's base image)."""
        with self._lock:
            return self._conn.serialize()


def _read_key(sql: str, params: dict[str, Any] | None) -> tuple | None:
    """A statement and its values as a key (each value with its type: 1, 1.0 and True read apart); None if unhashable."""
    key = (sql, tuple((name, type(value).__name__, value) for name, value in sorted((params or {}).items())))
    try:
        hash(key)
    except TypeError:  # a list or dict value, which the query refuses anyway
        return None
    return key


# one per process: what every environment of a base image shares (see the module's docstring)
_PRISTINE_READS = PristineReads()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
