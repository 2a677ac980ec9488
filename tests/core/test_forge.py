"""The offline tool forge: names, parameters, schemas, validation and determinism."""

from __future__ import annotations

import json
import sqlite3

import jsonschema
import pytest

from turnloom.core.models import ToolOrigin
from turnloom.core.tools.dbimage import load_database_image
from turnloom.core.tools.derive import derive_tools, singular, value_schema
from turnloom.core.tools.sqlenv import SqlEnvironment


@pytest.fixture
def shop(sql_shop_image):
    report = derive_tools(sql_shop_image)
    return {t.name: t for t in report.tools}, report


@pytest.mark.parametrize(
    ("table", "entity"),
    [
        ("categories", "category"),
        ("addresses", "address"),
        ("classes", "class"),
        ("statuses", "status"),
        ("players", "player"),
        ("staff", "staff"),
        ("order_items", "order_item"),
        ("boxes", "box"),
        ("matches", "match"),
        ("houses", "house"),
        ("people", "person"),
        ("bus", "bus"),
        ("analysis", "analysis"),
    ],
)
def test_singular(table, entity):
    assert singular(table) == entity


@pytest.mark.parametrize(
    ("declared", "schema"),
    [
        ("INTEGER", {"type": "integer"}),
        ("BIGINT", {"type": "integer"}),
        ("VARCHAR(20)", {"type": "string"}),
        ("REAL", {"type": "number"}),
        ("DOUBLE PRECISION", {"type": "number"}),
        ("DECIMAL(10,2)", {"type": "number"}),
        ("BOOLEAN", {"type": "integer", "enum": [0, 1]}),
        ("DATE", {"type": "string", "format": "date"}),
        ("DATETIME", {"type": "string", "format": "date-time"}),
        ("BLOB", {"type": "string"}),
        ("", {"type": "string"}),
    ],
)
def test_value_schema_follows_sqlite_affinity(declared, schema):
    assert value_schema(declared) == schema


def test_tool_names_follow_the_contract_in_a_stable_order(shop):
    tools, report = shop
    assert report.dropped == []
    assert list(tools) == [
        "get_customer_by_id",
        "get_customer_by_email",
        "search_customers",
        "create_customer",
        "update_customer_name",
        "update_customer_email",
        "update_customer_tier",
        "update_customer_active",
        "update_customer_joined_on",
        "delete_customer",
        "get_customer_orders",
        "get_customer_orders_summary",
        "get_order_item_by_id",
        "search_order_items",
        "create_order_item",
        "update_order_item_order_id",
        "update_order_item_sku",
        "update_order_item_quantity",
        "update_order_item_unit_price",
        "delete_order_item",
        "get_order_by_id",
        "search_orders",
        "create_order",
        "update_order_customer_id",
        "update_order_status",
        "update_order_total",
        "update_order_note",
        "delete_order",
        "get_order_order_items",
        "get_order_order_items_summary",
    ]
    assert all(t.origin is ToolOrigin.DERIVED and t.sql and t.description.endswith(".") for t in tools.values())


def test_every_parameters_schema_is_closed_and_described(shop):
    tools, _ = shop
    for tool in tools.values():
        schema = tool.parameters
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert set(schema["required"]) <= set(schema["properties"])
        assert all(p.get("description") for p in schema["properties"].values()), tool.name
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)


def test_get_by_primary_key_and_unique_column(shop):
    tools, _ = shop
    by_email = tools["get_customer_by_email"]
    assert by_email.returns == "one" and not by_email.writes
    assert by_email.parameters["required"] == ["email"]
    assert by_email.output_schema["type"] == ["object", "null"]
    assert by_email.output_schema["properties"]["joined_on"]["type"] == ["string", "null"]
    assert by_email.output_schema["properties"]["tier"] == {"type": "string", "enum": ["standard", "gold"]}
    assert tools["get_customer_by_id"].description == "Get one customer by its id; null when there is none."


def test_search_has_only_optional_filters_and_a_bounded_limit(shop, sql_shop_image):
    tools, _ = shop
    search = tools["search_orders"]
    props = search.parameters["properties"]
    assert search.parameters["required"] == []
    assert set(props) == {"customer_id", "status", "total", "min_total", "max_total", "note", "limit"}
    assert props["status"]["enum"] == ["pending", "shipped"]
    assert props["limit"] | {} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 20,
        "description": props["limit"]["description"],
    }
    assert "every filter is optional" in search.description
    with SqlEnvironment(sql_shop_image) as env:
        assert [r["id"] for r in json.loads(env.execute(search, {}).content)] == [1, 2, 3]
        # text filters are substrings, case-insensitive, with % and _ taken literally
        assert json.loads(env.execute(search, {"note": "AT DOOR"}).content)[0]["id"] == 1
        assert json.loads(env.execute(search, {"note": "%"}).content) == []
        assert [r["id"] for r in json.loads(env.execute(search, {"min_total": 20}).content)] == [1, 3]
        assert len(json.loads(env.execute(search, {"limit": 1}).content)) == 1
        assert env.execute(search, {"limit": 0}).is_error


