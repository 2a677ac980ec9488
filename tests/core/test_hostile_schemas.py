"""Schemas and templates from files: `$ref` resolved offline only (never fetched, loops refused) and
rule prompts that cannot ask for hundreds of megabytes."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from turnloom.core.cli import main
from turnloom.core.errors import SessionFileError
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.models import Rule, ToolSpec
from turnloom.core.rules.rule_files import read_rule
from turnloom.core.storage.snapshot import load_session, save_session
from turnloom.core.tools.sqlenv import validate_arguments
from turnloom.core.tools.toolset import schema_problems
from turnloom.core.untrusted import SchemaRefError, check_schema_refs, offline_validator, template_problem


@pytest.fixture
def schema_server():
    """A real HTTP server that counts the requests it gets (a fetched `$ref` would be one)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            body = json.dumps({"type": "integer"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def remote(url: str) -> dict:
    return {"type": "object", "properties": {"x": {"$ref": f"{url}/int.json"}}}


LOOPS = {
    "two-step": {
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/a"}},
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
    },
    "root-through-allOf": {"type": "object", "allOf": [{"$ref": "#"}]},
    "through-not": {"type": "object", "$defs": {"a": {"not": {"$ref": "#/$defs/a"}}}, "$ref": "#/$defs/a"},
}


def spec_with(parameters: dict) -> ToolSpec:
    return ToolSpec(name="t", description="d", parameters=parameters, sql="SELECT :x AS x", returns="one")


def test_a_remote_ref_is_refused_by_name_and_never_fetched(schema_server):
    url, hits = schema_server
    spec = spec_with(remote(url))
    assert any("never fetches schemas" in p for p in schema_problems(spec))
    answer = validate_arguments(spec, {"x": 1})
    assert answer is not None and "never fetches schemas" in answer
    with pytest.raises(SchemaRefError, match="points outside the file"):
        offline_validator(remote(url))
    assert hits == []


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_a_ref_loop_is_refused_not_a_recursion_error(name):
    spec = spec_with(LOOPS[name])
    assert any("$ref loop" in p for p in schema_problems(spec))
    answer = validate_arguments(spec, {"x": 1})
    assert answer is not None and "$ref loop" in answer


@pytest.mark.parametrize(
    "schema",
    [
        {
            "type": "object",
            "properties": {"child": {"$ref": "#"}, "x": {"type": "integer"}},
        },  # a tree: each step enters the data
        {"type": "object", "properties": {"x": {"$ref": "#/$defs/n"}}, "$defs": {"n": {"type": "integer"}}},
        {
            "$id": "https://example.com/s",
            "type": "object",
            "properties": {"x": {"$ref": "https://example.com/s#/$defs/n"}},
            "$defs": {"n": {"type": "integer"}},
        },
    ],
)
def test_local_and_recursive_refs_still_work(schema):
    check_schema_refs(schema)
    validator = offline_validator(schema)
    assert not list(validator.iter_errors({"x": 1, "child": {"child": {}}}))
    assert list(validator.iter_errors({"x": "no", "child": {"x": "no"}}))


def test_a_dangling_ref_is_named():
    with pytest.raises(SchemaRefError, match="points to nothing"):
        check_schema_refs({"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}})


@pytest.mark.parametrize("command", ["replay", "export", "stats", "fork", "run --from"])
def test_a_session_file_with_a_remote_ref_is_a_named_error_for_every_command(
    tmp_path, monkeypatch, capsys, schema_server, command
):
    url, hits = schema_server
    monkeypatch.chdir(tmp_path)
    session = create_session(domain="retail", seed=1, tasks=1)
    session.tools[0].parameters = remote(url)
    path = tmp_path / "s.session.json"
    save_session(session, path)
    argv = {
        "replay": ["replay", str(path)],
        "export": ["export", str(path), "--format", "openai", "--out", "o.jsonl"],
        "stats": ["stats", str(path)],
        "fork": ["fork", str(path), "--at", "0", "--out", "f.session.json"],
        "run --from": ["run", "--quiet", "--from", str(path)],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "s.session.json" in err and "tools[0]" in err and "never fetches schemas" in err
    assert hits == []


# -- rule prompt templates ------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    ["Keep it under {max_words:>400000000} words.", "{max_words:.99999999}", "{max_words:>{max_words}}"],
)
def test_a_rule_prompt_asking_for_an_absurd_width_is_refused_by_rules_check_and_at_load(tmp_path, capsys, prompt):
    text = f'id = "wide"\ntitle = "Wide"\nkind = "terse"\nprompt = "{prompt}"\n[params]\nmax_words = 12\n'
    path = tmp_path / "wide.toml"
    path.write_text(text)
    read = read_rule(path)
    assert read.rule is None and any(p.key == "prompt" and p.line == 4 for p in read.problems)
    assert main(["rules", "check", str(path)]) != 0
    captured = capsys.readouterr()
    assert "wide.toml:4" in captured.out + captured.err
    session = create_session(domain="retail", seed=1, tasks=1)
    session.config.rules.append(Rule(id="wide", title="Wide", prompt=prompt, params={"max_words": 12}))
    saved = tmp_path / "w.session.json"
    save_session(session, saved)
    with pytest.raises(SessionFileError, match=r"config\.rules\[\d+\] \(wide\)\.prompt"):
        load_session(saved)


def test_ordinary_format_specs_pass():
    assert template_problem("about {chance:.0%} of the time, at most {n:>3} words, {forbidden!r}") is None
    assert template_problem("unbalanced { brace") is None  # reported by the placeholder check instead
