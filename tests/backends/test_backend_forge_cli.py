"""`turnloom forge`, `run --tools` and the forge role at session creation, on the fake server."""

from __future__ import annotations

import json

import jsonschema
import pytest
from backend_support import KEY_VALUE, write_config

from turnloom.core.batch.manifest import load_manifest
from turnloom.core.cli import main
from turnloom.core.endpoint.exchange_log import exchange_log_path
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.models import ToolOrigin
from turnloom.core.storage.snapshot import load_session
from turnloom.core.tools.toolset import Toolset, load_toolset

FORGE_ROLES = ("forge_questions", "forge_tools", "forge_expansion", "forge_schemas", "forge_sql")


@pytest.fixture
def workdir(fake, key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, fake)
    return tmp_path


def forge_requests(fake) -> dict[str, int]:
    return {role: len(fake.requests_of(role)) for role in FORGE_ROLES if fake.requests_of(role)}


def test_forge_in_sql_execution_keeps_the_introspected_tools_and_the_generated_ones_that_run(fake, workdir, capsys):
    out = workdir / "tools" / "retail.json"
    assert main(["forge", "--domain", "retail", "--profile", "fake", "--out", str(out)]) == 0
    toolset = load_toolset(out)
    data = json.loads(out.read_text())
    jsonschema.validate(data, Toolset.model_json_schema())
    assert data["format"] == "turnloom-toolset" and data["format_version"] == 1
    derived = create_session(domain="retail").tools
    assert toolset.tools[: len(derived)] == derived
    generated = toolset.tools[len(derived) :]
    assert generated and all(t.origin is ToolOrigin.GENERATED and t.sql for t in generated)
    assert "get_customers_row_by_id" in {t.name for t in generated}
    assert [(d.name, d.stage) for d in toolset.dropped] == [("get_broken_report", "sql_tools")]
    assert "no such column" in toolset.dropped[0].reason
    assert (toolset.domain, toolset.execution, toolset.forge, toolset.model) == ("retail", "sql", "fake", "fake-model")
    assert toolset.requests == 1 and toolset.usage.prompt_tokens > 0
    assert forge_requests(fake) == {"forge_sql": 1}
    printed = capsys.readouterr().out
    assert f"kept {len(toolset.tools)} tools" in printed and "get_broken_report" in printed and "tokens" in printed
    assert exchange_log_path(out).exists()


