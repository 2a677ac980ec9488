"""Derive tools from any SQLite database by introspection (the offline half of the tool forge).

For each table `t` with entity `e = singular(t)` the forge writes parameterised
SQL tools: `get_{e}_by_{col}` (primary key and single-column UNIQUE columns),
`search_{t}`, `create_{e}`, `update_{e}_{col}`, `delete_{e}`, and for each
foreign key `child.fk -> parent` `get_{parent_e}_{child_t}` plus its `_summary`.
Domain packs and the offline assistant rely on these names.

Every tool is tried on a scratch copy with arguments drawn from the data; a tool
that fails is reported in `ForgeReport.dropped` instead. Running tools for a
dialogue is left to `sqlenv`; LLM-written tools to the online forge.
"""

from __future__ import annotations

import base64
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from .models import ToolOrigin, ToolSpec
from .sqlenv import SqlEnvironment

LIMIT_SCHEMA = {
    "type": "integer", "minimum": 1, "maximum": 100, "default": 20,
    "description": "Most rows to return (1-100, default 20).",
}
_IRREGULAR = {"people": "person", "children": "child", "men": "man", "women": "woman",
              "data": "data", "series": "series", "species": "species", "news": "news",
              "movies": "movie", "cookies": "cookie", "analyses": "analysis"}
_CHECK_IN = re.compile(
    r'CHECK\s*\(\s*("[^"]+"|`[^`]+`|\[[^\]]+\]|\w+)\s+IN\s*\(([^()]*)\)\s*\)', re.IGNORECASE
)
_LITERAL = re.compile(r"\s*(?:'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?))\s*(?:,|$)")
_UNREPLAYABLE_DEFAULT = re.compile(r"CURRENT_|'now'|RANDOM", re.IGNORECASE)


@dataclass
class ForgeReport:
    """What the forge derived: working tools, and the ones it dropped with the reason."""

    tools: list[ToolSpec] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


def singular(table: str) -> str:
    """The entity name of a (usually plural) table name.

    Args:
        table: e.g. ``categories``, ``addresses``, ``statuses``, ``staff``.

    Returns:
        e.g. ``category``, ``address``, ``status``, ``staff``.
    """
    low = table.lower()
    for plural, single in _IRREGULAR.items():
        if low.endswith(plural) and (len(low) == len(plural) or low[-len(plural) - 1] == "_"):
            return table[: len(table) - len(plural)] + single
    if low.endswith("ies") and len(low) > 3:
        return table[:-3] + "y"
    if low.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return table[:-2]
    if low.endswith("uses") and len(low) > 4 and low[-5] not in "aeiou":
        return table[:-2]  # statuses, buses (but houses, causes)
    if low.endswith("s") and not low.endswith(("ss", "us", "is")):
        return table[:-1]
    return table


def _words(name: str) -> str:
    return name.replace("_", " ")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _part(name: str) -> str:
    """A name made safe for tool and parameter names: [a-z0-9_]."""
    text = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_").lower() or "col"
    return "_" + text if text[0].isdigit() else text


def value_schema(declared: str) -> dict[str, Any]:
    """The JSON Schema of a column's values, by SQLite's type-affinity rules.

    Args:
        declared: the column's declared type, e.g. ``VARCHAR(20)``, ``BOOLEAN``, ``DATE``.

    Returns:
        A schema like ``{"type": "integer"}``; booleans are 0/1 integers.
    """
    d = declared.upper()
    if "BOOL" in d:
        return {"type": "integer", "enum": [0, 1]}
    if "INT" in d:
        return {"type": "integer"}
    if any(k in d for k in ("CHAR", "CLOB", "TEXT")) or "BLOB" in d or not d:
        return {"type": "string"}
    if any(k in d for k in ("REAL", "FLOA", "DOUB")):
        return {"type": "number"}
    if "DATE" in d or "TIME" in d:
        both = "STAMP" in d or ("DATE" in d and "TIME" in d)
        fmt = "date-time" if both else "date" if "DATE" in d else "time"
        return {"type": "string", "format": fmt}
    return {"type": "number"}


