"""Derive tools from any SQLite database by introspection (the offline half of the tool forge).

For each table `t` with entity `e = singular(t)` the forge writes parameterised
SQL tools: `get_{e}_by_{col}` (primary key and single-column UNIQUE columns),
`search_{t}`, `create_{e}`, `update_{e}_{col}`, `delete_{e}`, and for each
foreign key `child.fk -> parent` `get_{parent_e}_{child_t}` plus its `_summary`.
Domain packs and the offline assistant rely on these names.

Every tool is tried on a scratch copy with arguments drawn from the data; a tool
that fails is reported in `ForgeReport.dropped` instead. That is done once per
database content in a process (keyed by the image's SHA-256, not a path): a batch
creates a session per dialogue on the same database. Running tools for a
dialogue is left to `sqlenv`; LLM-written tools to the online forge.
"""

from __future__ import annotations

import base64
import hashlib
import pickle
import re
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

from turnloom.core.tools.schema import (
    Column,
    Table,
    introspect,
    quote_ident,
    singular,
    value_schema,
    words,
)

__all__ = ["LIMIT_SCHEMA", "ForgeReport", "derive_tools", "singular", "value_schema"]
from turnloom.core.models import ToolOrigin, ToolSpec
from turnloom.core.tools.sqlenv import SqlEnvironment

LIMIT_SCHEMA = {
    "type": "integer",
    "minimum": 1,
    "maximum": 100,
    "default": 20,
    "description": "Most rows to return (1-100, default 20).",
}
_UNREPLAYABLE_DEFAULT = re.compile(r"CURRENT_|'now'|RANDOM", re.IGNORECASE)


@dataclass
class ForgeReport:
    """What the forge derived: working tools, and the ones it dropped with the reason."""

    tools: list[ToolSpec] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


def _out(col: Column, nullable: bool) -> dict[str, Any]:
    schema = dict(col.schema)
    if nullable:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def _row_schema(t: Table) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {c.name: _out(c, not c.notnull) for c in t.columns},
        "required": [c.name for c in t.columns],
        "additionalProperties": False,
    }


