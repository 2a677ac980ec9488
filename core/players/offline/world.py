"""One dialogue's simulated world: the records its tools read and change, kept consistent.

A table the dialogue's database holds starts from that data (read once, on
first use), so what the user knows about their records agrees with what the
tools say; a table it does not hold (a forged tool's) is invented record by
record, each keyed on the seed and what identifies it, so the same question
always gets the same answer. Writes change the records, so a later read shows
them; summaries are computed from the records they summarise, so counts,
totals and averages add up. Reading a plan from a tool is `plans`; inventing a
field's value is `values`; replaying a transcript into the world is `toolsim`.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Callable
from datetime import datetime

from turnloom.core.errors import DatabaseError
from turnloom.core.players.offline.plans import Filter, Match, ToolPlan
from turnloom.core.players.offline.values import invent
from turnloom.core.tools.schema import quote_ident

MAX_LOADED_ROWS = 20_000  # a table is read whole up to this many rows
Reader = Callable[[str], list[dict]]


def digest(*parts: object) -> int:
    """A stable 64-bit number for `parts` (Python's hash() changes between runs)."""
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


class SimulatedWorld:
    """The records of one dialogue, by table, and what the tools do to them.

    Args:
        seed: the session's seed; every invented value is keyed on it.
        reference: the dialogue's reference time (dates are invented near it).
        read: runs a SELECT on the dialogue's database; None when there is none.
    """

    def __init__(self, seed: int, reference: datetime, read: Reader | None) -> None:
        self.seed = seed
        self.reference = reference
        self._read = read
        self._tables: dict[str, list[dict]] = {}
        self._backed: set[str] = set()
        self._gone: dict[str, list[dict]] = {}  # deleted records' filters, so they are not invented again
        self._materialised: set[tuple[str, str]] = set()
        self._columns: dict[str, list[str]] | None = None
        self._pools: dict[str, list[object]] = {}

    # ------------------------------------------------------------ reading

    def lookup(self, plan: ToolPlan, arguments: dict, fields: dict) -> dict | None:
        """The first record matching the plan's filters; a new one for a table the database lacks."""
        rows = self._matching(plan, arguments)
        if rows:
            return rows[0]
        if plan.table in self._backed or self._deleted(plan, arguments):
            return None
        record = self._invent(plan, arguments, fields, key=_canonical(arguments))
        self._tables[plan.table].append(record)
        return record

    def listing(self, plan: ToolPlan, arguments: dict, fields: dict) -> list[dict]:
        """The records matching the plan's filters, in table order, up to `limit` (20 when absent)."""
        self._materialise(plan, arguments, fields)
        rows = self._matching(plan, arguments)
        limit = arguments.get("limit")
        return rows[: int(limit) if isinstance(limit, int) and limit > 0 else 20]

    def summary(self, plan: ToolPlan, arguments: dict, fields: dict) -> dict:
        """The plan's aggregates over the matching records, computed as SQLite would."""
        self._materialise(plan, arguments, fields)
        rows = self._matching(plan, arguments)
        out: dict = {}
        for aggregate in plan.aggregates:
            values = [r.get(aggregate.field) for r in rows] if aggregate.field else rows
            numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            if aggregate.function == "COUNT":
                value: object = len(values) if aggregate.field is None else len(numbers)
            elif not numbers:
                value = None
            elif aggregate.function == "SUM":
                value = sum(numbers)
            elif aggregate.function == "AVG":
                value = sum(numbers) / len(numbers)
            else:
                value = min(numbers) if aggregate.function == "MIN" else max(numbers)
            if aggregate.digits is not None and isinstance(value, (int, float)):
                value = round(float(value), aggregate.digits)
            out[aggregate.output] = value
        return out

    # ------------------------------------------------------------ writing

    def create(self, plan: ToolPlan, arguments: dict, fields: dict, new_id: int | None = None) -> int:
        """Add a record from the call's arguments (the table's defaults and invented values fill the rest).

        Args:
            new_id: the id to give it (when replaying a recorded create); the next free id when None.

        Returns:
            The new record's id.
        """
        rows = self._table(plan.table, plan.from_sql)
        key = _id_field(fields, plan)
        if new_id is not None and any(_same(r.get(key), new_id) for r in rows):
            return new_id  # already applied (a live call seen again in the transcript)
        if new_id is None:
            ids: list[int] = [r[key] for r in rows if isinstance(r.get(key), int)]
            new_id = max(ids, default=999 if plan.table not in self._backed else 0) + 1
        record: dict = {key: new_id}
        for parameter, column in plan.sets.items():
            if arguments.get(parameter) is not None:
                record[column] = arguments[parameter]
            elif column in plan.defaults and plan.defaults[column] is not None:
                record[column] = plan.defaults[column]
        rng = random.Random(digest(self.seed, plan.table, "created", new_id))
        for name, schema in fields.items():
            if name not in record:
                record[name] = self._value(plan, name, schema, rng)
        rows.append(record)
        return new_id

    def update(self, plan: ToolPlan, arguments: dict, fields: dict) -> int:
        """Apply the call's changes to the matching records; returns how many changed."""
        rows = self._matching(plan, arguments)
        if not rows and plan.table not in self._backed and not self._deleted(plan, arguments):
            rows = [self.lookup(plan, arguments, fields) or {}]
        for record in rows:
            for parameter, column in plan.sets.items():
                if parameter in arguments:
                    record[column] = arguments[parameter]
        return len(rows)

    def delete(self, plan: ToolPlan, arguments: dict) -> int:
        """Remove the matching records; returns how many were removed."""
        rows = self._matching(plan, arguments)
        table = self._table(plan.table, plan.from_sql)
        self._tables[plan.table] = [r for r in table if not any(r is gone for gone in rows)]
        self._gone.setdefault(plan.table, []).append(dict(arguments))
        return len(rows) if rows or plan.table in self._backed else 1

    def remember(self, plan: ToolPlan, rows: list[dict], fields: dict) -> None:
        """Keep records another simulator showed (a transcript replayed into a fresh world)."""
        table = self._table(plan.table, plan.from_sql)
        key = _id_field(fields, plan)
        for row in rows:
            if key in row and not any(_same(r.get(key), row[key]) for r in table):
                table.append(dict(row))

    # ------------------------------------------------------------ internals

    def _table(self, name: str, readable: bool = True) -> list[dict]:
        rows = self._tables.get(name)
        if rows is not None:
            return rows
        rows = []
        if self._read is not None and readable:
            try:
                loaded = self._read(f"SELECT * FROM {quote_ident(name)} LIMIT {MAX_LOADED_ROWS}")
            except (DatabaseError, LookupError):  # a table the database lacks is invented instead
                loaded = None
            if loaded is not None:
                rows = [{k: _json_value(v) for k, v in row.items()} for row in loaded]
                self._backed.add(name)
        self._tables[name] = rows
        return rows

    def _matching(self, plan: ToolPlan, arguments: dict) -> list[dict]:
        filters = [f for f in plan.filters if not (f.optional and arguments.get(f.parameter) is None)]
        return [
            r
            for r in self._table(plan.table, plan.from_sql)
            if all(_passes(r, f, arguments.get(f.parameter)) for f in filters)
        ]

    def _deleted(self, plan: ToolPlan, arguments: dict) -> bool:
        wanted = {f.field: arguments.get(f.parameter) for f in plan.filters if f.match is Match.EQUAL}
        return any(all(_same(gone.get(k), v) for k, v in wanted.items()) for gone in self._gone.get(plan.table, ()))

    def _materialise(self, plan: ToolPlan, arguments: dict, fields: dict) -> None:
        """Invent a few matching records, once per question, for a table the database lacks."""
        self._table(plan.table, plan.from_sql)
        if plan.table in self._backed:
            return
        question = (plan.table, _canonical({f.field: arguments.get(f.parameter) for f in plan.filters}))
        if question in self._materialised:
            return
        self._materialised.add(question)
        rng = random.Random(digest(self.seed, *question))
        key = _id_field(fields, plan)
        for index in range(rng.randint(1, 3)):
            record = self._invent(plan, arguments, fields, key=f"{question[1]}#{index}")
            if key in record:
                record[key] = 1000 + digest(self.seed, plan.table, question[1], index) % 9000
            self.remember(plan, [record], fields)

    def _invent(self, plan: ToolPlan, arguments: dict, fields: dict, key: str) -> dict:
        rng = random.Random(digest(self.seed, plan.table, key))
        record: dict = {}
        for name, schema in fields.items():
            given = next(
                (arguments[f.parameter] for f in plan.filters if f.field == name and f.parameter in arguments), None
            )
            record[name] = given if given is not None else self._value(plan, name, schema, rng)
        for f in plan.filters:
            value = arguments.get(f.parameter)
            if value is not None and f.match in (Match.AT_LEAST, Match.AT_MOST) and f.field in record:
                record[f.field] = value  # on the bound, so the record passes the filter
        return record

    def _value(self, plan: ToolPlan, name: str, schema: dict, rng: random.Random) -> object:
        if plan.table in self._backed:
            # the table's own values, when they are a few repeated ones (statuses, categories, cities);
            # a unique-looking column (emails, names) is invented instead of copied
            rows = self._tables[plan.table]
            seen = list(dict.fromkeys(r.get(name) for r in rows if r.get(name) is not None))
            pools = {name: seen} if seen and len(seen) <= max(12, len(rows) // 4) else {}
        else:
            pools = self._pool(name)
        return invent(name, schema, rng, entity=plan.entity, reference=self.reference, pools=pools)

    def _pool(self, column: str) -> dict[str, list[object]]:
        """The distinct values the domain's data holds for `column` (any table), as a pool for `invent`."""
        if column not in self._pools:
            values: list[object] = []
            for table in self._tables_with(column):
                try:
                    rows = self._read(  # type: ignore[misc]
                        f"SELECT DISTINCT {quote_ident(column)} AS v FROM {quote_ident(table)} "
                        f"WHERE {quote_ident(column)} IS NOT NULL LIMIT 40"
                    )
                except (DatabaseError, LookupError):
                    rows = []
                values += [r["v"] for r in rows if r["v"] not in values]
            self._pools[column] = values
        return {column: self._pools[column]} if self._pools[column] else {}

    def _tables_with(self, column: str) -> list[str]:
        if self._read is None:
            return []
        if self._columns is None:
            self._columns = {}
            try:
                names = [r["name"] for r in self._read("SELECT name FROM sqlite_master WHERE type = 'table'")]
                for table in names:
                    for info in self._read(f"SELECT name FROM pragma_table_info({_sql_text(table)})"):
                        self._columns.setdefault(info["name"], []).append(table)
            except (DatabaseError, LookupError):  # no pools then; values come from the field's meaning
                self._columns = {}
        return [t for t in self._columns.get(column, []) if not _looks_like_key(column)]


def _passes(record: dict, f: Filter, wanted: object) -> bool:
    value = record.get(f.field)
    if f.match is Match.SUBSTRING:
        return isinstance(value, str) and str(wanted).lower() in value.lower()
    if value is None or wanted is None:
        return False
    if f.match is Match.EQUAL:
        return _same(value, wanted)
    try:
        return bool(value >= wanted if f.match is Match.AT_LEAST else value <= wanted)
    except TypeError:
        return False


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return str(a) == str(b)


def _canonical(mapping: dict) -> str:
    return "&".join(f"{k}={mapping[k]}" for k in sorted(mapping) if mapping[k] is not None)


def _id_field(fields: dict, plan: ToolPlan) -> str:
    if "id" in fields or not fields:
        return "id"
    entity = plan.entity.replace("_", "").lower()
    for name in fields:
        if name.lower().replace("_", "") in (f"{entity}id", "id"):
            return name
    return next((n for n in fields if n.lower().endswith("id")), next(iter(fields)))


def _json_value(value: object) -> object:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _looks_like_key(column: str) -> bool:
    return column.lower() == "id"