@dataclass
class _Column:
    name: str
    param: str
    declared: str
    notnull: bool
    default: str | None
    hidden: int
    schema: dict[str, Any]

    @property
    def numeric(self) -> bool:
        return self.schema["type"] in ("integer", "number") and "enum" not in self.schema

    @property
    def is_text(self) -> bool:
        return self.schema["type"] == "string" and "enum" not in self.schema


@dataclass
class _Table:
    name: str
    part: str
    entity: str
    columns: list[_Column]
    pk: _Column | None
    pk_names: list[str]
    rowid_alias: bool
    unique: list[_Column]
    fks: list[tuple[_Column, str]]  # (child column, parent table)
    order_by: str
    keyed: set[str] = field(default_factory=set)  # columns of any unique index or key


def _enums(create_sql: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for col, values in _CHECK_IN.findall(create_sql or ""):
        items = []
        rest = values.strip()
        while rest:
            m = _LITERAL.match(rest)
            if not m:
                break
            text, number = m.groups()
            if text is not None:
                items.append(text.replace("''", "'"))
            else:
                items.append(float(number) if "." in number else int(number))
            rest = rest[m.end():].strip()
        if items and not rest:
            out[col.strip('"`[]').lower()] = items
    return out


def _introspect(conn: sqlite3.Connection) -> list[_Table]:
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    ).fetchall()
    try:
        kinds = {r[1]: r[2] for r in conn.execute("PRAGMA main.table_list")}
    except sqlite3.Error:
        kinds = {}
    tables = []
    for name, sql in rows:
        if kinds.get(name, "table") != "table" or re.match(r"\s*CREATE\s+VIRTUAL", sql or "", re.I):
            continue
        enums = _enums(sql)
        used: set[str] = {"limit"}
        columns, pk_cols = [], []
        info_rows = conn.execute(f"PRAGMA table_xinfo({_ident(name)})").fetchall()
        for _cid, cname, ctype, notnull, dflt, pk_pos, hidden in info_rows:
            if hidden == 1:
                continue
            param = _part(cname)
            while param in used:
                param += "_value"
            used.add(param)
            schema = value_schema(ctype or "")
            if cname.lower() in enums:
                schema = {"type": "string" if isinstance(enums[cname.lower()][0], str) else schema["type"],
                          "enum": enums[cname.lower()]}
            col = _Column(cname, param, ctype or "", bool(notnull) or pk_pos > 0, dflt, hidden, schema)
            columns.append(col)
            if pk_pos:
                pk_cols.append((pk_pos, col))
        pk_cols.sort(key=lambda p: p[0])
        pk = pk_cols[0][1] if len(pk_cols) == 1 else None
        without_rowid = re.search(r"WITHOUT\s+ROWID\s*;?\s*$", sql or "", re.I) is not None
        unique, keyed = [], {c.name for _, c in pk_cols}
        for _seq, iname, is_unique, _origin, partial in conn.execute(f"PRAGMA index_list({_ident(name)})"):
            info = conn.execute(f"PRAGMA index_info({_ident(iname)})").fetchall()
            if is_unique and not partial:
                keyed |= {i[2] for i in info if i[2] is not None}
            if is_unique and not partial and len(info) == 1 and info[0][2] is not None:
                col = next((c for c in columns if c.name == info[0][2]), None)
                if col is not None and col is not pk and col not in unique:
                    unique.append(col)
        unique.sort(key=columns.index)
        fk_groups: dict[int, list[tuple[Any, ...]]] = {}
        for fk in conn.execute(f"PRAGMA foreign_key_list({_ident(name)})"):
            fk_groups.setdefault(fk[0], []).append(fk)
        by_col = {c.name: c for c in columns}
        fks = [(by_col[g[0][3]], g[0][2]) for _, g in sorted(fk_groups.items())
               if len(g) == 1 and g[0][3] in by_col]
        order = ", ".join(_ident(c.name) for _, c in pk_cols) if pk_cols else "rowid"
        tables.append(_Table(
            name, _part(name), _part(singular(name)), columns, pk, [c.name for _, c in pk_cols],
            pk is not None and pk.declared.upper() == "INTEGER" and not without_rowid,
            unique, fks, order, keyed,
        ))
    by_name = {t.name.lower(): t for t in tables}
    for t in tables:
        t.fks = [(c, by_name[p.lower()].name) for c, p in t.fks if p.lower() in by_name]
    return tables


