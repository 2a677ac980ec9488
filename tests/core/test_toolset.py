"""Toolset files offline: `turnloom forge` without a profile, `run/generate --tools`, and bad files."""

from __future__ import annotations

import hashlib
import json

import pytest

from turnloom.core.batch.manifest import BatchConfig, load_manifest
from turnloom.core.cli import main
from turnloom.core.errors import ToolsetError
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.models import ToolExecution, ToolSpec
from turnloom.core.storage.snapshot import load_session
from turnloom.core.tools.toolset import Toolset, check_tools, load_toolset, save_toolset


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TURNLOOM_CONFIG", raising=False)


def forged(tmp_path, *args: str, name: str = "tools.json"):
    out = tmp_path / name
    assert main(["forge", *args, "--quiet", "--out", str(out)]) == 0
    return out


def edited(path, change, name: str = "edited.json"):
    data = json.loads(path.read_text())
    change(data)
    target = path.with_name(name)
    target.write_text(json.dumps(data))
    return target


def canonical(path):
    data = json.loads(path.read_text())
    data.pop("id"), data.pop("created_at")
    for message in data["messages"]:
        message["meta"].pop("latency_ms", None)
    return data


def test_forge_offline_writes_the_introspected_toolset(tmp_path, capsys):
    out = tmp_path / "airline.json"
    assert main(["forge", "--domain", "airline", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    toolset = load_toolset(out)
    assert toolset.tools == create_session(domain="airline").tools
    assert (toolset.domain, toolset.db, toolset.execution, toolset.forge) == ("airline", None, "sql", "offline")
    assert toolset.requests == 0 and toolset.usage.total == 0 and toolset.model is None
    assert f"kept {len(toolset.tools)} tools ({len(toolset.tools)} derived)" in printed and "offline" in printed
    again = forged(tmp_path, "--domain", "airline", name="again.json")
    assert again.read_bytes() == out.read_bytes()  # offline forging is deterministic


def test_forge_offline_for_simulated_execution_and_a_database_file(tmp_path, sql_shop_path):
    out = forged(tmp_path, "--db", str(sql_shop_path), "--execution", "simulated")
    toolset = load_toolset(out)
    assert toolset.execution == "simulated" and toolset.db == str(sql_shop_path.resolve()) and toolset.domain == "shop"
    assert all(t.output_schema for t in toolset.tools)
    # the toolset's database and execution are the run's defaults
    session_file = tmp_path / "d.session.json"
    assert main(["run", "--tools", str(out), "--quiet", "--out", str(session_file)]) == 0
    session = load_session(session_file)
    assert session.db_path == toolset.db and session.config.execution == "simulated"


def test_run_with_an_introspected_toolset_makes_the_dialogue_run_makes_without_it(tmp_path):
    tools = forged(tmp_path, "--domain", "telecom")
    with_tools, without = tmp_path / "a.session.json", tmp_path / "b.session.json"
    assert main(["run", "--quiet", "--tools", str(tools), "--seed", "5", "--out", str(with_tools)]) == 0
    assert main(["run", "--quiet", "--domain", "telecom", "--seed", "5", "--out", str(without)]) == 0
    assert canonical(with_tools) == canonical(without)


def test_a_truncated_toolset_file_is_refused_naming_the_file(tmp_path, capsys):
    tools = forged(tmp_path, "--domain", "retail")
    cut = tmp_path / "cut.json"
    cut.write_bytes(tools.read_bytes()[:5000])
    assert main(["run", "--tools", str(cut), "--quiet", "--out", str(tmp_path / "x.session.json")]) == 2
    err = capsys.readouterr().err
    assert f"--tools {cut}" in err and "not valid JSON at line" in err and "truncated" in err
    assert not list(tmp_path.glob("x.*"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"tools": []}', "not a turnloom toolset file"),
        ("[1, 2]", "not a turnloom toolset file"),
        (
            '{"format": "turnloom-toolset", "format_version": 9, "domain": "retail", "tools": []}',
            "newer than this turnloom",
        ),
        (
            '{"format": "turnloom-toolset", "domain": "retail", "tools": [{"name": "get_x", "description": "x", '
            '"parameters": 5}]}',
            "tools[0] (get_x).parameters: Input should be a valid dictionary",
        ),
        ('{"format": "turnloom-toolset", "domain": "retail", "tools": [], "colour": "red"}', "colour: Extra inputs"),
    ],
)
def test_a_file_that_is_not_a_usable_toolset_gets_a_clear_message(tmp_path, capsys, content, expected):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["run", "--tools", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--tools {bad}" in err and expected in err


def test_a_missing_toolset_file_says_how_to_make_one(tmp_path, capsys):
    assert main(["run", "--tools", "nope.json", "--quiet"]) == 2
    assert "no such file; write one with `turnloom forge" in capsys.readouterr().err


def test_a_tool_without_sql_cannot_run_in_sql_execution(tmp_path, capsys):
    tools = forged(tmp_path, "--domain", "retail")

    def add_sql_less_tool(data):
        data["tools"].append(
            {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                "origin": "generated",
            }
        )

    mixed = edited(tools, add_sql_less_tool)
    assert main(["run", "--tools", str(mixed), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "have no SQL, so they cannot run in sql execution: get_weather" in err and "--execution simulated" in err
    out = tmp_path / "sim.session.json"
    assert main(["run", "--tools", str(mixed), "--execution", "simulated", "--quiet", "--out", str(out)]) == 0
    assert load_session(out).tool("get_weather") is not None


def test_tools_with_a_bad_schema_or_sql_that_fails_are_refused_by_name(tmp_path, capsys):
    tools = forged(tmp_path, "--domain", "retail")

    def break_schema(data):
        data["tools"][2]["parameters"]["properties"]["name"]["type"] = "text"

    def break_sql(data):
        data["tools"][0]["sql"] = data["tools"][0]["sql"].replace("FROM", ", shoe_size FROM")

    name = json.loads(tools.read_text())["tools"][2]["name"]
    assert main(["run", "--tools", str(edited(tools, break_schema)), "--quiet"]) == 2
    assert f"{name}: its parameters are not a valid JSON Schema" in capsys.readouterr().err
    assert main(["run", "--tools", str(edited(tools, break_sql)), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "get_customer_by_id: it failed on a scratch copy" in err and "no such column: shoe_size" in err


def test_a_toolset_forged_for_another_domain_is_checked_against_the_one_asked_for(tmp_path, capsys):
    tools = forged(tmp_path, "--domain", "retail")
    assert main(["run", "--tools", str(tools), "--domain", "airline", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "was forged for retail" in err and "no such table: customers" in err


def test_duplicate_names_are_refused():
    spec = ToolSpec(name="get_x", description="x", sql="SELECT 1")
    with pytest.raises(ToolsetError, match="get_x: another tool already has this name"):
        check_tools([spec, spec], b"", ToolExecution.SIMULATED)


def test_forge_input_errors_exit_2_naming_the_flag(tmp_path, capsys):
    assert main(["forge", "--domain", "retail", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["forge", "--domain", "nowhere", "--out", "t.json"]) == 2
    assert "unknown domain 'nowhere'" in capsys.readouterr().err
    assert main(["forge", "--domain", "retail", "--out", "t.json", "--role", "user=x"]) == 2
    assert "plays only the forge role" in capsys.readouterr().err
    assert main(["forge", "--domain", "retail", "--out", "t.json", "--profile", "missing"]) == 2
    assert "profile 'missing'" in capsys.readouterr().err
    assert main(["forge", "--domain", "retail", "--out", "t.json", "--cache", "x.llm.jsonl"]) == 2
    assert "--cache needs the forge role on a profile" in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists()
    with pytest.raises(SystemExit) as exit_info:
        main(["forge", "--out", "t.json"])
    assert exit_info.value.code == 2


def test_run_tools_and_from_do_not_mix(tmp_path, capsys):
    tools = forged(tmp_path, "--domain", "retail")
    assert main(["run", "--from", "x.session.json", "--tools", str(tools)]) == 2
    assert "--tools starts a new dialogue" in capsys.readouterr().err


def test_generate_with_tools_pins_the_toolset_and_refuses_another_on_resume(tmp_path, capsys):
    tools = forged(tmp_path, "--domain", "clinic")
    folder = tmp_path / "batch"
    args = ["generate", "--n", "2", "--tasks", "1", "--workers", "1", "--quiet", "--out", str(folder)]
    assert main([*args, "--tools", str(tools)]) == 0
    config = load_manifest(folder).config
    assert config.domain == "clinic" and config.tools == str(tools.resolve())
    assert config.tools_sha256 == hashlib.sha256(tools.read_bytes()).hexdigest()
    other = edited(tools, lambda data: data["tools"].pop(), name="fewer.json")
    capsys.readouterr()
    assert main([*args, "--tools", str(other)]) == 2
    err = capsys.readouterr().err
    assert "different config" in err and "tools_sha256" in err
    tools.write_text(other.read_text())  # the same path with other content is refused too
    assert main([*args, "--tools", str(tools)]) == 2
    assert "tools_sha256" in capsys.readouterr().err


def test_a_batch_config_without_a_toolset_keeps_the_hash_it_had_before_toolsets():
    config = BatchConfig(domain="retail", tasks=2)
    data = config.model_dump(mode="json")
    del data["tools"], data["tools_sha256"]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert config.hash() == hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_a_toolset_round_trips_through_its_file(tmp_path):
    session = create_session(domain="football")
    toolset = Toolset(domain="football", tools=session.tools, questions=["Who scored most?"])
    save_toolset(tmp_path / "t.json", toolset)
    loaded = load_toolset(tmp_path / "t.json")
    assert loaded.tools == toolset.tools and loaded.questions == toolset.questions
    assert loaded.source == str(tmp_path / "t.json")
    assert "source" not in json.loads((tmp_path / "t.json").read_text())
