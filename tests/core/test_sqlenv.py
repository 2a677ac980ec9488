"""The SQL tool environment: isolation, the authorizer, bound parameters, replay, bad files."""

from __future__ import annotations

import json
import os
import random
import sqlite3
from pathlib import Path

import pytest

from turnloom.core.domains.base import DomainPack
from turnloom.core.errors import DatabaseError
from turnloom.core.models import ToolSpec, WriteRecord
from turnloom.core.tools import sqlenv
from turnloom.core.tools.dbimage import build_pack_image, load_database_image
from turnloom.core.tools.sqlenv import SqlEnvironment, validate_arguments


def params(props: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": props, "required": required or [], "additionalProperties": False}


CREATE_CUSTOMER = ToolSpec(
    name="create_customer",
    description="Create a customer.",
    parameters=params(
        {"name": {"type": "string"}, "email": {"type": "string"}, "tier": {"type": "string"}},
        ["name", "email"],
    ),
    sql="INSERT INTO customers (name, email, tier) VALUES (:name, :email, COALESCE(:tier, 'standard'))",
    writes=True,
)
UPDATE_TOTAL = ToolSpec(
    name="update_order_total",
    description="Change an order's total.",
    parameters=params({"id": {"type": "integer"}, "total": {"type": "number"}}, ["id", "total"]),
    sql="UPDATE orders SET total = :total WHERE id = :id",
    writes=True,
)
GET_CUSTOMER = ToolSpec(
    name="get_customer_by_id",
    description="Get one customer.",
    parameters=params({"id": {"type": "integer"}}, ["id"]),
    sql="SELECT * FROM customers WHERE id = :id",
    returns="one",
)
SEARCH_CUSTOMERS = ToolSpec(
    name="search_customers",
    description="Search customers.",
    parameters=params({"name": {"type": "string"}}),
    sql="SELECT id, name FROM customers WHERE (:name IS NULL OR instr(lower(name), lower(:name)) > 0) ORDER BY id",
    returns="many",
)


def raw(sql: str, writes: bool = True) -> ToolSpec:
    return ToolSpec(name="raw", description="Run SQL.", sql=sql, writes=writes, returns=None if writes else "many")


@pytest.fixture
def env(sql_shop_image):
    with SqlEnvironment(sql_shop_image) as environment:
        yield environment


# -- results ------------------------------------------------------------------


def test_returns_one_gives_the_row_object_or_null(env):
    found = env.execute(GET_CUSTOMER, {"id": 1})
    assert not found.is_error
    assert json.loads(found.content)["email"] == "ana@example.com"
    missing = env.execute(GET_CUSTOMER, {"id": 999})
    assert missing.content == "null" and not missing.is_error


def test_returns_many_gives_an_array_of_row_objects(env):
    result = env.execute(SEARCH_CUSTOMERS, {"name": "EN"})
    assert json.loads(result.content) == [{"id": 2, "name": "Ben Okafor"}, {"id": 3, "name": "Chen Wei"}]


def test_text_is_kept_verbatim_and_blobs_become_base64(env):
    result = env.execute(raw("SELECT 'Zoë 日本' AS t, x'00ff' AS b", writes=False), {})
    assert "Zoë 日本" in result.content
    assert json.loads(result.content) == [{"t": "Zoë 日本", "b": "AP8="}]


def test_insert_reports_rowcount_lastrowid_and_its_write_effect(env):
    result = env.execute(CREATE_CUSTOMER, {"name": "Dee", "email": "dee@example.com"})
    assert json.loads(result.content) == {"rowcount": 1, "lastrowid": 4}
    assert result.write is not None
    assert result.write.params == {"name": "Dee", "email": "dee@example.com", "tier": None}
    assert (result.write.rowcount, result.write.lastrowid) == (1, 4)


def test_update_reports_rowcount_without_lastrowid(env):
    result = env.execute(UPDATE_TOTAL, {"id": 1, "total": 5})
    assert json.loads(result.content) == {"rowcount": 1}
    assert result.write is not None and result.write.lastrowid is None


# -- arguments ----------------------------------------------------------------


def test_values_are_bound_never_spliced_into_sql(env):
    attack = "x'); DROP TABLE customers;--"
    result = env.execute(CREATE_CUSTOMER, {"name": attack, "email": "evil@example.com"})
    assert not result.is_error
    assert env.query("SELECT name FROM customers WHERE email = 'evil@example.com'") == [{"name": attack}]
    assert "customers" in env.table_names()


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"name": "Dee", "email": "d@x", "nickname": "D"}, "nickname"),
        ({"name": "Dee"}, "email"),
        ({"name": "Dee", "email": 42}, "email"),
    ],
    ids=["unknown", "missing", "wrong-type"],
)
def test_arguments_not_fitting_the_schema_are_an_error_naming_the_argument(env, arguments, named):
    before = env.state_digest()
    result = env.execute(CREATE_CUSTOMER, arguments)
    assert result.is_error and result.write is None
    body = json.loads(result.content)
    assert body["type"] == "invalid_arguments"
    assert named in body["error"]
    assert env.state_digest() == before
    assert validate_arguments(CREATE_CUSTOMER, arguments) is not None