def test_create_requires_not_null_columns_without_default_and_keeps_defaults(shop, sql_shop_image):
    tools, _ = shop
    create = tools["create_customer"]
    assert create.writes and create.returns is None
    assert set(create.parameters["properties"]) == {"name", "email", "tier", "active", "joined_on"}
    assert create.parameters["required"] == ["name", "email"]
    assert create.parameters["properties"]["active"]["enum"] == [0, 1]
    assert create.output_schema["required"] == ["rowcount", "lastrowid"]
    with SqlEnvironment(sql_shop_image) as env:
        result = env.execute(create, {"name": "Dee", "email": "dee@example.com"})
        row = json.loads(
            env.execute(tools["get_customer_by_id"], {"id": json.loads(result.content)["lastrowid"]}).content
        )
        assert (row["tier"], row["active"], row["joined_on"]) == ("standard", 1, None)
        bad = env.execute(create, {"name": "Dee", "email": "d2@example.com", "tier": "platinum"})
        assert bad.is_error and "tier" in bad.content


def test_update_and_delete_take_the_primary_key(shop):
    tools, _ = shop
    update = tools["update_order_status"]
    assert update.parameters["required"] == ["id", "status"] and update.writes
    assert update.output_schema["required"] == ["rowcount"]
    assert tools["delete_order"].parameters["required"] == ["id"]


def test_foreign_keys_give_a_listing_and_a_summary(shop, sql_shop_image):
    tools, _ = shop
    listing, summary = tools["get_customer_orders"], tools["get_customer_orders_summary"]
    assert listing.parameters["required"] == ["customer_id"]
    assert set(listing.parameters["properties"]) == {"customer_id", "limit"}
    assert set(summary.output_schema["properties"]) == {"orders_count", "total_total", "avg_total"}
    items = tools["get_order_order_items_summary"].output_schema["properties"]
    assert set(items) == {"order_items_count", "total_quantity", "avg_quantity", "total_unit_price", "avg_unit_price"}
    with SqlEnvironment(sql_shop_image) as env:
        assert [r["id"] for r in json.loads(env.execute(listing, {"customer_id": 1}).content)] == [1, 2]
        assert json.loads(env.execute(summary, {"customer_id": 1}).content) == {
            "orders_count": 2,
            "total_total": 42.5,
            "avg_total": 21.25,
        }
        assert json.loads(env.execute(summary, {"customer_id": 3}).content) == {
            "orders_count": 0,
            "total_total": None,
            "avg_total": None,
        }


def test_every_tool_result_fits_its_output_schema(shop, sql_shop_image):
    tools, _ = shop
    samples = {"id": 1, "email": "ana@example.com", "customer_id": 1, "order_id": 1}
    with SqlEnvironment(sql_shop_image) as env:
        for tool in tools.values():
            if tool.writes:
                continue
            args = {k: v for k, v in samples.items() if k in tool.parameters["properties"]}
            result = env.execute(tool, args)
            assert not result.is_error, (tool.name, result.content)
            jsonschema.validate(json.loads(result.content), tool.output_schema)
        write = env.execute(tools["create_order"], {"customer_id": 2, "total": 3.5})
        jsonschema.validate(json.loads(write.content), tools["create_order"].output_schema)


def test_two_foreign_keys_to_one_parent_are_told_apart(sql_image_from):
    image = sql_image_from("""
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL);
        CREATE TABLE transfers (id INTEGER PRIMARY KEY, amount REAL NOT NULL,
            from_account INTEGER NOT NULL REFERENCES accounts(id),
            to_account INTEGER NOT NULL REFERENCES accounts(id));
        INSERT INTO accounts (owner) VALUES ('a'), ('b');
        INSERT INTO transfers (amount, from_account, to_account) VALUES (5, 1, 2);
    """)
    names = [t.name for t in derive_tools(image).tools]
    assert {
        "get_account_transfers_by_from_account",
        "get_account_transfers_summary_by_from_account",
        "get_account_transfers_by_to_account",
        "get_account_transfers_summary_by_to_account",
    } <= set(names)
    assert "get_account_transfers" not in names


def test_a_table_without_a_single_column_key_gets_search_and_create_only(sql_image_from):
    image = sql_image_from("""
        CREATE TABLE memberships (team TEXT NOT NULL, player TEXT NOT NULL, PRIMARY KEY (team, player));
        CREATE TABLE log (line TEXT);
        INSERT INTO memberships VALUES ('red', 'ana');
        INSERT INTO log VALUES ('hello');
    """)
    report = derive_tools(image)
    assert [t.name for t in report.tools] == ["search_log", "create_log", "search_memberships", "create_membership"]
    assert report.tools[3].parameters["required"] == ["team", "player"]