def _params(props: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _prop(col: Column, description: str) -> dict[str, Any]:
    return {**col.schema, "description": description}


def _write_schema(insert: bool) -> dict[str, Any]:
    props: dict[str, Any] = {"rowcount": {"type": "integer"}}
    if insert:
        props["lastrowid"] = {"type": ["integer", "null"]}
    return _params(props, list(props))


def _tool(
    name: str,
    description: str,
    parameters: dict[str, Any],
    sql: str,
    output: dict[str, Any],
    returns: Literal["one", "many"] | None = None,
) -> ToolSpec:
    return ToolSpec(
        name=name,
        description=description,
        parameters=parameters,
        output_schema=output,
        sql=sql,
        returns=returns,
        writes=returns is None,
        origin=ToolOrigin.DERIVED,
    )


def _table_tools(t: Table, children: list[tuple[Table, Column]]) -> list[tuple[ToolSpec, Table]]:
    """The table's tools, each with the table its sample arguments come from."""
    e, T, row = t.entity, quote_ident(t.name), _row_schema(t)
    cols = ", ".join(quote_ident(c.name) for c in t.columns)
    tools = [
        _tool(
            f"get_{e}_by_{col.param}",
            f"Get one {words(e)} by its {words(col.name)}; null when there is none.",
            _params({col.param: _prop(col, f"The {words(col.name)} of the {words(e)}.")}, [col.param]),
            f"SELECT {cols} FROM {T} WHERE {quote_ident(col.name)} = :{col.param}",
            {**row, "type": ["object", "null"]},
            "one",
        )
        for col in ([t.pk, *t.unique] if t.pk else [])
    ]
    tools += [_search_tool(t, cols, row), _create_tool(t)]
    if t.pk is None:
        return [(spec, t) for spec in tools]
    pk, key = t.pk, f"{quote_ident(t.pk.name)} = :{t.pk.param}"
    pk_prop = _prop(pk, f"The {words(pk.name)} of the {words(e)}.")
    for c in t.columns:
        if c is not pk and c.hidden == 0:
            tools.append(
                _tool(
                    f"update_{e}_{c.param}",
                    f"Change the {words(c.name)} of one {words(e)}, found by its {words(pk.name)}.",
                    _params({pk.param: pk_prop, c.param: _prop(c, f"The new {words(c.name)}.")}, [pk.param, c.param]),
                    f"UPDATE {T} SET {quote_ident(c.name)} = :{c.param} WHERE {key}",
                    _write_schema(False),
                )
            )
    tools.append(
        _tool(
            f"delete_{e}",
            f"Delete one {words(e)} by its {words(pk.name)}.",
            _params({pk.param: pk_prop}, [pk.param]),
            f"DELETE FROM {T} WHERE {key}",
            _write_schema(False),
        )
    )
    out = [(spec, t) for spec in tools]
    for child, fk in children:
        ambiguous = sum(p == t.name for _, p in child.fks) > 1
        out += [(spec, child) for spec in _fk_tools(t, child, fk, ambiguous)]
    return out


def _search_tool(t: Table, cols: str, row: dict[str, Any]) -> ToolSpec:
    props: dict[str, Any] = {}
    conds = []
    fk_cols = {c.name for c, _ in t.fks}
    for col in t.columns:
        if col.name in t.pk_names or "BLOB" in col.declared.upper() or not col.declared:
            continue  # keys have their get_ tool; blobs make no sense as filters
        q, p = quote_ident(col.name), col.param
        if col.is_text:
            props[p] = _prop(col, f"Text found anywhere in the {words(col.name)} (any case).")
            conds.append(f"(:{p} IS NULL OR instr(lower({q}), lower(:{p})) > 0)")
        else:  # numbers, dates-as-equality and enums match exactly ('paid' must not match 'unpaid')
            props[p] = _prop(col, f"Exact {words(col.name)}.")
            conds.append(f"(:{p} IS NULL OR {q} = :{p})")
        if (col.numeric or "format" in col.schema) and col.name not in fk_cols:
            for bound, op, word in (("min", ">=", "Smallest"), ("max", "<=", "Largest")):
                name = f"{bound}_{p}"
                if name not in props and all(c.param != name for c in t.columns):
                    props[name] = {**col.schema, "description": f"{word} {words(col.name)} to include."}
                    conds.append(f"(:{name} IS NULL OR {q} {op} :{name})")
    props["limit"] = LIMIT_SCHEMA
    return _tool(
        f"search_{t.part}",
        f"Search {words(t.name)}; every filter is optional; text filters match a substring, "
        f"case-insensitively. Ordered by {words(', '.join(t.pk_names) or 'rowid')}.",
        _params(props, []),
        f"SELECT {cols} FROM {quote_ident(t.name)} WHERE {' AND '.join(conds) or '1'} "
        f"ORDER BY {t.order_by} LIMIT COALESCE(:limit, 20)",
        {"type": "array", "items": row},
        "many",
    )


def _create_tool(t: Table) -> ToolSpec:
    insert_cols = [c for c in t.columns if c.hidden == 0 and not (t.rowid_alias and c is t.pk)]
    values, required = [], []
    for c in insert_cols:
        # a default like CURRENT_TIMESTAMP would differ on replay: the caller must give the value
        replayable_default = c.default is not None and not _UNREPLAYABLE_DEFAULT.search(c.default)
        values.append(f"COALESCE(:{c.param}, {c.default})" if replayable_default else f":{c.param}")
        if (c.notnull or c.name in t.pk_names) and not replayable_default:
            required.append(c.param)
    return _tool(
        f"create_{t.entity}",
        f"Create a new {words(t.entity)}; optional fields keep their defaults. Returns the new row's id as lastrowid.",
        _params({c.param: _prop(c, f"The {words(c.name)}.") for c in insert_cols}, required),
        f"INSERT INTO {quote_ident(t.name)} ({', '.join(quote_ident(c.name) for c in insert_cols)}) "
        f"VALUES ({', '.join(values)})",
        _write_schema(True),
    )


def _fk_tools(parent: Table, child: Table, fk: Column, ambiguous: bool) -> list[ToolSpec]:
    base = f"get_{parent.entity}_{child.part}"
    suffix = f"_by_{fk.param}" if ambiguous else ""
    C, row = quote_ident(child.name), _row_schema(child)
    fk_prop = _prop(fk, f"The {words(fk.name)} of the {words(child.entity)}s to look at.")
    where = f"{quote_ident(fk.name)} = :{fk.param}"
    listing = _tool(
        base + suffix,
        f"List the {words(child.name)} of one {words(parent.entity)} (by {words(fk.name)}), "
        f"ordered by {words(', '.join(child.pk_names) or 'rowid')}.",
        _params({fk.param: fk_prop, "limit": LIMIT_SCHEMA}, [fk.param]),
        f"SELECT {', '.join(quote_ident(c.name) for c in child.columns)} FROM {C} WHERE {where} "
        f"ORDER BY {child.order_by} LIMIT COALESCE(:limit, 20)",
        {"type": "array", "items": row},
        "many",
    )
    skip = set(child.pk_names) | {c.name for c, _ in child.fks}
    measures = [c for c in child.columns if c.numeric and c.name not in skip and "format" not in c.schema]
    selects = [f'COUNT(*) AS "{child.part}_count"']
    props: dict[str, Any] = {f"{child.part}_count": {"type": "integer"}}
    for c in measures:
        q = quote_ident(c.name)
        total = f"SUM({q})" if c.schema["type"] == "integer" else f"ROUND(SUM({q}), 2)"
        selects += [f'{total} AS "total_{c.param}"', f'ROUND(AVG({quote_ident(c.name)}), 2) AS "avg_{c.param}"']
        props[f"total_{c.param}"] = {"type": [c.schema["type"], "null"]}
        props[f"avg_{c.param}"] = {"type": ["number", "null"]}
    totals = f"; the total and average {', '.join(words(c.name) for c in measures)}" if measures else ""
    summary = _tool(
        f"{base}_summary{suffix}",
        f"Summarize the {words(child.name)} of one {words(parent.entity)}: how many there are{totals}.",
        _params({fk.param: fk_prop}, [fk.param]),
        f"SELECT {', '.join(selects)} FROM {C} WHERE {where}",
        _params(props, list(props)),
        "one",
    )
    return [listing, summary]


# -- validation: every tool is tried on a scratch copy with arguments from the data -------------


def _coerce(value: Any, schema: dict[str, Any]) -> Any:
    """`value` as the parameter schema wants it, or None when it cannot be."""
    kind = schema["type"]
    if isinstance(value, (bytes, bytearray)):
        value = base64.b64encode(bytes(value)).decode("ascii")
    try:
        if kind == "integer":
            if isinstance(value, str):
                value = float(value) if any(ch in value for ch in ".eE") else int(value)
            out: Any = int(value) if float(value).is_integer() else None
        elif kind == "number":
            out = float(value) if isinstance(value, str) else value
        else:
            out = value if isinstance(value, str) else str(value)
    except (TypeError, ValueError):
        return None
    return out if "enum" not in schema or out in schema["enum"] else None


class _Sampler:
    """Arguments for trying tools, drawn from the rows of a scratch environment."""

    def __init__(self, env: SqlEnvironment, tables: dict[str, Table]) -> None:
        self.env, self.tables = env, tables

    def row(self, t: Table) -> dict[str, Any]:
        rows = self.env.query(f"SELECT * FROM {quote_ident(t.name)} ORDER BY {t.order_by} LIMIT 1")
        return rows[0] if rows else {}

    def value(self, t: Table, col: Column) -> Any:
        q = quote_ident(col.name)
        rows = self.env.query(
            f"SELECT {q} AS v FROM {quote_ident(t.name)} WHERE {q} IS NOT NULL ORDER BY {t.order_by} LIMIT 1"
        )
        value = _coerce(rows[0]["v"], col.schema) if rows else None
        if value is not None:
            return value
        parent = next((self.tables[p] for c, p in t.fks if c is col), None)
        if parent is not None and parent.pk is not None and parent is not t:
            return self.value(parent, parent.pk)
        if "enum" in col.schema:
            return col.schema["enum"][0]
        fmt = col.schema.get("format")
        return {"integer": 1, "number": 1.0}.get(col.schema["type"]) or {
            "date": "2025-01-01",
            "date-time": "2025-01-01T00:00:00",
            "time": "00:00:00",
        }.get(fmt or "", f"sample {words(col.name)}")

    def fresh(self, t: Table, col: Column) -> Any:
        q, T = quote_ident(col.name), quote_ident(t.name)
        if col.schema["type"] in ("integer", "number"):
            top = self.env.query(f"SELECT MAX(CAST({q} AS REAL)) AS v FROM {T}")[0]["v"] or 0
            return _coerce(top + 1, col.schema) if "enum" not in col.schema else self.value(t, col)
        base, n = str(self.value(t, col)), 1
        while True:
            candidate = f"{base}-new" + (str(n) if n > 1 else "")
            if not self.env.query(f"SELECT 1 AS hit FROM {T} WHERE {q} = :v LIMIT 1", {"v": candidate}):
                return candidate
            n += 1

    def unreferenced_key(self, t: Table, children: list[tuple[Table, Column]]) -> Any:
        assert t.pk is not None
        pk = quote_ident(t.pk.name)
        conds = [
            f"NOT EXISTS (SELECT 1 FROM {quote_ident(c.name)} AS ch WHERE ch.{quote_ident(fk.name)} = p.{pk})"
            for c, fk in children
        ]
        where = " AND ".join([*conds, f"p.{pk} IS NOT NULL"])
        rows = self.env.query(
            f"SELECT p.{pk} AS v FROM {quote_ident(t.name)} AS p WHERE {where} ORDER BY p.{pk} LIMIT 1"
        )
        return _coerce(rows[0]["v"], t.pk.schema) if rows else self.value(t, t.pk)

    def arguments(self, spec: ToolSpec, t: Table, children: list[tuple[Table, Column]]) -> dict[str, Any]:
        props, row = spec.parameters["properties"], self.row(t)
        from_row = {c.param: _coerce(row[c.name], c.schema) for c in t.columns if row.get(c.name) is not None}
        name = spec.name
        if name.startswith("search_"):
            args = {p: v for p, v in from_row.items() if p in props}
            for bound in ("min", "max"):
                args |= {f"{bound}_{p}": v for p, v in from_row.items() if f"{bound}_{p}" in props}
            return {k: v for k, v in args.items() if v is not None} | {"limit": 5}
        if name.startswith("create_"):
            fk_names = {c.name for c, _ in t.fks}
            special = {c.param for c in t.columns if c.name in t.keyed and c.name not in fk_names}
            args = {}
            for c in t.columns:
                if c.param not in props:
                    continue
                value = self.fresh(t, c) if c.param in special else from_row.get(c.param)
                if value is None and c.param in spec.parameters["required"]:
                    value = self.value(t, c)
                if value is not None:
                    args[c.param] = value
            return args
        if name.startswith("delete_"):
            assert t.pk is not None
            return {t.pk.param: self.unreferenced_key(t, children)}
        args = {}
        for p in props:
            if p != "limit":
                col = next(c for c in t.columns if c.param == p)
                args[p] = from_row.get(p) if from_row.get(p) is not None else self.value(t, col)
        return args | ({"limit": 5} if "limit" in props else {})


class _DerivedCache:
    """The reports of the last few database contents derived, pickled: each caller unpickles its own
    copies (a fifth of a millisecond for 46 tools), so a session that edits its tools changes no other.
    Keyed by the image's SHA-256, so an image is not kept alive by the cache."""

    SIZE = 8

    def __init__(self) -> None:
        self._reports: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def report(self, image: bytes) -> ForgeReport:
        key = hashlib.sha256(image).digest()
        with self._lock:
            stored = self._reports.get(key)
            if stored is not None:
                self._reports.move_to_end(key)
        if stored is None:
            stored = pickle.dumps(_derive(image), protocol=pickle.HIGHEST_PROTOCOL)
            with self._lock:
                self._reports[key] = stored
                while len(self._reports) > self.SIZE:
                    self._reports.popitem(last=False)
        report: ForgeReport = pickle.loads(stored)  # noqa: S301 - our own bytes, made just above in this process
        return report


_DERIVED = _DerivedCache()


def derive_tools(image: bytes) -> ForgeReport:
    """Derive parameterised SQL tools from a database's schema, and keep those that work.

    Args:
        image: a serialized SQLite database (see `dbimage.load_database_image`).

    Returns:
        The tools (ordered by table, then kind) and the dropped ones with the reason.
        Same image, same report: derived once per database content in a process; every
        call returns its own copies.
    """
    return _DERIVED.report(image)


def _derive(image: bytes) -> ForgeReport:
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(image))
        tables = introspect(conn)
    finally:
        conn.close()
    by_name = {t.name: t for t in tables}
    children: dict[str, list[tuple[Table, Column]]] = {t.name: [] for t in tables}
    for t in tables:
        for col, parent in t.fks:
            children[parent].append((t, col))
    report, seen = ForgeReport(), set()
    with SqlEnvironment(image) as env:
        sampler = _Sampler(env, by_name)
        for t in tables:
            for spec, owner in _table_tools(t, children[t.name]):
                reason = _try(spec, owner, children[owner.name], sampler, env)
                if spec.name in seen:
                    reason = "another tool already has this name"
                elif len(spec.name) > 64:
                    reason = "the name is longer than 64 characters"
                if reason:
                    report.dropped.append((spec.name, reason))
                else:
                    seen.add(spec.name)
                    report.tools.append(spec)
    return report


def _try(
    spec: ToolSpec, t: Table, children: list[tuple[Table, Column]], sampler: _Sampler, env: SqlEnvironment
) -> str | None:
    """None when the tool runs on sample arguments; else why it does not."""
    try:
        args = sampler.arguments(spec, t, children)
    except Exception as exc:  # a data shape the sampler cannot read: the tool is unproven
        return f"no sample arguments could be drawn from the data ({exc})"
    result = env.dry_run(spec, args)
    if not result.is_error:
        return None
    if spec.name.startswith("delete_") and "FOREIGN KEY constraint failed" in result.content:
        return None  # the SQL is sound; the sample row is still referenced
    return f"failed on sample arguments {args}: {result.content}"