def _out(col: _Column, nullable: bool) -> dict[str, Any]:
    schema = dict(col.schema)
    if nullable:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def _row_schema(t: _Table) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {c.name: _out(c, not c.notnull) for c in t.columns},
        "required": [c.name for c in t.columns],
        "additionalProperties": False,
    }


def _params(props: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _prop(col: _Column, description: str) -> dict[str, Any]:
    return {**col.schema, "description": description}


def _write_schema(insert: bool) -> dict[str, Any]:
    props = {"rowcount": {"type": "integer"}}
    if insert:
        props["lastrowid"] = {"type": ["integer", "null"]}
    return _params(props, list(props))


def _tool(name: str, description: str, parameters: dict[str, Any], sql: str, output: dict[str, Any],
          returns: str | None = None) -> ToolSpec:
    return ToolSpec(name=name, description=description, parameters=parameters, output_schema=output,
                    sql=sql, returns=returns, writes=returns is None, origin=ToolOrigin.DERIVED)


def _table_tools(t: _Table, children: list[tuple[_Table, _Column]]) -> list[tuple[ToolSpec, _Table]]:
    """The table's tools, each with the table its sample arguments come from."""
    e, T, row = t.entity, _ident(t.name), _row_schema(t)
    cols = ", ".join(_ident(c.name) for c in t.columns)
    tools = [
        _tool(f"get_{e}_by_{col.param}",
              f"Get one {_words(e)} by its {_words(col.name)}; null when there is none.",
              _params({col.param: _prop(col, f"The {_words(col.name)} of the {_words(e)}.")}, [col.param]),
              f"SELECT {cols} FROM {T} WHERE {_ident(col.name)} = :{col.param}",
              {**row, "type": ["object", "null"]}, "one")
        for col in ([t.pk, *t.unique] if t.pk else [])
    ]
    tools += [_search_tool(t, cols, row), _create_tool(t)]
    if t.pk is None:
        return [(spec, t) for spec in tools]
    pk, key = t.pk, f"{_ident(t.pk.name)} = :{t.pk.param}"
    pk_prop = _prop(pk, f"The {_words(pk.name)} of the {_words(e)}.")
    for c in t.columns:
        if c is not pk and c.hidden == 0:
            tools.append(_tool(
                f"update_{e}_{c.param}",
                f"Change the {_words(c.name)} of one {_words(e)}, found by its {_words(pk.name)}.",
                _params({pk.param: pk_prop, c.param: _prop(c, f"The new {_words(c.name)}.")},
                        [pk.param, c.param]),
                f"UPDATE {T} SET {_ident(c.name)} = :{c.param} WHERE {key}", _write_schema(False)))
    tools.append(_tool(f"delete_{e}", f"Delete one {_words(e)} by its {_words(pk.name)}.",
                       _params({pk.param: pk_prop}, [pk.param]), f"DELETE FROM {T} WHERE {key}",
                       _write_schema(False)))
    out = [(spec, t) for spec in tools]
    for child, fk in children:
        ambiguous = sum(p == t.name for _, p in child.fks) > 1
        out += [(spec, child) for spec in _fk_tools(t, child, fk, ambiguous)]
    return out


def _search_tool(t: _Table, cols: str, row: dict[str, Any]) -> ToolSpec:
    props: dict[str, Any] = {}
    conds = []
    fk_cols = {c.name for c, _ in t.fks}
    for col in t.columns:
        if col.name in t.pk_names or "BLOB" in col.declared.upper() or not col.declared:
            continue  # keys have their get_ tool; blobs make no sense as filters
        q, p = _ident(col.name), col.param
        if col.is_text:
            props[p] = _prop(col, f"Text found anywhere in the {_words(col.name)} (any case).")
            conds.append(f"(:{p} IS NULL OR instr(lower({q}), lower(:{p})) > 0)")
        else:  # numbers, dates-as-equality and enums match exactly ('paid' must not match 'unpaid')
            props[p] = _prop(col, f"Exact {_words(col.name)}.")
            conds.append(f"(:{p} IS NULL OR {q} = :{p})")
        if (col.numeric or "format" in col.schema) and col.name not in fk_cols:
            for bound, op, word in (("min", ">=", "Smallest"), ("max", "<=", "Largest")):
                name = f"{bound}_{p}"
                if name not in props and all(c.param != name for c in t.columns):
                    props[name] = {**col.schema, "description": f"{word} {_words(col.name)} to include."}
                    conds.append(f"(:{name} IS NULL OR {q} {op} :{name})")
    props["limit"] = LIMIT_SCHEMA
    return _tool(
        f"search_{t.part}",
        f"Search {_words(t.name)}; every filter is optional; text filters match a substring, "
        f"case-insensitively. Ordered by {_words(', '.join(t.pk_names) or 'rowid')}.",
        _params(props, []),
        f"SELECT {cols} FROM {_ident(t.name)} WHERE {' AND '.join(conds) or '1'} "
        f"ORDER BY {t.order_by} LIMIT COALESCE(:limit, 20)",
        {"type": "array", "items": row}, "many")


def _create_tool(t: _Table) -> ToolSpec:
    insert_cols = [c for c in t.columns if c.hidden == 0 and not (t.rowid_alias and c is t.pk)]
    values, required = [], []
    for c in insert_cols:
        # a default like CURRENT_TIMESTAMP would differ on replay: the caller must give the value
        replayable_default = c.default is not None and not _UNREPLAYABLE_DEFAULT.search(c.default)
        values.append(f"COALESCE(:{c.param}, {c.default})" if replayable_default else f":{c.param}")
        if (c.notnull or c.name in t.pk_names) and not replayable_default:
            required.append(c.param)
    return _tool(
        f"create_{t.entity}", f"Create a new {_words(t.entity)}; optional fields keep their defaults. "
        "Returns the new row's id as lastrowid.",
        _params({c.param: _prop(c, f"The {_words(c.name)}.") for c in insert_cols}, required),
        f"INSERT INTO {_ident(t.name)} ({', '.join(_ident(c.name) for c in insert_cols)}) "
        f"VALUES ({', '.join(values)})",
        _write_schema(True))


def _fk_tools(parent: _Table, child: _Table, fk: _Column, ambiguous: bool) -> list[ToolSpec]:
    base = f"get_{parent.entity}_{child.part}"
    suffix = f"_by_{fk.param}" if ambiguous else ""
    C, row = _ident(child.name), _row_schema(child)
    fk_prop = _prop(fk, f"The {_words(fk.name)} of the {_words(child.entity)}s to look at.")
    where = f"{_ident(fk.name)} = :{fk.param}"
    listing = _tool(
        base + suffix,
        f"List the {_words(child.name)} of one {_words(parent.entity)} (by {_words(fk.name)}), "
        f"ordered by {_words(', '.join(child.pk_names) or 'rowid')}.",
        _params({fk.param: fk_prop, "limit": LIMIT_SCHEMA}, [fk.param]),
        f"SELECT {', '.join(_ident(c.name) for c in child.columns)} FROM {C} WHERE {where} "
        f"ORDER BY {child.order_by} LIMIT COALESCE(:limit, 20)", {"type": "array", "items": row}, "many")
    skip = set(child.pk_names) | {c.name for c, _ in child.fks}
    measures = [c for c in child.columns if c.numeric and c.name not in skip and "format" not in c.schema]
    selects = [f'COUNT(*) AS "{child.part}_count"']
    props: dict[str, Any] = {f"{child.part}_count": {"type": "integer"}}
    for c in measures:
        q = _ident(c.name)
        total = f"SUM({q})" if c.schema["type"] == "integer" else f"ROUND(SUM({q}), 2)"
        selects += [f'{total} AS "total_{c.param}"', f'ROUND(AVG({_ident(c.name)}), 2) AS "avg_{c.param}"']
        props[f"total_{c.param}"] = {"type": [c.schema["type"], "null"]}
        props[f"avg_{c.param}"] = {"type": ["number", "null"]}
    totals = f"; the total and average {', '.join(_words(c.name) for c in measures)}" if measures else ""
    summary = _tool(
        f"{base}_summary{suffix}", f"Summarize the {_words(child.name)} of one {_words(parent.entity)}: "
        f"how many there are{totals}.",
        _params({fk.param: fk_prop}, [fk.param]),
        f"SELECT {', '.join(selects)} FROM {C} WHERE {where}", _params(props, list(props)), "one")
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

    def __init__(self, env: SqlEnvironment, tables: dict[str, _Table]) -> None:
        self.env, self.tables = env, tables

    def row(self, t: _Table) -> dict[str, Any]:
        rows = self.env.query(f"SELECT * FROM {_ident(t.name)} ORDER BY {t.order_by} LIMIT 1")
        return rows[0] if rows else {}

    def value(self, t: _Table, col: _Column) -> Any:
        q = _ident(col.name)
        rows = self.env.query(
            f"SELECT {q} AS v FROM {_ident(t.name)} WHERE {q} IS NOT NULL ORDER BY {t.order_by} LIMIT 1"
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
            "date": "2025-01-01", "date-time": "2025-01-01T00:00:00", "time": "00:00:00"
        }.get(fmt, f"sample {_words(col.name)}")

    def fresh(self, t: _Table, col: _Column) -> Any:
        q, T = _ident(col.name), _ident(t.name)
        if col.schema["type"] in ("integer", "number"):
            top = self.env.query(f"SELECT MAX(CAST({q} AS REAL)) AS v FROM {T}")[0]["v"] or 0
            return _coerce(top + 1, col.schema) if "enum" not in col.schema else self.value(t, col)
        base, n = str(self.value(t, col)), 1
        while True:
            candidate = f"{base}-new" + (str(n) if n > 1 else "")
            if not self.env.query(f"SELECT 1 AS hit FROM {T} WHERE {q} = :v LIMIT 1", {"v": candidate}):
                return candidate
            n += 1

    def unreferenced_key(self, t: _Table, children: list[tuple[_Table, _Column]]) -> Any:
        assert t.pk is not None
        pk = _ident(t.pk.name)
        conds = [f"NOT EXISTS (SELECT 1 FROM {_ident(c.name)} AS ch WHERE ch.{_ident(fk.name)} = p.{pk})"
                 for c, fk in children]
        where = " AND ".join([*conds, f"p.{pk} IS NOT NULL"])
        rows = self.env.query(
            f"SELECT p.{pk} AS v FROM {_ident(t.name)} AS p WHERE {where} ORDER BY p.{pk} LIMIT 1"
        )
        return _coerce(rows[0]["v"], t.pk.schema) if rows else self.value(t, t.pk)

    def arguments(self, spec: ToolSpec, t: _Table, children: list[tuple[_Table, _Column]]) -> dict[str, Any]:
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


def derive_tools(image: bytes) -> ForgeReport:
    """Derive parameterised SQL tools from a database's schema, and keep those that work.

    Args:
        image: a serialized SQLite database (see `dbimage.load_database_image`).

    Returns:
        The tools (ordered by table, then kind) and the dropped ones with the reason.
        Same image, same report.
    """
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(image))
        tables = _introspect(conn)
    finally:
        conn.close()
    by_name = {t.name: t for t in tables}
    children: dict[str, list[tuple[_Table, _Column]]] = {t.name: [] for t in tables}
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


def _try(spec: ToolSpec, t: _Table, children: list[tuple[_Table, _Column]], sampler: _Sampler,
         env: SqlEnvironment) -> str | None:
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