def test_each_tool_is_checked_against_its_own_schema_however_often_they_alternate():
    renamed = CREATE_CUSTOMER.model_copy(
        update={"name": "create_client", "parameters": params({"label": {"type": "string"}}, ["label"])}
    )
    for _ in range(3):
        assert validate_arguments(CREATE_CUSTOMER, {"name": "Dee", "email": "d@example.com"}) is None
        assert "label" in (validate_arguments(renamed, {"name": "Dee", "email": "d@example.com"}) or "")
        assert validate_arguments(renamed, {"label": "x"}) is None
        assert "email" in (validate_arguments(CREATE_CUSTOMER, {"label": "x"}) or "")


def test_constraint_violation_is_an_error_and_leaves_the_database_unchanged(env):
    before = env.state_digest()
    result = env.execute(CREATE_CUSTOMER, {"name": "Copy", "email": "ana@example.com"})
    body = json.loads(result.content)
    assert result.is_error and body["type"] == "sql_error" and "UNIQUE" in body["error"]
    # a multi-row statement that fails half-way is undone as a whole
    failing = env.execute(raw("UPDATE orders SET total = total - 20"), {})
    assert failing.is_error and "CHECK" in json.loads(failing.content)["error"]
    assert env.state_digest() == before


def test_foreign_keys_are_enforced(env):
    result = env.execute(raw("INSERT INTO orders (customer_id, total) VALUES (999, 1)"), {})
    assert result.is_error and "FOREIGN KEY" in result.content


# -- the authorizer -----------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH DATABASE ':memory:' AS other",
        "DETACH DATABASE main",
        "PRAGMA user_version = 5",
        "PRAGMA foreign_keys = OFF",
        "SELECT load_extension('/tmp/evil.so')",
        "CREATE TABLE evil (x)",
        "CREATE TEMP TABLE evil (x)",
        "CREATE INDEX evil ON customers (name)",
        "CREATE VIEW evil AS SELECT 1",
        "CREATE TRIGGER evil AFTER INSERT ON orders BEGIN DELETE FROM customers; END",
        "DROP TABLE order_items",
        "ALTER TABLE customers ADD COLUMN evil TEXT",
        "VACUUM",
        "SELECT random()",
        "SELECT hex(randomblob(8))",
        "SELECT datetime('now')",
        "SELECT CURRENT_TIMESTAMP",
        "BEGIN",
        "SAVEPOINT evil",
        "SELECT 1; DROP TABLE customers",
    ],
)
def test_forbidden_operations_are_refused(env, sql):
    before = env.state_digest()
    result = env.execute(raw(sql), {})
    body = json.loads(result.content)
    assert result.is_error and body["type"] == "sql_error"
    assert "not allowed" in body["error"]
    assert env.state_digest() == before
    assert env.table_names() == ["customers", "order_items", "orders"]


def test_autoincrement_inserts_work_but_sqlite_sequence_is_off_limits(sql_image_from):
    image = sql_image_from("CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT);")
    with SqlEnvironment(image) as env:
        insert = env.execute(raw("INSERT INTO notes (body) VALUES ('hi')"), {})
        assert json.loads(insert.content) == {"rowcount": 1, "lastrowid": 1}
        meddle = env.execute(raw("DELETE FROM sqlite_sequence"), {})
        assert meddle.is_error and "not allowed" in meddle.content


def test_vacuum_into_writes_no_file(env, tmp_path):
    target = tmp_path / "copy.db"
    result = env.execute(raw(f"VACUUM INTO '{target}'"), {})
    assert result.is_error and "not allowed" in result.content
    assert not target.exists()


def test_a_read_tool_cannot_write(env):
    result = env.execute(raw("DELETE FROM order_items", writes=False), {})
    assert result.is_error and "read-only" in result.content
    assert env.row_counts()["order_items"] == 4


def test_query_is_read_only(env):
    assert env.query("SELECT COUNT(*) AS n FROM orders WHERE customer_id = :c", {"c": 1}) == [{"n": 2}]
    with pytest.raises(DatabaseError, match="read-only"):
        env.query("DELETE FROM orders")


