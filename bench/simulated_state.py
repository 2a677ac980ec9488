"""Does simulated execution hold state? Write persistence, placeholder values and aggregates over a corpus.

    python bench/simulated_state.py [--seeds 30] [--db PATH ...]

Runs offline dialogues in `simulated` execution (every built-in domain, both
modes, `--seeds` seeds each; plus any `--db` database) and reports, from the
transcripts alone:
- write persistence: of the fields a successful update or create wrote, the share
  that a later read of the same record (same table and key) shows with the
  written value (a deleted record read back as missing counts as agreeing);
- placeholder strings: the share of string values in tool results shaped like
  `word-12` (what the old simulator invented);
- aggregates: summaries whose average × count equals the total (within rounding), and, with
  SQL's null semantics (COUNT(*) counts rows, SUM and AVG skip nulls), summaries that agree
  with a listing of the same records read earlier in the dialogue with no write to the table
  in between: count = rows listed, total = sum of the non-null values, average = total / their number.
Tables and keys are read from the tools' SQL, independently of the simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from dataclasses import dataclass

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import Mode, Role, Session, ToolExecution

_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"((?:[^"]|"")+)"', re.I)
_UPDATE = re.compile(r'SET\s+"((?:[^"]|"")+)"\s*=\s*:(\w+)\s+WHERE\s+"((?:[^"]|"")+)"\s*=\s*:(\w+)', re.I)
_DELETE_KEY = re.compile(r'WHERE\s+"((?:[^"]|"")+)"\s*=\s*:(\w+)', re.I)
_PLACEHOLDER = re.compile(r"^[a-z]+-\d{2}$")


@dataclass
class Tally:
    verified: int = 0
    persisted: int = 0
    strings: int = 0
    placeholders: int = 0
    summaries: int = 0
    summaries_adding_up: int = 0
    cross_checked: int = 0  # summaries with an earlier listing of the same records
    cross_agreeing: int = 0
    dialogues: int = 0
    messages: int = 0


def _key_field(session: Session, table: str) -> str | None:
    """The column a table's update tools find records by (its primary key)."""
    for spec in session.tools:
        match = _UPDATE.search(spec.sql or "") if spec.writes else None
        if match and _table_of(spec.sql) == table:
            return match.group(3)
    return None


def _table_of(sql: str | None) -> str | None:
    match = _TABLE.search(sql or "")
    return match.group(1) if match else None


def measure(session: Session, tally: Tally) -> None:
    """Add one finished dialogue's writes, later reads, strings and summaries to `tally`."""
    written: dict[tuple[str, str], dict[str, object]] = {}  # (table, key) -> field -> value; None dict = deleted
    deleted: set[tuple[str, str]] = set()
    version: dict[str, int] = {}  # table -> writes so far
    listed: dict[tuple[str, str], tuple[list, int]] = {}  # (table, filter) -> (rows, table version)
    calls = {c.id: c for m in session.messages for c in m.tool_calls}
    for message in session.messages:
        if message.role is not Role.TOOL or message.meta.tool_error:
            continue
        call = calls.get(message.tool_call_id or "")
        spec = session.tool(call.name) if call else None
        if call is None or spec is None:
            continue
        result = json.loads(message.content or "null")
        arguments = call.parsed_arguments()
        table = _table_of(spec.sql)
        _count_strings(result, tally)
        if table is None:
            continue
        if spec.writes and isinstance(result, dict) and result.get("rowcount"):
            version[table] = version.get(table, 0) + 1
            sql = spec.sql or ""
            update = _UPDATE.search(sql)
            if sql.lstrip().upper().startswith("UPDATE") and update:
                key = (table, str(arguments.get(update.group(4))))
                written.setdefault(key, {})[update.group(1)] = arguments.get(update.group(2))
                deleted.discard(key)
            elif sql.lstrip().upper().startswith("INSERT") and result.get("lastrowid") is not None:
                key_field = _key_field(session, table)
                if key_field is not None:
                    written[(table, str(result["lastrowid"]))] = {
                        k: v for k, v in arguments.items() if v is not None and k in _columns(session, table)
                    }
            elif sql.lstrip().upper().startswith("DELETE"):
                match = _DELETE_KEY.search(sql)
                if match:
                    key = (table, str(arguments.get(match.group(2))))
                    deleted.add(key)
                    written.pop(key, None)
            continue
        where = json.dumps({k: v for k, v in arguments.items() if k != "limit"}, sort_keys=True)
        if spec.returns == "one" and "COUNT(" in (spec.sql or "").upper():
            _check_summary(result, tally)
            seen = listed.get((table, where))
            if seen is not None and seen[1] == version.get(table, 0) and isinstance(result, dict):
                tally.cross_checked += 1
                tally.cross_agreeing += _agrees_with_rows(result, seen[0])
            continue
        if isinstance(result, list) and len(result) < int(arguments.get("limit") or 20):
            listed[(table, where)] = (result, version.get(table, 0))
        key_field = _key_field(session, table)
        if key_field is None:
            continue
        rows = result if isinstance(result, list) else [result]
        if spec.returns == "one" and result is None:
            key = next(((table, str(v)) for v in arguments.values()), None)
            if key in deleted:
                tally.verified += 1
                tally.persisted += 1
            elif key in written:
                tally.verified += 1
            continue
        for row in rows:
            if not isinstance(row, dict) or key_field not in row:
                continue
            key = (table, str(row[key_field]))
            if key in deleted:
                tally.verified += 1  # a deleted record read back
                continue
            for field, value in written.get(key, {}).items():
                if field in row:
                    tally.verified += 1
                    tally.persisted += row[field] == value


