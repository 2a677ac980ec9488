"""Hostile model text on the fake server: lone surrogates, terminal escapes, bidi overrides and NaN arguments
are made safe where they enter, so `run` finishes, its files read back, and exports are strict JSON."""

from __future__ import annotations

import json
from pathlib import Path

from backend_support import write_config

from turnloom.core.cli import main
from turnloom.core.endpoint.exchange import ChatResult, ReplyToolCall, extract_json
from turnloom.core.storage.journal import journal_path, open_session

HOSTILE = "Done\ud800 \x1b]0;pwned\x07\x1b[2J and \u202eevil"


def strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


def test_model_text_is_made_safe_once_where_it_enters():
    result = ChatResult(
        content=HOSTILE,
        reasoning="\ud83d think",
        tool_calls=[ReplyToolCall("c1", "get\x1b", '{"name": "\\ud800x", "pair": "\\ud83d\\ude00"}')],
    )
    assert "\x1b" not in result.content and "\u202e" not in result.content
    assert result.content.encode("utf-8")  # no lone surrogate left
    assert result.reasoning == "\ufffd think"
    assert result.tool_calls[0].name == "get\ufffd"
    assert json.loads(result.tool_calls[0].arguments) == {"name": "\ufffdx", "pair": "\U0001f600"}


def test_a_structured_reply_is_strict_json_with_safe_strings():
    assert extract_json('{"user_message": "hi \\u001b[2J\\ud800"}') == {"user_message": "hi \ufffd[2J\ufffd"}
    for bad in ('{"x": NaN}', '{"x": Infinity}', '{"x": 1e999}'):
        try:
            value = extract_json(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted as {value!r}")


def test_run_survives_hostile_text_and_nan_arguments_and_its_files_read_back(fake, key, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, fake)
    user_turn = json.dumps({"user_message": "Show me order 1 \ud800 \u202e", "is_task_complete": False})
    fake.push({"reply": {"content": user_turn}}, role="user")
    nan_call = {"name": "get_order_by_id", "arguments": '{"id": NaN}'}
    fake.push({"reply": {"content": "", "tool_calls": [nan_call]}}, role="assistant")
    fake.push({"reply": {"content": HOSTILE}}, role="assistant")
    out = tmp_path / "out" / "h.session.json"
    code = main(["run", "--profile", "fake", "--seed", "3", "--tasks", "1", "--quiet", "--out", str(out)])
    assert code == 0, capsys.readouterr()
    session, warnings = open_session(out)
    assert not journal_path(out).exists() or not warnings
    texts = [m.text for m in session.messages] + [c.arguments for m in session.messages for c in m.tool_calls]
    assert all("\x1b" not in t and "\u202e" not in t for t in texts)
    for message in session.messages:
        for call in message.tool_calls:
            strict(call.arguments)  # the NaN call was asked again, never committed
    exported = tmp_path / "out" / "h.jsonl"
    for fmt in ("openai", "hf", "sharegpt", "hermes"):
        assert main(["export", str(out), "--format", fmt, "--out", str(exported), "--force"]) in (0, None)
        for line in exported.read_text(encoding="utf-8").splitlines():
            strict(line)
    for command in (["replay", str(out)], ["fork", str(out), "--at", "2", "--out", str(tmp_path / "f.session.json")]):
        assert main(command) in (0, None), command


def test_a_session_file_holding_a_lone_surrogate_is_read_and_written_again(tmp_path: Path):
    from turnloom.core.lifecycle.dialogue import create_session
    from turnloom.core.storage.snapshot import load_session, save_session

    session = create_session(domain="retail", seed=1, tasks=1)
    save_session(session, tmp_path / "s.session.json")
    data = json.loads((tmp_path / "s.session.json").read_text())
    data["title"] = "\ud800 title"
    data["messages"] = [{"role": "user", "content": "hi \ud800"}]
    (tmp_path / "bad.session.json").write_text(json.dumps(data), encoding="utf-8")  # ensure_ascii: "\\ud800"
    loaded = load_session(tmp_path / "bad.session.json")
    assert loaded.title == "\ufffd title" and loaded.messages[0].content == "hi \ufffd"
    save_session(loaded, tmp_path / "again.session.json")
    save_session(loaded, tmp_path / "again.session.toml")
    assert load_session(tmp_path / "again.session.toml") == loaded