def test_forge_in_simulated_execution_runs_questions_tools_expansion_and_output_schemas(fake, workdir, capsys):
    out = workdir / "sim.json"
    assert (
        main(
            [
                "forge",
                "--domain",
                "retail",
                "--execution",
                "simulated",
                "--role",
                "forge=fake",
                "--questions",
                "4",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    toolset = load_toolset(out)
    assert [t.name for t in toolset.tools] == ["search_records", "get_record_by_id", "update_record_status"]
    assert all(t.output_schema and t.origin is ToolOrigin.GENERATED and t.sql is None for t in toolset.tools)
    assert len(toolset.questions) == 4 and toolset.execution == "simulated"
    assert forge_requests(fake) == {"forge_questions": 1, "forge_tools": 4, "forge_expansion": 1, "forge_schemas": 3}
    assert toolset.requests == 9
    # the output schemas were predicted in one conversation that grew by a turn per tool
    schema_calls = [r.body["messages"] for r in fake.requests_of("forge_schemas")]
    assert all(later[: len(earlier)] == earlier for earlier, later in zip(schema_calls, schema_calls[1:]))


def test_a_generated_sql_tool_that_fails_is_dropped_with_its_reason(fake, workdir, capsys):
    tools = [
        {
            "name": "get_cheapest_products",
            "description": "The cheapest products.",
            "sql": "SELECT sku, name, price FROM products ORDER BY price LIMIT :limit",
        },
        {
            "name": "create_customer_record",
            "description": "A new customer.",
            "sql": "INSERT INTO customers (name, email, city) VALUES (:name, :email, :city)",
        },
        {
            "name": "create_customer_without_email",
            "description": "Broken: email is NOT NULL.",
            "sql": "INSERT INTO customers (name, city) VALUES (:name, :city)",
        },
        {
            "name": "get_orders_by_warehouse",
            "description": "No such column.",
            "sql": "SELECT * FROM orders WHERE warehouse = :warehouse",
        },
        {"name": "delete_everything", "description": "A schema change.", "sql": "DROP TABLE order_items"},
        {"name": "addCustomer", "description": "Bad name.", "sql": "SELECT 1"},
    ]
    fake.push({"reply": {"content": json.dumps({"tools": tools})}}, role="forge_sql")
    out = workdir / "t.json"
    assert main(["forge", "--domain", "retail", "--profile", "fake", "--out", str(out)]) == 0
    toolset = load_toolset(out)
    generated = [t.name for t in toolset.tools if t.origin is ToolOrigin.GENERATED]
    # a write that only collides with an existing row (UNIQUE email) is sound SQL and is kept
    assert generated == ["get_cheapest_products", "create_customer_record"]
    reasons = {d.name: d.reason for d in toolset.dropped}
    assert "NOT NULL constraint failed: customers.email" in reasons["create_customer_without_email"]
    assert "no such column: warehouse" in reasons["get_orders_by_warehouse"]
    assert "not allowed" in reasons["delete_everything"]
    assert "snake_case" in reasons["addCustomer"]
    printed = capsys.readouterr().out
    assert "dropped 4:" in printed and "create_customer_without_email [sql_tools]: " in printed


def test_run_with_tools_uses_the_toolset_end_to_end(fake, workdir, capsys):
    out = workdir / "sim.json"
    assert (
        main(
            [
                "forge",
                "--domain",
                "retail",
                "--execution",
                "simulated",
                "--profile",
                "fake",
                "--questions",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    before = forge_requests(fake)
    session_file = workdir / "d.session.json"
    # the toolset says retail and simulated: neither needs repeating
    assert (
        main(
            [
                "run",
                "--tools",
                str(out),
                "--profile",
                "fake",
                "--seed",
                "3",
                "--tasks",
                "2",
                "--quiet",
                "--out",
                str(session_file),
            ]
        )
        == 0
    )
    assert "user_done" in capsys.readouterr().out
    assert forge_requests(fake) == before  # the toolset replaces the forge
    session = load_session(session_file)
    assert session.domain == "retail" and session.config.execution == "simulated"
    assert session.tools == load_toolset(out).tools
    called = {c.name for m in session.messages for c in m.tool_calls}
    assert called and called <= {t.name for t in session.tools}


def test_run_with_an_sql_toolset_runs_its_generated_tools_on_the_database(fake, workdir, capsys):
    out = workdir / "sql.json"
    assert main(["forge", "--domain", "retail", "--profile", "fake", "--out", str(out)]) == 0
    session_file = workdir / "d.session.json"
    assert main(["run", "--tools", str(out), "--quiet", "--seed", "1", "--out", str(session_file)]) == 0
    session = load_session(session_file)
    assert session.tools == load_toolset(out).tools and session.config.execution == "sql"
    assert main(["replay", str(session_file), "--verify"]) == 0
    assert "all match" in capsys.readouterr().out


def test_run_with_the_forge_role_forges_the_session_tools_first(fake, workdir, capsys):
    sql_file, sim_file = workdir / "a.session.json", workdir / "b.session.json"
    assert main(["run", "--role", "forge=fake", "--seed", "2", "--out", str(sql_file)]) == 0
    assert "# forge on fake:" in capsys.readouterr().out
    assert forge_requests(fake) == {"forge_sql": 1}
    session = load_session(sql_file)
    derived = create_session(domain="retail").tools
    assert session.tools[: len(derived)] == derived
    assert any(t.origin is ToolOrigin.GENERATED for t in session.tools)
    assert session.finish_reason == "user_done"  # the offline players keep to the derived tools
    assert (
        main(
            [
                "run",
                "--profile",
                "fake",
                "--execution",
                "simulated",
                "--seed",
                "2",
                "--tasks",
                "1",
                "--quiet",
                "--out",
                str(sim_file),
            ]
        )
        == 0
    )
    session = load_session(sim_file)
    assert session.tools and all(t.origin is ToolOrigin.GENERATED and t.output_schema for t in session.tools)


def test_a_rerun_with_the_cache_replays_the_forge_at_zero_requests(fake, workdir):
    first, second = workdir / "a.session.json", workdir / "b.session.json"
    assert (
        main(
            [
                "run",
                "--profile",
                "fake",
                "--execution",
                "simulated",
                "--seed",
                "4",
                "--tasks",
                "1",
                "--quiet",
                "--out",
                str(first),
            ]
        )
        == 0
    )
    sent = len(fake.requests)
    assert (
        main(
            [
                "run",
                "--profile",
                "fake",
                "--execution",
                "simulated",
                "--seed",
                "4",
                "--tasks",
                "1",
                "--quiet",
                "--out",
                str(second),
                "--cache",
                str(exchange_log_path(first)),
            ]
        )
        == 0
    )
    assert len(fake.requests) == sent
    assert load_session(first).tools == load_session(second).tools


def test_generate_forges_once_and_reuses_the_toolset_when_the_batch_resumes(fake, workdir, capsys):
    folder = workdir / "batch"
    args = ["generate", "--role", "forge=fake", "--tasks", "1", "--workers", "1", "--quiet", "--out", str(folder)]
    assert main([*args, "--n", "2"]) == 0
    toolset_file = folder / "toolset.json"
    assert load_toolset(toolset_file).forge == "fake"
    assert forge_requests(fake) == {"forge_sql": 1}
    assert main([*args, "--n", "3"]) == 0
    assert forge_requests(fake) == {"forge_sql": 1}
    manifest = load_manifest(folder)
    assert manifest.config.tools == str(toolset_file.resolve()) and manifest.config.tools_sha256
    tools = load_toolset(toolset_file).tools
    assert all(load_session(folder / entry.file).tools == tools for entry in manifest.dialogues)


def test_no_key_reaches_the_toolset_files_or_the_output(fake, workdir, capsys):
    assert main(["forge", "--domain", "retail", "--profile", "fake", "--out", str(workdir / "sql.json")]) == 0
    assert (
        main(
            [
                "forge",
                "--domain",
                "retail",
                "--execution",
                "simulated",
                "--profile",
                "fake",
                "--questions",
                "2",
                "--out",
                str(workdir / "sim.json"),
            ]
        )
        == 0
    )
    assert all(r.headers["authorization"] == f"Bearer {KEY_VALUE}" for r in fake.requests)
    written = [p for p in workdir.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"sql.json", "sql.llm.jsonl", "sim.json", "sim.llm.jsonl"}
    for path in written:
        assert KEY_VALUE.encode() not in path.read_bytes(), path
    captured = capsys.readouterr()
    assert KEY_VALUE not in captured.out + captured.err


def test_generate_notes_a_profile_that_allows_fewer_requests_in_flight_than_concurrency(fake, workdir, capsys):
    args = ["generate", "--profile", "fake", "--n", "1", "--tasks", "1", "--quiet"]
    assert main([*args, "--concurrency", "17", "--out", str(workdir / "a")]) == 0
    err = capsys.readouterr().err
    assert "profile 'fake' allows 16 requests in flight" in err and "turnloom.toml" in err and "--concurrency 17" in err
    assert main([*args, "--concurrency", "16", "--out", str(workdir / "b")]) == 0
    assert "note" not in capsys.readouterr().err
