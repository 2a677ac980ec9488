"""Toolset files: a forge's tools, saved for reuse, and checked before a dialogue uses them.

A toolset file (JSON) holds what `turnloom forge` made: the tools in turnloom's
`ToolSpec` shape (OpenAI function schema, optional output schema and SQL), the
tools the forge dropped with the reason, what they were forged for (domain or
database, tool execution), who forged them (profile and model *names*, never a
key) and what it cost. `save_toolset` writes one atomically; `load_toolset`
reads one and says what is wrong with a broken or truncated file.

`check_tools` decides whether tools can serve a dialogue: every parameter and
output schema must be a valid JSON Schema, names unique; in `sql` execution
every tool needs SQL, and each one must run on a scratch copy of the dialogue's
database (tools identical to the introspected ones are already proven). The
same dry run judges the SQL tools an LLM writes (`players.llm.forge`). Making
toolsets is `forging`'s business.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Final, Literal

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from turnloom.core.errors import ToolsetError
from turnloom.core.models import ToolExecution, ToolSpec, Usage
from turnloom.core.storage.snapshot import atomic_writer
from turnloom.core.tools.schema import quote_ident
from turnloom.core.tools.sqlenv import SqlEnvironment, validate_arguments
from turnloom.core.untrusted import SchemaRefError, offline_validator, writable_data

TOOLSET_FORMAT: Final = "turnloom-toolset"
TOOLSET_VERSION = 1
# OpenAI's rule for function names
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# a statement that breaks one of these is sound: only the sample row conflicts with the data
_DATA_CONFLICTS = ("UNIQUE constraint failed", "FOREIGN KEY constraint failed")
_MAX_LISTED = 8


class DroppedTool(BaseModel):
    """A tool the forge made but did not keep, and why."""

    model_config = ConfigDict(extra="forbid")

    name: str
    reason: str
    stage: str = "sql_tools"
    """Where it was dropped: derive (introspection), tools, expansion or sql_tools."""


class Toolset(BaseModel):
    """The file format of a forged toolset."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["turnloom-toolset"] = TOOLSET_FORMAT
    """Marks the file as a turnloom toolset."""
    format_version: int = TOOLSET_VERSION
    """Bumped when the shape changes incompatibly."""
    domain: str
    """The built-in domain, or the database file's stem."""
    db: str | None = None
    """The user-supplied SQLite file the tools were forged for (absolute path); None for a domain."""
    execution: ToolExecution = ToolExecution.SQL
    """The tool execution the tools were forged for."""
    synthetic: bool = False
    """Forged with no database (the paper's synthetic-tool variant): `domain` is a topic, not a pack, and
    dialogues run in simulated execution over an empty database."""
    seed_tools: str | None = None
    """The seed-tools file question generation started from (`--seed-tools`); None for the introspected tools."""
    forge: str = "offline"
    """The profile that played the forge role, or `offline` (introspection only)."""
    model: str | None = None
    """The model of that profile."""
    seed: int = 0
    """The seed sent with every forge request."""
    questions: list[str] = Field(default_factory=list)
    """The user questions the tools were generated for (simulated execution)."""
    tools: list[ToolSpec]
    """The tools, in the order the assistant sees them."""
    dropped: list[DroppedTool] = Field(default_factory=list)
    """Tools made but not kept, with the reason."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens the forge spent (recorded usage for replies answered from a cache)."""
    requests: int = 0
    """Model requests the forge made (repair rounds included)."""
    source: str | None = Field(default=None, exclude=True)
    """The file this toolset was read from (not stored)."""

    def counts(self) -> dict[str, int]:
        """How many tools of each origin (derived, generated, ...)."""
        out: dict[str, int] = {}
        for spec in self.tools:
            out[str(spec.origin)] = out.get(str(spec.origin), 0) + 1
        return out


def save_toolset(path: str | Path, toolset: Toolset) -> None:
    """Write `toolset` to `path` atomically (temp file + rename).

    Raises:
        SessionFileError: the folder is not writable.
    """
    text = toolset.model_dump_json(indent=1, exclude={"source"})
    with atomic_writer(path) as out:
        out.write(text)
        out.write("\n")