def test_reads_of_an_untouched_database_are_shared_by_its_image_and_a_written_one_reads_its_own(
    sql_shop_image, monkeypatch
):
    count = "SELECT COUNT(*) AS n FROM customers"
    with SqlEnvironment(sql_shop_image) as first, SqlEnvironment(sql_shop_image) as second:
        assert first.query(count) == [{"n": 3}]
        ran: list[str] = []
        real_run = SqlEnvironment._run

        def counting_run(self, sql, *args, **kwargs):
            ran.append(sql)
            return real_run(self, sql, *args, **kwargs)

        monkeypatch.setattr(SqlEnvironment, "_run", counting_run)
        rows = second.query(count)
        assert rows == [{"n": 3}] and ran == []  # the first environment's answer: same image, nothing written
        rows[0]["n"] = 99  # a caller's copy: the shared answer is not changed through it
        assert first.query(count) == [{"n": 3}]
        second.execute(CREATE_CUSTOMER, {"name": "Dee", "email": "dee@example.com"})
        assert second.query(count) == [{"n": 4}] and ran[-1] == count  # written to: its own database answers
        assert first.query(count) == [{"n": 3}]


def test_shared_reads_tell_values_of_different_types_apart(sql_shop_image):
    with SqlEnvironment(sql_shop_image) as env:
        answers = [env.query("SELECT :v AS v", {"v": value})[0]["v"] for value in (1, 1.0, True, "1")]
    assert [type(a) for a in answers] == [int, float, int, str]


# -- isolation and replay -----------------------------------------------------


def test_writes_persist_in_one_environment_and_never_leak_to_another(sql_shop_image):
    original = bytes(sql_shop_image)
    with SqlEnvironment(sql_shop_image) as first, SqlEnvironment(sql_shop_image) as second:
        first.execute(CREATE_CUSTOMER, {"name": "Dee", "email": "dee@example.com"})
        first.execute(UPDATE_TOTAL, {"id": 1, "total": 1.5})
        assert first.row_counts()["customers"] == 4
        assert first.query("SELECT total FROM orders WHERE id = 1") == [{"total": 1.5}]
        assert second.row_counts()["customers"] == 3
        assert second.query("SELECT total FROM orders WHERE id = 1") == [{"total": 30.5}]
    assert sql_shop_image == original


def test_dry_run_undoes_its_write(env):
    before = env.state_digest()
    result = env.dry_run(CREATE_CUSTOMER, {"name": "Dee", "email": "dee@example.com"})
    assert not result.is_error
    assert env.state_digest() == before


def test_rebuilt_upto_n_equals_the_state_seen_at_n(sql_shop_image):
    calls = [
        (CREATE_CUSTOMER, {"name": "Dee", "email": "dee@example.com"}),
        (UPDATE_TOTAL, {"id": 2, "total": 40}),
        (CREATE_CUSTOMER, {"name": "Eve", "email": "eve@example.com", "tier": "gold"}),
        (raw("DELETE FROM order_items WHERE order_id = 1"), {}),
    ]
    log: list[WriteRecord] = []
    seen: dict[int, str] = {}
    with SqlEnvironment(sql_shop_image) as live:
        for step, (spec, arguments) in enumerate(calls):
            index = 3 * step + 2  # the tool message that carried the result
            seen[index] = live.state_digest()  # the state just before this write
            effect = live.execute(spec, arguments).write
            assert effect is not None
            log.append(
                WriteRecord(
                    message_index=index,
                    tool_call_id=f"c{step}",
                    tool=spec.name,
                    sql=effect.sql,
                    params=effect.params,
                    rowcount=effect.rowcount,
                    lastrowid=effect.lastrowid,
                )
            )
        final = live.state_digest()
    for upto, digest in seen.items():
        with SqlEnvironment.rebuilt(sql_shop_image, log, upto=upto) as env:
            assert env.state_digest() == digest
    with SqlEnvironment.rebuilt(sql_shop_image, log, upto=None) as env:
        assert env.state_digest() == final
    assert len(set(seen.values()) | {final}) == len(calls) + 1


def test_apply_write_reruns_an_effect_and_refuses_one_that_no_longer_fits(sql_shop_image):
    with SqlEnvironment(sql_shop_image) as a, SqlEnvironment(sql_shop_image) as b:
        effect = a.execute(CREATE_CUSTOMER, {"name": "Dee", "email": "dee@example.com"}).write
        assert effect is not None
        b.apply_write(effect)
        assert a.state_digest() == b.state_digest()
        with pytest.raises(DatabaseError, match="cannot be replayed"):
            b.apply_write(effect)  # the email is UNIQUE


def test_image_round_trips_and_dump_lists_every_table(env):
    env.execute(UPDATE_TOTAL, {"id": 3, "total": 1})
    with SqlEnvironment(env.image()) as copy:
        assert copy.state_digest() == env.state_digest()
        assert set(copy.dump()) == {"customers", "orders", "order_items"}
        assert copy.row_counts() == {"customers": 3, "order_items": 4, "orders": 3}


