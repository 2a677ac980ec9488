"""Exports: each format checked by its consumer's own rules, and bad sessions skipped with a reason.

The checkers below mirror what the consumers enforce: OpenAI's fine-tuning data format check,
a TRL-style `apply_chat_template` render (a Qwen2.5-like Jinja tool template), LLaMA-Factory's
`SharegptDatasetConverter` + `FunctionFormatter`, and a ChatML/Hermes parser.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from _session_builders import simple_session, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from turnloom.core.cli import main
from turnloom.core.export import export_sessions
from turnloom.core.export.record_checks import STOP_TOKENS
from turnloom.core.models import ChatMessage, FinishReason, Session, ToolCall
from turnloom.core.storage import snapshot as store

# ---------------------------------------------------------------- consumers' checks


def openai_check(record: dict[str, Any]) -> None:
    """OpenAI chat fine-tuning format checks (as in OpenAI's data-validation recipe, with tools)."""
    assert set(record) <= {"messages", "tools", "parallel_tool_calls"}
    assert isinstance(record["tools"], list), "OpenAI takes tools as a list of objects"
    messages = record["messages"]
    assert isinstance(messages, list) and messages
    calls: dict[str, str] = {}
    for message in messages:
        assert "role" in message and "content" in message, "message_missing_key"
        assert set(message) <= {"role", "content", "name", "tool_calls", "tool_call_id", "weight"}
        assert message["role"] in ("system", "user", "assistant", "tool")
        content, tool_calls = message["content"], message.get("tool_calls")
        assert isinstance(content, (str, type(None))) and (content or tool_calls), "missing_content"
        if "weight" in message:
            assert message["role"] == "assistant" and message["weight"] in (0, 1)
        for call in tool_calls or []:
            assert call["type"] == "function" and isinstance(call["id"], str)
            assert isinstance(json.loads(call["function"]["arguments"]), dict)
            calls[call["id"]] = call["function"]["name"]
        if message["role"] == "tool":
            assert calls.pop(message["tool_call_id"])
    assert not calls
    assert any(m["role"] == "assistant" for m in messages), "example_missing_assistant_message"
    for tool in record["tools"]:
        assert tool["type"] == "function" and tool["function"]["name"]
        assert tool["function"]["parameters"]["type"] == "object"
    assert record["parallel_tool_calls"] == any(len(m.get("tool_calls") or []) > 1 for m in messages)


QWEN_LIKE_TEMPLATE = """\
{%- if tools %}<|im_start|>system
{% if messages[0].role == 'system' %}{{ messages[0].content }}{% endif %}
<tools>{% for tool in tools %}
{{ tool | tojson }}{% endfor %}
</tools><|im_end|>
{% elif messages[0].role == 'system' %}<|im_start|>system
{{ messages[0].content }}<|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == 'user' or (message.role == 'assistant' and not message.tool_calls) %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% elif message.role == 'assistant' %}<|im_start|>assistant
{% if message.content %}{{ message.content }}
{% endif %}{% for tc in message.tool_calls %}{% if tc.function.arguments is string %}{{ raise_exception('arguments must be a mapping') }}{% endif %}<tool_call>
{"name": "{{ tc.function.name }}", "arguments": {{ tc.function.arguments | tojson }}}
</tool_call>{% endfor %}<|im_end|>
{% elif message.role == 'tool' %}{% if loop.first or messages[loop.index0 - 1].role != 'tool' %}<|im_start|>user{% endif %}
<tool_response>
{{ message.content }}
</tool_response>{% if loop.last or messages[loop.index0 + 1].role != 'tool' %}<|im_end|>
{% endif %}{% elif message.role != 'system' %}{{ raise_exception('unknown role ' ~ message.role) }}
{%- endif %}
{%- endfor %}"""


def decoded_hf(record: dict[str, Any]) -> dict[str, Any]:
    """An hf record as a trainer hands it to `apply_chat_template`: JSON-string tools and arguments decoded."""
    tools = json.loads(record["tools"]) if isinstance(record["tools"], str) else record["tools"]
    messages = []
    for message in record["messages"]:
        message = dict(message)
        if "tool_calls" in message:
            message["tool_calls"] = [
                {**call, "function": {**call["function"], "arguments": _maybe_loads(call["function"]["arguments"])}}
                for call in message["tool_calls"]
            ]
        messages.append(message)
    return {"messages": messages, "tools": tools}


def _maybe_loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def hf_check(record: dict[str, Any]) -> str:
    """TRL-style checks plus a render through a Qwen-like chat template (as apply_chat_template does)."""
    assert set(record) == {"messages", "tools"}
    record = decoded_hf(record)
    names: dict[str, str] = {}
    for message in record["messages"]:
        assert message["role"] in ("system", "user", "assistant", "tool")
        assert isinstance(message["content"], str)
        for call in message.get("tool_calls", []):
            assert call["type"] == "function" and isinstance(call["function"]["arguments"], dict)
            names[call["id"]] = call["function"]["name"]
        if message["role"] == "tool":
            assert message["name"] == names[message["tool_call_id"]]

    def raise_exception(message: str) -> None:
        raise AssertionError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    env.globals["raise_exception"] = raise_exception
    rendered = env.from_string(QWEN_LIKE_TEMPLATE).render(messages=record["messages"], tools=record["tools"])
    for block in re.findall(r"<tool_call>\n(.*?)\n</tool_call>", rendered, re.S):
        assert isinstance(json.loads(block)["arguments"], dict)
    return rendered


def llamafactory_check(record: dict[str, Any]) -> None:
    """LLaMA-Factory's SharegptDatasetConverter (+ FunctionFormatter and tool parsing)."""
    odd_tags, even_tags = ("human", "observation"), ("gpt", "function_call")
    accept_tags = (odd_tags, even_tags)
    messages = record["conversations"]
    for turn_idx, message in enumerate(messages):
        assert message["from"] in accept_tags[turn_idx % 2], f"Invalid role tag in {messages}."
        if message["from"] == "function_call":
            calls = json.loads(message["value"])
            for call in calls if isinstance(calls, list) else [calls]:
                json.dumps(call["arguments"], ensure_ascii=False)
                assert isinstance(call["name"], str) and isinstance(call["arguments"], dict)
    assert len(messages) % 2 == 0, f"Invalid message count in {messages}."
    assert messages[-1]["from"] == "gpt"
    assert isinstance(record["system"], str)
    tools = json.loads(record["tools"])
    assert all({"name", "description", "parameters"} <= set(tool) for tool in tools)


def hermes_check(record: dict[str, Any]) -> list[tuple[str, str]]:
    """Parse the ChatML text back into turns and check the Hermes tool protocol."""
    assert set(record) == {"text"}
    turns = re.findall(r"<\|im_start\|>(\w+)\n(.*?)<\|im_end\|>", record["text"], re.S)
    rebuilt = "\n".join(f"<|im_start|>{role}\n{body}<|im_end|>" for role, body in turns)
    assert rebuilt == record["text"], "text outside ChatML turns"
    assert turns[0][0] == "system" and "<tools>" in turns[0][1]
    listed = re.search(r"<tools>\n(.*?)\n</tools>", turns[0][1], re.S)[1]
    assert all(json.loads(line)["type"] == "function" for line in listed.splitlines())
    open_calls = 0
    for role, body in turns[1:]:
        assert role in ("user", "assistant", "tool")
        calls = re.findall(r"<tool_call>\n(.*?)\n</tool_call>", body, re.S)
        responses = re.findall(r"<tool_response>\n(.*?)\n</tool_response>", body, re.S)
        if role == "tool":
            assert len(responses) == open_calls and responses
            open_calls = 0
        else:
            assert open_calls == 0 and not responses
            open_calls = len(calls)
        for call in calls:
            assert isinstance(json.loads(call)["arguments"], dict)
    assert turns[-1][0] == "assistant" and open_calls == 0
    return turns


CHECKS = {"openai": openai_check, "hf": hf_check, "sharegpt": llamafactory_check, "hermes": hermes_check}


def export_one(tmp_path: Path, session: Session, fmt: str, **kwargs: Any) -> tuple[list[dict[str, Any]], Any]:
    out = tmp_path / f"{fmt}.jsonl"
    report = export_sessions([session], fmt, out, env=kwargs.pop("env", {}), **kwargs)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()], report


