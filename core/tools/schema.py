"""What a SQLite schema holds: tables, columns, keys, unique and CHECK ... IN constraints.

`introspect` reads a connection's tables into `Table`/`Column` records with each
column's JSON Schema (`value_schema`); `singular` names a table's entity. Writing
tools from them is left to `forge`.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

_IRREGULAR = {
    "people": "person",
    "children": "child",
    "men": "man",
    "women": "woman",
    "data": "data",
    "series": "series",
    "species": "species",
    "news": "news",
    "movies": "movie",
    "cookies": "cookie",
    "analyses": "analysis",
}
_CHECK_IN = re.compile(r'CHECK\s*\(\s*("[^"]+"|`[^`]+`|\[[^\]]+\]|\w+)\s+IN\s*\(([^()]*)\)\s*\)', re.IGNORECASE)
_LITERAL = re.compile(r"\s*(?:'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?))\s*(?:,|$)")


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


def words(name: str) -> str:
    return name.replace("_", " ")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def param_name(name: str) -> str:
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
class Column:
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
class Table:
    name: str
    part: str
    entity: str
    columns: list[Column]
    pk: Column | None
    pk_names: list[str]
    rowid_alias: bool
    unique: list[Column]
    fks: list[tuple[Column, str]]  # (child column, parent table)
    order_by: str
    keyed: set[str] = field(default_factory=set)  # columns of any unique index or key


def check_in_enums(create_sql: str) -> dict[str, list[Any]]:
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
            rest = rest[m.end() :].strip()
        if items and not rest:
            out[col.strip('"`[]').lower()] = items
    return out


def introspect(conn: sqlite3.Connection) -> list[Table]:
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
        enums = check_in_enums(sql)
        used: set[str] = {"limit"}
        columns, pk_cols = [], []
        info_rows = conn.execute(f"PRAGMA table_xinfo({quote_ident(name)})").fetchall()
        for _cid, cname, ctype, notnull, dflt, pk_pos, hidden in info_rows:
            if hidden == 1:
                continue
            param = param_name(cname)
            while param in used:
                param += "_value"
            used.add(param)
            schema = value_schema(ctype or "")
            if cname.lower() in enums:
                schema = {
                    "type": "string" if isinstance(enums[cname.lower()][0], str) else schema["type"],
                    "enum": enums[cname.lower()],
                }
            col = Column(cname, param, ctype or "", bool(notnull) or pk_pos > 0, dflt, hidden, schema)
            columns.append(col)
            if pk_pos:
                pk_cols.append((pk_pos, col))
        pk_cols.sort(key=lambda p: p[0])
        pk = pk_cols[0][1] if len(pk_cols) == 1 else None
        without_rowid = re.search(r"WITHOUT\s+ROWID\s*;?\s*$", sql or "", re.I) is not None
        unique, keyed = [], {c.name for _, c in pk_cols}
        for _seq, iname, is_unique, _origin, partial in conn.execute(f"PRAGMA index_list({quote_ident(name)})"):
            info = conn.execute(f"PRAGMA index_info({quote_ident(iname)})").fetchall()
            if is_unique and not partial:
                keyed |= {i[2] for i in info if i[2] is not None}
            if is_unique and not partial and len(info) == 1 and info[0][2] is not None:
                match = next((c for c in columns if c.name == info[0][2]), None)
                if match is not None and match is not pk and match not in unique:
                    unique.append(match)
        unique.sort(key=columns.index)
        fk_groups: dict[int, list[tuple[Any, ...]]] = {}
        for fk in conn.execute(f"PRAGMA foreign_key_list({quote_ident(name)})"):
            fk_groups.setdefault(fk[0], []).append(fk)
        by_col = {c.name: c for c in columns}
        fks = [(by_col[g[0][3]], g[0][2]) for _, g in sorted(fk_groups.items()) if len(g) == 1 and g[0][3] in by_col]
        order = ", ".join(quote_ident(c.name) for _, c in pk_cols) if pk_cols else "rowid"
        tables.append(
            Table(
                name,
                param_name(name),
                param_name(singular(name)),
                columns,
                pk,
                [c.name for _, c in pk_cols],
                pk is not None and pk.declared.upper() == "INTEGER" and not without_rowid,
                unique,
                fks,
                order,
                keyed,
            )
        )
    by_name = {t.name.lower(): t for t in tables}
    for t in tables:
        t.fks = [(c, by_name[p.lower()].name) for c, p in t.fks if p.lower() in by_name]
    return tables
