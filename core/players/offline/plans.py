"""What a tool does to the simulated world, read from its SQL (or, without SQL, from its name and schemas).

A `ToolPlan` says which table a tool touches and how: look one record up by
equality, list or search records (equality, substring, bounds), aggregate them
(COUNT/SUM/AVG/MIN/MAX), or create, update or delete records. Derived tools
carry parameterised SQL, so their plans are exact; a forged tool without SQL is
planned from its name prefix and schemas. Carrying a plan out is left to `world`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from turnloom.core.models import ToolSpec
from turnloom.core.tools.schema import singular

_IDENT = r'("(?:[^"]|"")+"|\w+)'
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+" + _IDENT, re.I)
_COMPARE = re.compile(_IDENT + r"\s*(=|>=|<=|>|<)\s*:(\w+)")
_SUBSTRING = re.compile(r"instr\(\s*lower\(\s*" + _IDENT + r"\s*\)\s*,\s*lower\(\s*:(\w+)\s*\)\s*\)", re.I)
_SET = re.compile(r"\bSET\s+(.*?)\s+WHERE\b", re.I | re.S)
_AGGREGATE = re.compile(
    r"(?:ROUND\(\s*)?(COUNT|SUM|AVG|MIN|MAX)\(\s*(\*|" + _IDENT + r")\s*\)(?:\s*,\s*(\d+)\s*\))?\s+AS\s+" + _IDENT,
    re.I,
)
_INSERT = re.compile(r"\(([^()]*)\)\s*VALUES\s*\((.*)\)\s*;?\s*$", re.I | re.S)
_VALUE = re.compile(r"COALESCE\(\s*:(\w+)\s*,\s*('(?:[^']|'')*'|-?\d+(?:\.\d+)?|NULL|[A-Z_]+)\s*\)|:(\w+)", re.I)
_PREFIXES = ("get_", "search_", "list_", "find_", "create_", "add_", "update_", "set_", "change_", "delete_", "remove_")


class ToolKind(StrEnum):
    """What a tool does to the records of its table."""

    LOOKUP = "lookup"
    LIST = "list"
    SUMMARY = "summary"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    OTHER = "other"


class Match(StrEnum):
    """How a filter parameter compares with its field."""

    EQUAL = "="
    SUBSTRING = "substring"
    AT_LEAST = ">="
    AT_MOST = "<="


@dataclass(frozen=True)
class Filter:
    parameter: str
    field: str
    match: Match
    optional: bool  # `(:p IS NULL OR ...)`: no argument, no filter


@dataclass(frozen=True)
class Aggregate:
    output: str
    function: str  # COUNT, SUM, AVG, MIN, MAX
    field: str | None  # None for COUNT(*)
    digits: int | None  # ROUND(..., digits)


@dataclass(frozen=True)
class ToolPlan:
    """How one tool reads or changes its table."""

    kind: ToolKind
    table: str
    filters: tuple[Filter, ...] = ()
    sets: dict[str, str] = field(default_factory=dict)  # parameter -> field written
    defaults: dict[str, object] = field(default_factory=dict)  # field -> value when the parameter is absent
    aggregates: tuple[Aggregate, ...] = ()
    from_sql: bool = False

    @property
    def entity(self) -> str:
        """The record's entity, singular: ``order_items`` -> ``order_item``."""
        return singular(self.table)


def plan_for(spec: ToolSpec) -> ToolPlan:
    """The plan of `spec`: exact from its SQL when it has one, else guessed from its name and schemas."""
    if spec.sql:
        plan = _from_sql(spec, spec.sql)
        if plan is not None:
            return plan
    return _from_name(spec)


def _unquote(identifier: str) -> str:
    return identifier[1:-1].replace('""', '"') if identifier.startswith('"') else identifier


def _filters(sql: str) -> tuple[Filter, ...]:
    optional = set(re.findall(r":(\w+)\s+IS\s+NULL\s+OR", sql, re.I))
    found: list[Filter] = []
    for column, parameter in _SUBSTRING.findall(sql):
        found.append(Filter(parameter, _unquote(column), Match.SUBSTRING, parameter in optional))
    for column, operator, parameter in _COMPARE.findall(sql):
        if parameter == "limit":
            continue
        match = {"=": Match.EQUAL, ">=": Match.AT_LEAST, ">": Match.AT_LEAST}.get(operator, Match.AT_MOST)
        found.append(Filter(parameter, _unquote(column), match, parameter in optional))
    return tuple(found)