def file_sha256(path: str | Path) -> str:
    """The content hash of a file (a batch config pins its toolset by it)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_toolset(path: str | Path, flag: str = "--tools") -> Toolset:
    """Read a toolset file, with a message that names the file and what is wrong.

    Args:
        path: the file.
        flag: the option that named it, for the messages.

    Raises:
        ToolsetError: missing, unreadable, not JSON (e.g. truncated), not a toolset,
            a newer format, or a field of the wrong shape (named by its path).
    """
    file = Path(path).expanduser()
    where = f"{flag} {path}"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ToolsetError(f"{where}: no such file; write one with `turnloom forge ... --out {path}`") from None
    except IsADirectoryError:
        raise ToolsetError(f"{where}: is a folder, not a toolset file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolsetError(f"{where}: cannot read the file ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = writable_data(json.loads(text))
    except RecursionError:
        raise ToolsetError(f"{where}: nested too deeply to be a toolset file; forge it again") from None
    except json.JSONDecodeError as exc:
        hint = "" if text.rstrip().endswith("}") else " (the file looks truncated)"
        raise ToolsetError(
            f"{where}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}; "
            "forge it again with `turnloom forge`"
        ) from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise ToolsetError(f"{where}: holds a number with thousands of digits; forge it again") from None
    if not isinstance(data, dict) or data.get("format") != TOOLSET_FORMAT:
        raise ToolsetError(f'{where}: not a turnloom toolset file (it has no "format": "{TOOLSET_FORMAT}")')
    version = data.get("format_version")
    if isinstance(version, int) and version > TOOLSET_VERSION:
        raise ToolsetError(
            f"{where}: format_version {version} is newer than this turnloom reads ({TOOLSET_VERSION}); upgrade turnloom"
        )
    try:
        toolset = Toolset.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ToolsetError(f"{where}: {_location(first['loc'], data)}: {first['msg']}") from None
    except RecursionError:
        raise ToolsetError(f"{where}: nested too deeply to be a toolset file; forge it again") from None
    toolset.source = str(file)
    return toolset


def _location(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """`tools[3] (get_x).parameters` for a pydantic error location."""
    parts: list[str] = []
    for index, key in enumerate(loc):
        if isinstance(key, int):
            parts[-1] += f"[{key}]"
            if loc[:index] == ("tools",):
                tools = data.get("tools")
                name = tools[key].get("name") if isinstance(tools, list) and isinstance(tools[key], dict) else None
                if isinstance(name, str):
                    parts[-1] += f" ({name})"
        else:
            parts.append(str(key))
    return ".".join(parts) or "the file"


# -- checking tools against a dialogue ------------------------------------------------------


def schema_problems(spec: ToolSpec) -> list[str]:
    """What is wrong with a tool's name and schemas (empty when nothing is)."""
    problems = []
    if not TOOL_NAME.match(spec.name):
        problems.append("the name must be 1-64 letters, digits, _ or -")
    params = spec.parameters
    if params.get("type") != "object":
        problems.append('its parameters must be a JSON Schema of "type": "object"')
    for label, schema in (("parameters", params), ("output_schema", spec.output_schema)):
        if schema is None:
            continue
        verb = "are" if label == "parameters" else "is"
        try:
            offline_validator(schema)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.path)
            problems.append(
                f"its {label} {verb} not a valid JSON Schema ({exc.message}{' at ' + where if where else ''})"
            )
        except SchemaRefError as exc:
            problems.append(f"its {label} {verb} not a usable JSON Schema: {exc}")
        except RecursionError:
            problems.append(f"its {label} {verb} nested too deeply to be a JSON Schema")
    return problems


def check_tools(
    tools: list[ToolSpec],
    image: bytes,
    execution: ToolExecution,
    proven: list[ToolSpec] | None = None,
    where: str = "toolset",
) -> None:
    """Refuse tools that cannot serve a dialogue on `image` under `execution`.

    Args:
        tools: the tools.
        image: the dialogue's database (serialized SQLite).
        execution: `sql` needs SQL in every tool, each run on a scratch copy;
            `simulated` checks only names and schemas.
        proven: tools already known to run on `image` (the introspected ones); a tool
            with the same SQL and parameters is not run again.
        where: what to name in the message (the file and flag).

    Raises:
        ToolsetError: one line per offending tool (the first few), with what to do.
    """
    if not tools:
        raise ToolsetError(f"{where}: has no tools")
    problems: list[str] = []
    seen: set[str] = set()
    for spec in tools:
        if spec.name in seen:
            problems.append(f"{spec.name}: another tool already has this name")
        seen.add(spec.name)
        problems += [f"{spec.name}: {p}" for p in schema_problems(spec)]
    if problems:
        raise ToolsetError(_listing(where, problems, "fix or remove these tools"))
    if execution is not ToolExecution.SQL:
        return
    without_sql = [spec.name for spec in tools if not spec.sql]
    if without_sql:
        names = ", ".join(without_sql[:_MAX_LISTED]) + (
            f" and {len(without_sql) - _MAX_LISTED} more" if len(without_sql) > _MAX_LISTED else ""
        )
        raise ToolsetError(
            f"{where}: {len(without_sql)} tool(s) have no SQL, so they cannot run in sql execution: {names}; "
            "use --execution simulated (their results are then simulated), or forge for sql "
            "(turnloom forge --execution sql)"
        )
    known = {(t.name, t.sql, json.dumps(t.parameters, sort_keys=True), t.writes, t.returns) for t in proven or []}
    columns = table_columns(image)
    with SqlEnvironment(image) as env:
        for spec in tools:
            if (spec.name, spec.sql, json.dumps(spec.parameters, sort_keys=True), spec.writes, spec.returns) in known:
                continue
            problem = sql_problem(spec, env, columns)
            if problem:
                problems.append(f"{spec.name}: {problem}")
    if problems:
        raise ToolsetError(
            _listing(where, problems, "forge again for this database, or remove these tools from the file")
        )