def _columns(session: Session, table: str) -> set[str]:
    for spec in session.tools:
        if spec.returns and _table_of(spec.sql) == table and spec.output_schema:
            schema = spec.output_schema.get("items", spec.output_schema)
            return set(schema.get("properties", {}))
    return set()


def _count_strings(value: object, tally: Tally) -> None:
    if isinstance(value, str):
        tally.strings += 1
        tally.placeholders += bool(_PLACEHOLDER.match(value))
    elif isinstance(value, list):
        for item in value:
            _count_strings(item, tally)
    elif isinstance(value, dict):
        for item in value.values():
            _count_strings(item, tally)


def _check_summary(result: object, tally: Tally) -> None:
    if not isinstance(result, dict):
        return
    count = next((v for k, v in result.items() if k.endswith("_count") and isinstance(v, int)), None)
    for name, average in result.items():
        if not name.startswith("avg_") or count is None:
            continue
        total = result.get("total_" + name[4:])
        tally.summaries += 1
        if count == 0 or average is None or total is None:
            tally.summaries_adding_up += count == 0 or (average is None and total is None)
        else:
            tally.summaries_adding_up += abs(average * count - total) <= 0.005 * count + 0.01


def _agrees_with_rows(summary: dict, rows: list) -> bool:
    """COUNT(*) = rows; SUM(x) = the non-null x summed; AVG(x) = that sum / how many are non-null."""
    for name, value in summary.items():
        if name.endswith("_count"):
            if value != len(rows):
                return False
            continue
        kind, _, field = name.partition("_")
        numbers = [r.get(field) for r in rows if isinstance(r, dict) and isinstance(r.get(field), (int, float))]
        if kind not in ("total", "avg") or not rows or field not in rows[0]:
            continue
        expected = None if not numbers else sum(numbers) if kind == "total" else sum(numbers) / len(numbers)
        if (expected is None) != (value is None):
            return False
        if expected is not None and abs(float(value) - expected) > 0.01 + 1e-9 * abs(expected):
            return False
    return True


async def _run(session: Session) -> Session:
    engine = open_engine(session)
    await engine.run()
    engine.environment.close()
    return session


def corpus(seeds: int, databases: list[str], execution: ToolExecution = ToolExecution.SIMULATED) -> list[Session]:
    sessions = []
    for mode in (Mode.USER_ORIENTED, Mode.TASK_ORIENTED):
        for seed in range(seeds):
            for domain in pack_names():
                sessions.append(create_session(domain, seed=seed, mode=mode, execution=execution))
            for path in databases:
                sessions.append(create_session(db_path=path, seed=seed, mode=mode, execution=execution))
    return sessions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--db", action="append", default=[], help="also a user database (repeatable)")
    parser.add_argument(
        "--execution", default="simulated", choices=[e.value for e in ToolExecution], help="sql: check the measure"
    )
    args = parser.parse_args()
    tally = Tally()
    started = time.perf_counter()
    for session in corpus(args.seeds, args.db, ToolExecution(args.execution)):
        measure(asyncio.run(_run(session)), tally)
        tally.dialogues += 1
        tally.messages += len(session.messages)
    elapsed = time.perf_counter() - started
    share = tally.persisted / tally.verified if tally.verified else 1.0
    print(f"{tally.dialogues} {args.execution} dialogues, {tally.messages} messages, {elapsed:.1f} s")
    print(f"write persistence: {share:.1%} ({tally.persisted} of {tally.verified} written fields read back agree)")
    print(
        f"placeholder strings: {tally.placeholders / max(tally.strings, 1):.1%} "
        f"({tally.placeholders} of {tally.strings} string values)"
    )
    print(f"summaries adding up (avg × count = total): {tally.summaries_adding_up} of {tally.summaries}")
    print(
        f"summaries agreeing with an earlier listing of the same records (SQL null semantics): "
        f"{tally.cross_agreeing} of {tally.cross_checked}"
    )


if __name__ == "__main__":
    main()