def test_a_closed_environment_cannot_run_tools(sql_shop_image):
    with SqlEnvironment(sql_shop_image) as env:
        pass
    with pytest.raises(sqlite3.ProgrammingError):
        env.state_digest()


# -- database files -----------------------------------------------------------


def test_a_read_only_file_loads_and_nothing_is_written_beside_it(sql_shop_path):
    sql_shop_path.chmod(0o444)
    before = sorted(p.name for p in sql_shop_path.parent.iterdir())
    image = load_database_image(sql_shop_path)
    assert image.startswith(b"SQLite format 3\x00")
    assert sorted(p.name for p in sql_shop_path.parent.iterdir()) == before


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DatabaseError, match="no such file") as info:
        load_database_image(tmp_path / "nope.sqlite")
    assert "nope.sqlite" in str(info.value)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("just some notes, not a database\n" * 4)
    with pytest.raises(DatabaseError, match="not a SQLite database"):
        load_database_image(path)


@pytest.mark.parametrize("zero_bytes", [True, False])
def test_an_empty_database_is_refused(tmp_path, zero_bytes):
    path = tmp_path / "empty.sqlite"
    if zero_bytes:
        path.touch()
    else:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version = 1")
        conn.close()
    with pytest.raises(DatabaseError, match="empty"):
        load_database_image(path)


def test_a_locked_database_names_the_other_writer(sql_shop_path):
    holder = sqlite3.connect(sql_shop_path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(DatabaseError, match="another process holds a write lock"):
            load_database_image(sql_shop_path, timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_an_unreadable_file_is_refused(sql_shop_path):
    sql_shop_path.chmod(0o000)
    try:
        if os.access(sql_shop_path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop reading")
        with pytest.raises(DatabaseError, match="permission"):
            load_database_image(sql_shop_path)
    finally:
        sql_shop_path.chmod(0o644)


def test_a_wal_mode_file_loads(tmp_path: Path):
    path = tmp_path / "wal.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
    conn.execute("INSERT INTO t (x) VALUES ('a')")
    conn.commit()
    conn.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    image = load_database_image(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with SqlEnvironment(image) as env:
        assert env.query("SELECT x FROM t") == [{"x": "a"}]
    writer = sqlite3.connect(path)  # a live writer: its commits sit in the -wal file
    try:
        writer.execute("INSERT INTO t (x) VALUES ('b')")
        writer.commit()
        with SqlEnvironment(load_database_image(path)) as env:
            assert env.query("SELECT x FROM t ORDER BY id") == [{"x": "a"}, {"x": "b"}]
    finally:
        writer.close()


# -- pack images ----------------------------------------------------------------


def _populate(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.executemany("INSERT INTO things (n) VALUES (?)", [(rng.randint(0, 10**9),) for _ in range(5)])


def _pack(name: str) -> DomainPack:
    return DomainPack(
        name=name,
        title="Things",
        description="d",
        schema_sql="CREATE TABLE things (id INTEGER PRIMARY KEY, n INTEGER);",
        populate=_populate,
        intents=(),
        templates=(),
    )


def test_pack_images_are_deterministic_and_built_once_per_name():
    first = build_pack_image(_pack("sql-test-things"))
    assert build_pack_image(_pack("sql-test-things")) is first
    with SqlEnvironment(first) as env:
        rows = env.query("SELECT n FROM things ORDER BY id")
    expected_rng = random.Random(7)
    assert [r["n"] for r in rows] == [expected_rng.randint(0, 10**9) for _ in range(5)]


def test_a_tool_without_sql_or_with_a_broken_schema_is_an_error_not_an_exception(env):
    no_sql = ToolSpec(name="lookup", description="d")
    assert json.loads(env.execute(no_sql, {}).content)["type"] == "not_executable"
    broken = ToolSpec(name="broken", description="d", parameters={"type": "nonsense"}, sql="SELECT 1")
    assert json.loads(env.execute(broken, {}).content)["type"] == "invalid_tool"


def test_an_insert_that_inserts_nothing_has_no_lastrowid(env):
    result = env.execute(raw("INSERT OR IGNORE INTO customers (id, name, email) VALUES (1, 'x', 'y')"), {})
    assert json.loads(result.content) == {"rowcount": 0, "lastrowid": None}


def test_a_runaway_query_is_interrupted(env, monkeypatch):
    monkeypatch.setattr(sqlenv, "MAX_STEPS", 1_000)  # about 1M VM steps, to keep the test fast
    forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    result = env.execute(raw(forever, writes=False), {})
    assert result.is_error and "interrupted" in result.content
