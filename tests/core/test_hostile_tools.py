"""Hostile tool arguments, SQL and databases: each ends in an error result or a named error, never a traceback."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from turnloom.core.models import ToolCall, ToolExecution, ToolSpec
from turnloom.core.tools.dbimage import load_database_image
from turnloom.core.tools.derive import derive_tools
from turnloom.core.tools.environment import ToolEnvironment
from turnloom.core.tools.sqlenv import SqlEnvironment
from turnloom.core.tools.toolset import check_tools


def params(props: dict) -> dict:
    return {"type": "object", "properties": props, "required": [], "additionalProperties": False}


GET_CUSTOMER = ToolSpec(
    name="get_customer_by_id",
    description="Get one customer.",
    parameters=params({"id": {"type": "integer"}}),
    sql="SELECT * FROM customers WHERE id = :id",
    returns="one",
)
FIND_BY_NAME = ToolSpec(
    name="find_customer",
    description="Find customers by name.",
    parameters=params({"name": {"type": "string"}}),
    sql="SELECT id FROM customers WHERE name = :name",
    returns="many",
)


def raw_select(sql: str) -> ToolSpec:
    return ToolSpec(name="raw", description="Run SQL.", parameters=params({}), sql=sql, returns="many")


@pytest.fixture
def env(sql_shop_image):
    with SqlEnvironment(sql_shop_image) as environment:
        yield environment


@pytest.mark.parametrize(
    ("spec", "arguments", "named"),
    [
        (GET_CUSTOMER, {"id": 2**64}, "out of range"),
        (GET_CUSTOMER, {"id": -(2**63) - 1}, "out of range"),
        (FIND_BY_NAME, {"name": "\ud800"}, "lone surrogate"),
    ],
)
def test_an_argument_sqlite_cannot_bind_is_an_error_result_and_the_next_call_still_works(env, spec, arguments, named):
    result = env.execute(spec, arguments)
    assert result.is_error and named in json.loads(result.content)["error"]
    after = env.execute(GET_CUSTOMER, {"id": 1})
    assert not after.is_error, after.content
    assert json.loads(after.content)["id"] == 1


def test_the_largest_database_integer_still_binds(env):
    assert env.execute(GET_CUSTOMER, {"id": 2**63 - 1}).content == "null"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT datetime('n'||'ow') AS t",
        "SELECT julianday() AS t",
        "SELECT strftime('%s') AS t",
        "SELECT date(lower('NOW')) AS t",
        "SELECT unixepoch(' now ') AS t",
    ],
)
def test_the_clock_guard_refuses_the_current_time_however_it_is_spelled(env, sql):
    result = env.execute(raw_select(sql), {})
    assert result.is_error
    assert "not replayable" in json.loads(result.content)["error"]
    assert not env.execute(GET_CUSTOMER, {"id": 1}).is_error


def test_date_functions_on_given_times_answer_as_sqlite_does(env):
    result = env.execute(raw_select("SELECT date('2025-01-31', '+1 day') AS d, strftime('%Y', '2025-06-01') AS y"), {})
    assert json.loads(result.content) == [{"d": "2025-02-01", "y": "2025"}]


def test_a_result_over_the_byte_cap_is_an_error_result_without_building_it(sql_shop_image):
    with SqlEnvironment(sql_shop_image, max_result_bytes=4096) as small:
        bomb = small.execute(raw_select("SELECT zeroblob(100000000) AS b"), {})
        assert bomb.is_error
        many = small.execute(raw_select("SELECT hex(zeroblob(1000)) AS b FROM customers, customers AS c2"), {})
        assert many.is_error and json.loads(many.content)["type"] == "result_too_large"
        assert not small.execute(GET_CUSTOMER, {"id": 1}).is_error


def test_the_default_cap_lets_ordinary_results_through_and_stops_a_zeroblob_bomb(env):
    assert not env.execute(raw_select("SELECT * FROM customers"), {}).is_error
    assert env.execute(raw_select("SELECT zeroblob(100000000) AS b"), {}).is_error


async def test_the_session_setting_caps_tool_results_in_the_tool_environment(sql_shop_image):
    environment = ToolEnvironment(sql_shop_image, ToolExecution.SQL, max_result_bytes=300)
    call = ToolCall(id="c1", name="raw", arguments="{}")
    result = await environment.execute(None, raw_select("SELECT * FROM customers, orders"), call)  # type: ignore[arg-type]
    assert result.is_error and json.loads(result.content)["type"] == "result_too_large"
    environment.close()


def test_quoted_identifiers_in_a_database_do_not_break_derived_tools_or_their_check(tmp_path: Path):
    path = tmp_path / "weird.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        'CREATE TABLE "we""ird" (id INTEGER PRIMARY KEY, "na""me" TEXT, amount REAL);'
        'CREATE TABLE "ch""ild" (id INTEGER PRIMARY KEY, "we""ird_id" INTEGER REFERENCES "we""ird"(id), v REAL);'
        'INSERT INTO "we""ird" VALUES (1, \'x\', 2.0); INSERT INTO "ch""ild" VALUES (1, 1, 2.0);'
    )
    conn.close()
    image = load_database_image(path)
    tools = derive_tools(image).tools
    assert tools
    check_tools(tools, image, ToolExecution.SQL)  # raises ToolsetError if any tool cannot run


def test_reading_a_wal_database_with_pending_pages_creates_nothing_beside_it(tmp_path: Path):
    live, crashed = tmp_path / "live", tmp_path / "crashed"
    live.mkdir()
    crashed.mkdir()
    writer = sqlite3.connect(live / "db.sqlite")
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
    writer.execute("INSERT INTO t (x) VALUES ('in the wal')")
    writer.commit()
    # what a crashed writer leaves: the main file and a -wal holding the commit, no -shm
    shutil.copyfile(live / "db.sqlite", crashed / "db.sqlite")
    shutil.copyfile(live / "db.sqlite-wal", crashed / "db.sqlite-wal")
    writer.close()
    before = sorted(p.name for p in crashed.iterdir())
    image = load_database_image(crashed / "db.sqlite")
    assert sorted(p.name for p in crashed.iterdir()) == before
    with SqlEnvironment(image) as copy:
        assert copy.query("SELECT x FROM t") == [{"x": "in the wal"}]