# ---------------------------------------------------------------- every format


@pytest.mark.parametrize("fmt", list(CHECKS))
@pytest.mark.parametrize("parallel", [False, True])
def test_each_format_passes_its_consumers_checks(tmp_path: Path, fmt: str, parallel: bool) -> None:
    records, report = export_one(tmp_path, simple_session(parallel=parallel), fmt)
    assert (report.written, report.skipped) == (1, [])
    CHECKS[fmt](records[0])


safe_text = text.filter(lambda s: s.strip() and not any(t in s for t in STOP_TOKENS))


@st.composite
def chatty_sessions(draw: st.DrawFn) -> Session:
    """Valid sessions with awkward user, assistant and tool text."""
    session = simple_session(exchanges=draw(st.integers(1, 3)), parallel=draw(st.booleans()))
    messages = []
    for message in session.messages:
        if message.role != "system":
            message = message.model_copy(update={"content": draw(safe_text) if message.content else None})
        messages.append(message)
    return session.model_copy(update={"messages": messages})


@pytest.mark.parametrize("fmt", list(CHECKS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(session=chatty_sessions())
def test_awkward_text_either_exports_validly_or_is_skipped_with_a_reason(
    tmp_path: Path, fmt: str, session: Session
) -> None:
    records, report = export_one(tmp_path, session, fmt)
    assert report.written + len(report.skipped) == 1
    for record in records:
        CHECKS[fmt](record)
    for _, reason in report.skipped:
        assert reason


# ---------------------------------------------------------------- format decisions


def test_openai_keeps_arguments_as_strings_and_weight_from_meta(tmp_path: Path) -> None:
    session = simple_session()
    session.messages[-1].meta.weight = 0
    (record,), _ = export_one(tmp_path, session, "openai")
    assert record["messages"][-1]["weight"] == 0
    assert sum("weight" in m for m in record["messages"]) == 1
    assert json.loads(record["messages"][2]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris 0"}
    session.messages[-1].meta.weight = 0.5  # type: ignore[assignment]  (a hand-edited file)
    assert "weight must be 0 or 1" in export_one(tmp_path, session, "openai")[1].skipped[0][1]


def test_hf_renders_tool_calls_as_objects(tmp_path: Path) -> None:
    (record,), _ = export_one(tmp_path, simple_session(parallel=True), "hf")
    assert isinstance(record["tools"], str)  # the portable default: JSON strings
    assert record["messages"][2]["tool_calls"][1]["function"]["arguments"] == '{"city": "Oslo 0"}'
    rendered = hf_check(record)
    assert '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo 0"}}\n</tool_call>' in rendered
    assert record["messages"][3] == {
        "role": "tool",
        "content": '{"temp_c": 20, "sky": "clear"}',
        "tool_call_id": "c0_0",
        "name": "get_weather",
    }


def test_sharegpt_merges_and_drops_as_documented(tmp_path: Path) -> None:
    session = simple_session(parallel=True, exchanges=1)
    session.messages[2].content = "Let me look that up."  # text beside calls: dropped
    extra = ChatMessage(role="user", content="And tomorrow?")  # two user turns in a row: merged
    session = session.model_copy(update={"messages": session.messages[:2] + [extra] + session.messages[2:]})
    (record,), _ = export_one(tmp_path, session, "sharegpt")
    llamafactory_check(record)
    turns = record["conversations"]
    assert [t["from"] for t in turns] == ["human", "function_call", "observation", "gpt"]
    assert turns[0]["value"] == "What's the weather in city 0?\n\nAnd tomorrow?"
    assert json.loads(turns[1]["value"]) == [
        {"name": "get_weather", "arguments": {"city": "Paris 0"}},
        {"name": "get_weather", "arguments": {"city": "Oslo 0"}},
    ]
    assert (
        turns[2]["value"]
        == '{"temp_c": 20, "sky": "clear"}\n</tool_response>\n<tool_response>\n{"temp_c": 20, "sky": "clear"}'
    )
    assert record["system"] == "You are a helpful assistant."


def test_sharegpt_rejects_a_conversation_the_assistant_starts(tmp_path: Path) -> None:
    session = simple_session(system=None)
    greeting = ChatMessage(role="assistant", content="Hello! How can I help?")
    session = session.model_copy(update={"messages": [greeting] + session.messages})
    records, report = export_one(tmp_path, session, "sharegpt")
    assert records == [] and "LLaMA-Factory needs human or observation" in report.skipped[0][1]
    assert "message 0 is assistant, but user must come next" in export_one(tmp_path, session, "openai")[1].skipped[0][1]


def test_hermes_puts_tools_calls_and_responses_in_tags(tmp_path: Path) -> None:
    (record,), _ = export_one(tmp_path, simple_session(parallel=True, exchanges=1), "hermes")
    turns = hermes_check(record)
    assert [role for role, _ in turns] == ["system", "user", "assistant", "tool", "assistant"]
    assert turns[0][1].startswith("You are a helpful assistant.\n\n# Tools")
    assert turns[3][1].count("<tool_response>") == 2


def test_an_unfinished_tail_is_cut_after_the_last_reply(tmp_path: Path) -> None:
    session = simple_session(finish=None)
    session.messages.append(ChatMessage(role="user", content="One more thing"))
    (record,), _ = export_one(tmp_path, session, "openai")
    assert record["messages"][-1] == {"role": "assistant", "content": "It is 21 °C and clear."}


# ---------------------------------------------------------------- rejections


def _broken(kind: str) -> Session:
    session = simple_session()
    call_msg, reply = session.messages[2], session.messages[-1]
    if kind == "schema":
        call_msg.tool_calls[0] = ToolCall(id="c0_0", name="get_weather", arguments='{"city": 7}')
    elif kind == "unknown_tool":
        call_msg.tool_calls[0] = ToolCall(id="c0_0", name="launch", arguments="{}")
    elif kind == "stop_token":
        reply.content = "Done.<|im_end|>"
    elif kind == "reasoning":
        reply.content = "<think>they want Paris</think>It is sunny."
    elif kind == "api_key":
        # built at run time so no key-shaped literal sits in the source
        session.messages[1].content = "my key is sk-" + "abcdefghijklmnopqrstuvwx123"
    elif kind == "bearer":
        session.messages[3].content = "Authorization: Bearer abcdefghijklmnop12345"
    elif kind == "aws":
        reply.content = "use AKIAABCDEFGHIJKLMNOP"
    elif kind == "env":
        session.messages[3].content = "token=hunter2-secret-value"
    elif kind == "empty_result":
        session.messages[3].content = "   "
    elif kind == "unanswered":
        dangling = ChatMessage(
            role="assistant", tool_calls=[ToolCall(id="x", name="get_weather", arguments='{"city": "Rome"}')]
        )
        session = session.model_copy(update={"messages": session.messages[:5] + [dangling] + session.messages[5:]})
    return session


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("schema", "message 2 (assistant): arguments of 'get_weather' do not fit its schema at $.city"),
        ("unknown_tool", "calls unknown tool 'launch'"),
        ("stop_token", "contains the stop token <|im_end|>"),
        ("reasoning", "contains reasoning markup (<think>)"),
        ("api_key", "message 1 (user) contains what looks like an API key"),
        ("bearer", "contains what looks like a bearer token"),
        ("aws", "AWS access key id"),
        ("env", "contains the value of $SERVICE_TOKEN"),
        ("empty_result", "message 3 (tool) is empty"),
        ("unanswered", "'x' have no result"),
    ],
)
@pytest.mark.parametrize("fmt", list(CHECKS))
def test_a_bad_session_is_skipped_with_its_reason(tmp_path: Path, fmt: str, kind: str, reason: str) -> None:
    good = simple_session(session_id="good")
    bad = _broken(kind).model_copy(update={"id": "bad"})
    out = tmp_path / "out.jsonl"
    report = export_sessions([bad, good], fmt, out, env={"SERVICE_TOKEN": "hunter2-secret-value", "X_TOKEN": "1"})
    assert report.written == 1 and len(report.skipped) == 1
    session_id, why = report.skipped[0]
    assert session_id == "bad" and reason in why
    assert "hunter2" not in why and "sk-abc" not in why
    lines = out.read_text().splitlines()
    assert len(lines) == 1
    CHECKS[fmt](json.loads(lines[0]))


def test_only_finished_and_duplicates(tmp_path: Path) -> None:
    sessions = [
        simple_session(session_id="a"),
        simple_session(session_id="b", finish=FinishReason.MAX_MESSAGES),
        simple_session(session_id="a"),
    ]
    report = export_sessions(sessions, "openai", tmp_path / "o.jsonl", only_finished=True, env={})
    assert report.written == 1
    assert report.skipped == [
        ("b", "not finished by the user (max_messages)"),
        ("a", "duplicate session id; exported once already"),
    ]


def test_a_failed_export_write_keeps_the_old_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text("old\n")

    def fail(*args: object) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(Exception, match="I/O error"):
        export_sessions([simple_session()], "hf", out, env={})
    monkeypatch.undo()
    assert out.read_text() == "old\n" and os.listdir(tmp_path) == ["o.jsonl"]


# ---------------------------------------------------------------- command line


def test_cli_exports_a_folder_and_reports_skips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "sessions"
    (folder / "sub").mkdir(parents=True)
    store.save_session(simple_session(session_id="one"), folder / "one.session.json")
    store.save_session(simple_session(session_id="two"), folder / "sub" / "two.session.toml")
    store.save_session(_broken("reasoning").model_copy(update={"id": "three"}), folder / "three.session.json")
    (folder / "notes.json").write_text("{}")  # not a session file: ignored
    out = tmp_path / "train.jsonl"
    code = main(["export", str(folder), "--format", "sharegpt", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "wrote 2 record(s)" in printed and "skipped 1" in printed and "skipped three: " in printed
    for line in out.read_text().splitlines():
        llamafactory_check(json.loads(line))


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "train.jsonl"
    assert main(["export", str(tmp_path / "missing"), "--format", "hf", "--out", str(out)]) == 2
    corrupt = tmp_path / "bad.session.json"
    corrupt.write_text('{"schema_version": 1, "id": ')
    assert main(["export", str(corrupt), "--format", "hf", "--out", str(out)]) == 2
    assert "file ends early" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit) as exc:
        main(["export", str(corrupt), "--format", "csv", "--out", str(out)])
    assert exc.value.code == 2
