"""JSON databases of the τ2-bench kind to SQLite files the tool forge can derive tools from.

A τ2 database (`db.json`) is one JSON object whose keys are tables. A table is a list of
records, or an object of records keyed by their id (τ2 keys `flights`, `users`,
`reservations` so). Each record becomes a row: scalar fields become typed columns, nested
objects and lists are kept as JSON text. The primary key is the record key (as
`<singular>_id` when no field holds it), else an `id` or `<singular>_id` field whose values
are unique; a column named like another table's key whose values all exist there becomes a
foreign key, so the forge adds listings along it.

Leaves to others: deriving tools from the result (`derive`), reading it (`dbimage`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from turnloom.core.errors import DatabaseError

SQL_TYPES = {bool: "INTEGER", int: "INTEGER", float: "REAL", str: "TEXT"}


@dataclass
class ImportedTable:
    """One table as it will be written: its columns (name -> SQL type), key, references and rows."""

    name: str
    columns: dict[str, str]
    key: str | None
    rows: list[dict[str, Any]]
    references: dict[str, str] = field(default_factory=dict)  # column -> referenced table


def read_json_database(path: str | Path) -> list[ImportedTable]:
    """The tables of a τ2-style JSON database.

    Raises:
        DatabaseError: the file is missing, not JSON, or not an object of tables of records
            (naming the file and the table or record at fault).
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatabaseError(f"{file}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise DatabaseError(f"{file}: not a JSON file{where}: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise DatabaseError(f"{file}: expected a JSON object whose keys are tables (τ2's db.json layout)")
    tables = [_table(file, name, records) for name, records in data.items()]
    _link(tables)
    return tables


def _table(file: Path, name: str, records: Any) -> ImportedTable:
    if not _is_identifier(name):
        raise DatabaseError(f"{file}: table {name!r}: a table name must be letters, digits and underscores")
    singular = _singular(name)
    keyed = isinstance(records, dict)
    if keyed:
        items = list(records.items())
    elif isinstance(records, list):
        items = [(None, record) for record in records]
    else:
        raise DatabaseError(f"{file}: table {name!r}: expected a list of records or an object of records by id")
    rows: list[dict[str, Any]] = []
    key = f"{singular}_id" if keyed else None
    for index, (record_key, record) in enumerate(items):
        where = f"{name}[{record_key!r}]" if keyed else f"{name}[{index}]"
        if not isinstance(record, dict):
            raise DatabaseError(f"{file}: {where}: a record must be a JSON object, not {type(record).__name__}")
        bad = next((k for k in record if not _is_identifier(k)), None)
        if bad is not None:
            raise DatabaseError(f"{file}: {where}: field {bad!r}: a field name must be letters, digits and underscores")
        row = {k: _cell(v) for k, v in record.items()}
        if keyed:
            # the key is the id; a field holding the same value names the column (τ2: "flight_number")
            holder = next(
                (k for k, v in record.items() if not isinstance(v, (dict, list)) and str(v) == record_key), None
            )
            if index == 0 and holder is not None:
                key = holder
            if key not in row:
                row[key] = record_key
            elif str(row[key]) != record_key:
                raise DatabaseError(f"{file}: {where}: field {key!r} is {row[key]!r}, not the record's key")
        rows.append(row)
    columns: dict[str, str | None] = {}
    for row in rows:
        for column, value in row.items():
            columns[column] = _merge(columns.get(column), value)
    if key is None:
        key = next((c for c in ("id", f"{singular}_id") if c in columns and _unique(rows, c)), None)
    if keyed and key is not None and not _unique(rows, key):
        raise DatabaseError(f"{file}: table {name!r}: two records share the key {key!r}")
    return ImportedTable(name=name, columns={c: t or "TEXT" for c, t in columns.items()}, key=key, rows=rows)


def _link(tables: list[ImportedTable]) -> None:
    """Foreign keys: a column named as another table's key (or `<singular>_id` for a key `id`) whose values all exist."""
    keys: dict[str, ImportedTable] = {}
    for table in tables:
        if table.key is None:
            continue
        keys.setdefault(table.key if table.key != "id" else f"{_singular(table.name)}_id", table)
    for table in tables:
        for column in table.columns:
            target = keys.get(column)
            if target is None or target is table or target.key is None:
                continue
            known = {row.get(target.key) for row in target.rows}
            values = [row.get(column) for row in table.rows if row.get(column) is not None]
            if values and all(value in known for value in values):
                table.references[column] = target.name


def write_sqlite(tables: list[ImportedTable], out: str | Path) -> Path:
    """Write the tables to a new SQLite file at `out` (atomically: a temp file renamed into place).

    Raises:
        DatabaseError: `out` cannot be written.
    """
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(suffix=".sqlite.tmp", dir=target.parent)
    os.close(handle)
    try:
        connection = sqlite3.connect(temp)
        try:
            for table in tables:
                connection.execute(_create(table))
                names = list(table.columns)
                insert = f"INSERT INTO {_quote(table.name)} ({', '.join(map(_quote, names))}) VALUES ({', '.join('?' * len(names))})"
                connection.executemany(insert, ([row.get(n) for n in names] for row in table.rows))
            connection.commit()
        finally:
            connection.close()
        os.replace(temp, target)
    except (OSError, sqlite3.Error) as exc:
        Path(temp).unlink(missing_ok=True)
        raise DatabaseError(f"{target}: cannot write the SQLite file: {exc}") from None
    return target


def import_json_database(source: str | Path, out: str | Path) -> list[ImportedTable]:
    """Convert one τ2-style JSON database to a SQLite file; the tables written.

    Raises:
        DatabaseError: as `read_json_database` and `write_sqlite`.
    """
    tables = read_json_database(source)
    write_sqlite(tables, out)
    return tables


def _create(table: ImportedTable) -> str:
    parts = []
    for column, sql_type in table.columns.items():
        parts.append(f"{_quote(column)} {sql_type}" + (" PRIMARY KEY" if column == table.key else ""))
    for column, target in table.references.items():
        parts.append(f"FOREIGN KEY ({_quote(column)}) REFERENCES {_quote(target)}")
    return f"CREATE TABLE {_quote(table.name)} ({', '.join(parts)})"


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return int(value)
    return value


def _merge(current: str | None, value: Any) -> str | None:
    """The column type that holds every value seen so far (None until a non-null value)."""
    if value is None:
        return current
    found = SQL_TYPES.get(type(value), "TEXT")
    if current is None or current == found:
        return found
    if {current, found} == {"INTEGER", "REAL"}:
        return "REAL"
    return "TEXT"


def _unique(rows: list[dict[str, Any]], column: str) -> bool:
    values = [row.get(column) for row in rows]
    return None not in values and len(set(values)) == len(values)


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def _is_identifier(name: str) -> bool:
    return bool(name) and name.replace("_", "a").isalnum() and name.isascii() and not name[0].isdigit()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