def _from_sql(spec: ToolSpec, sql: str) -> ToolPlan | None:
    table_match = _TABLE.search(sql)
    if table_match is None:
        return None
    table = _unquote(table_match.group(1))
    verb = sql.lstrip().split(None, 1)[0].upper()
    if verb == "INSERT":
        insert = _INSERT.search(sql)
        if insert is None:
            return None
        columns = [_unquote(c.strip()) for c in insert.group(1).split(",")]
        sets: dict[str, str] = {}
        defaults: dict[str, object] = {}
        for column, (param, default, bare) in zip(columns, _VALUE.findall(insert.group(2)), strict=False):
            sets[param or bare] = column
            if param and default:
                defaults[column] = _literal(default)
        return ToolPlan(ToolKind.CREATE, table, sets=sets, defaults=defaults, from_sql=True)
    if verb == "UPDATE":
        set_clause = _SET.search(sql)
        assignments = _COMPARE.findall(set_clause.group(1)) if set_clause else []
        where = sql[set_clause.end() :] if set_clause else sql
        sets = {param: _unquote(column) for column, _, param in assignments}
        return ToolPlan(ToolKind.UPDATE, table, filters=_filters(where), sets=sets, from_sql=True)
    if verb == "DELETE":
        return ToolPlan(ToolKind.DELETE, table, filters=_filters(sql), from_sql=True)
    if verb not in ("SELECT", "WITH"):
        return None
    aggregates = tuple(
        Aggregate(_unquote(out), fn.upper(), None if target == "*" else _unquote(target), int(d) if d else None)
        for fn, target, _ident, d, out in _AGGREGATE.findall(sql)
    )
    if aggregates and spec.returns == "one":
        return ToolPlan(ToolKind.SUMMARY, table, filters=_filters(sql), aggregates=aggregates, from_sql=True)
    kind = ToolKind.LOOKUP if spec.returns == "one" else ToolKind.LIST
    return ToolPlan(kind, table, filters=_filters(sql), from_sql=True)


def _literal(text: str) -> object:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return None  # NULL, CURRENT_DATE and the like: left for the simulator to fill


def _from_name(spec: ToolSpec) -> ToolPlan:
    """A forged tool's plan: the prefix says the verb, the rest of the name the table."""
    name = spec.name
    prefix = next((p for p in _PREFIXES if name.startswith(p)), "")
    rest = singular(name[len(prefix) :].split("_by_")[0] or name)
    properties = spec.parameters.get("properties", {})
    params = [p for p in properties if p != "limit"]
    keys = [p for p in params if p == "id" or p.endswith("_id")][:1] or params[:1]
    if prefix in ("create_", "add_"):
        return ToolPlan(ToolKind.CREATE, rest, sets={p: p for p in params})
    if prefix in ("update_", "set_", "change_"):
        changed = [p for p in params if p not in keys]
        for p in changed:  # update_order_status sets status on an order
            rest = singular(rest.removesuffix("_" + p))
        filters = tuple(Filter(k, k, Match.EQUAL, False) for k in keys)
        return ToolPlan(ToolKind.UPDATE, rest, filters=filters, sets={p: p for p in changed})
    if prefix in ("delete_", "remove_"):
        return ToolPlan(ToolKind.DELETE, rest, filters=tuple(Filter(k, k, Match.EQUAL, False) for k in keys))
    schema = spec.output_schema or {}
    kind = schema.get("type")
    many = kind == "array" or (isinstance(kind, list) and "array" in kind)
    if prefix and many:
        filters = tuple(
            Filter(p, p, Match.SUBSTRING if _is_text(properties[p]) else Match.EQUAL, p not in keys) for p in params
        )
        return ToolPlan(ToolKind.LIST, rest, filters=filters)
    if prefix and _row_like(schema):
        return ToolPlan(ToolKind.LOOKUP, rest, filters=tuple(Filter(p, p, Match.EQUAL, False) for p in params))
    return ToolPlan(ToolKind.OTHER, rest)


def _is_text(schema: dict) -> bool:
    return schema.get("type") == "string" and "enum" not in schema and "format" not in schema


def _row_like(schema: dict) -> bool:
    return bool(schema.get("properties")) or any(
        isinstance(o, dict) and "properties" in o for o in schema.get("anyOf", [])
    )