def test_a_tool_that_fails_on_sample_data_is_dropped_with_the_reason(sql_image_from):
    image = sql_image_from("""
        CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE CHECK (length(code) = 3));
        INSERT INTO codes (code) VALUES ('ABC');
    """)
    report = derive_tools(image)
    assert [name for name, _ in report.dropped] == ["create_code"]
    assert "CHECK constraint failed" in report.dropped[0][1]
    assert "create_code" not in [t.name for t in report.tools]
    assert "update_code_code" in [t.name for t in report.tools]


def test_defaults_that_cannot_replay_become_required(sql_image_from):
    image = sql_image_from("""
        CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, n INTEGER DEFAULT 0);
        INSERT INTO events (at) VALUES ('2025-01-01 00:00:00');
    """)
    create = next(t for t in derive_tools(image).tools if t.name == "create_event")
    assert create.parameters["required"] == ["at"]
    assert "CURRENT_TIMESTAMP" not in create.sql and "COALESCE(:n, 0)" in create.sql


def test_awkward_identifiers_are_quoted_and_named_safely(sql_image_from):
    image = sql_image_from("""
        CREATE TABLE "order lines" ("line id" INTEGER PRIMARY KEY, "unit-price" REAL, "limit" INTEGER);
        INSERT INTO "order lines" ("unit-price", "limit") VALUES (2.5, 3);
    """)
    report = derive_tools(image)
    assert report.dropped == []
    search = next(t for t in report.tools if t.name == "search_order_lines")
    assert {"unit_price", "limit_value", "limit"} <= set(search.parameters["properties"])


def test_empty_tables_still_get_working_tools(sql_image_from):
    image = sql_image_from("""
        CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE players (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL REFERENCES teams(id),
                              goals INTEGER NOT NULL DEFAULT 0);
        INSERT INTO teams (name) VALUES ('Reds');
    """)
    report = derive_tools(image)
    assert report.dropped == []
    assert "create_player" in [t.name for t in report.tools]


def test_same_image_same_report(sql_shop_image):
    first, second = derive_tools(sql_shop_image), derive_tools(bytes(sql_shop_image))
    assert [t.model_dump() for t in first.tools] == [t.model_dump() for t in second.tools]
    assert first.dropped == second.dropped


PROBE_SCRIPT = """
CREATE TABLE cache_probe_rooms (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE, seats INTEGER NOT NULL);
INSERT INTO cache_probe_rooms (label, seats) VALUES ('Aster', 4), ('Birch', 10);
"""


@pytest.fixture
def derivations(monkeypatch):
    """How many times the forge really derived (dry runs included): the real `_derive`, counted."""
    from turnloom.core.tools import derive

    calls: list[int] = []

    def counted(image: bytes):
        calls.append(len(image))
        return real(image)

    real = derive._derive
    monkeypatch.setattr(derive, "_derive", counted)
    return calls


def test_the_same_database_content_is_derived_once_whatever_its_path(sql_image_from, derivations):
    first = derive_tools(sql_image_from(PROBE_SCRIPT, "a.sqlite"))
    second = derive_tools(sql_image_from(PROBE_SCRIPT, "elsewhere.sqlite"))
    assert len(derivations) == 1
    assert [t.model_dump() for t in first.tools] == [t.model_dump() for t in second.tools]
    assert "update_cache_probe_room_seats" in [t.name for t in second.tools]


def test_a_changed_database_at_the_same_path_is_derived_again(tmp_path, derivations):
    path = tmp_path / "same.sqlite"
    images = []
    own = "INSERT INTO cache_probe_rooms (label, seats) VALUES ('Cedar', 6);"  # content no other test derives
    for extra in (own, own + "CREATE TABLE cache_probe_desks (id INTEGER PRIMARY KEY, room TEXT NOT NULL);"):
        path.unlink(missing_ok=True)
        with sqlite3.connect(path) as conn:
            conn.executescript(PROBE_SCRIPT + extra)
        conn.close()
        images.append(load_database_image(path))
    before, after = derive_tools(images[0]), derive_tools(images[1])
    assert len(derivations) == 2
    assert "search_cache_probe_desks" not in [t.name for t in before.tools]
    assert "search_cache_probe_desks" in [t.name for t in after.tools]


def test_each_caller_gets_its_own_copy_of_the_derived_tools(sql_shop_image):
    first = derive_tools(sql_shop_image)
    pristine = [t.model_dump() for t in first.tools]
    first.tools[0].parameters["properties"].clear()
    first.tools[1].description = "edited by one session"
    first.tools.pop()
    first.dropped.append(("x", "y"))
    again = derive_tools(sql_shop_image)
    assert [t.model_dump() for t in again.tools] == pristine
    assert ("x", "y") not in again.dropped