def usable_tools(toolset: Toolset, image: bytes, execution: ToolExecution) -> list[ToolSpec]:
    """Copies of the toolset's tools, once `check_tools` finds them fit for `image` and `execution`.

    The tools introspected from `image` are proven there: a toolset's copies of them are not run again.

    Raises:
        ToolsetError: naming the toolset's file and each tool that cannot serve.
    """
    from turnloom.core.tools.derive import derive_tools

    proven = derive_tools(image).tools if execution is ToolExecution.SQL else []
    where = f"--tools {toolset.source}" if toolset.source else "toolset"
    check_tools(toolset.tools, image, execution, proven, where)
    return [spec.model_copy(deep=True) for spec in toolset.tools]


def _listing(where: str, problems: list[str], advice: str) -> str:
    shown = "\n".join(f"  {p}" for p in problems[:_MAX_LISTED])
    more = f"\n  ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
    return f"{where}: {len(problems)} tool(s) cannot be used:\n{shown}{more}\n{advice}"


def table_columns(image: bytes) -> dict[str, dict[str, str]]:
    """table -> column -> declared type, for the database `image`."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(image))
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        ]
        return {t: {r[1]: r[2] for r in conn.execute(f"PRAGMA table_info({quote_ident(t)})")} for t in tables}
    finally:
        conn.close()


def sql_problem(spec: ToolSpec, env: SqlEnvironment, columns: dict[str, dict[str, str]]) -> str | None:
    """None when `spec` runs on a scratch copy with arguments drawn from the data; else why not.

    The run is rolled back. A write that only trips a UNIQUE or FOREIGN KEY
    constraint is sound: the sample row conflicts with the data, not the SQL.
    """
    args = sample_arguments(spec, env, columns)
    unfit = validate_arguments(spec, args)
    if unfit:
        return f"no sample arguments fit its parameters ({unfit})"
    result = env.dry_run(spec, args)
    if not result.is_error or any(conflict in result.content for conflict in _DATA_CONFLICTS):
        return None
    return f"it failed on a scratch copy with {json.dumps(args, ensure_ascii=False, default=str)}: {result.content}"


def sample_arguments(spec: ToolSpec, env: SqlEnvironment, columns: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Arguments for trying `spec`: each parameter's value from the column of the same name, if any."""
    args: dict[str, Any] = {}
    for param, schema in (spec.parameters.get("properties") or {}).items():
        schema = schema if isinstance(schema, dict) else {}
        kind = schema.get("type")
        kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
        if "enum" in schema and schema["enum"]:
            args[param] = schema["enum"][0]
            continue
        if param == "limit":
            args[param] = 5
            continue
        if param.endswith("_pattern"):
            args[param] = "%"
            continue
        base = param.removeprefix("new_")
        table = next((t for t, cols in columns.items() if base in cols), None)
        value = None
        if table is not None:
            column, source = quote_ident(base), quote_ident(table)
            rows = env.query(f"SELECT {column} AS v FROM {source} WHERE {column} IS NOT NULL LIMIT 1")
            value = _as_type(rows[0]["v"], kind) if rows else None
        if value is None:
            value = _placeholder(kind, schema.get("format"))
        args[param] = value
    return args


def _as_type(value: Any, kind: str | None) -> Any:
    """`value` as a JSON Schema type wants it, or None when it cannot be."""
    try:
        if kind == "integer":
            number = float(value)
            return int(number) if number.is_integer() else None
        if kind == "number":
            return float(value)
        if kind == "boolean":
            return bool(value)
        if kind == "string":
            return value if isinstance(value, str) else str(value)
    except (TypeError, ValueError):
        return None
    return value if kind is None else None


def _placeholder(kind: str | None, fmt: str | None) -> Any:
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return {"date": "2025-01-01", "date-time": "2025-01-01T00:00:00"}.get(fmt or "", "sample")
