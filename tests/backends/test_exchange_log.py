"""The exchange log: linear in the dialogue's length, read back byte for byte, replaced by a new run."""

from __future__ import annotations

import json

from backend_support import write_config

from turnloom.core.cli import main
from turnloom.core.endpoint.exchange import (
    KEY_PREFIX,
    ChatRequest,
    EncodedRequest,
    canonical_json,
    legacy_request_key,
    request_key,
)
from turnloom.core.endpoint.exchange_log import ExchangeCache, ExchangeLog, exchange_log_path, read_exchanges
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.players.setup import BackendSetup


def _run(config, log, tasks: int, seed: int = 3) -> int:
    import asyncio

    session = create_session(domain="retail", seed=seed, tasks=tasks, max_messages=400)
    session.config.roles = {"task": "fake", "user": "fake", "assistant": "fake"}
    setup = BackendSetup(config=config, log=ExchangeLog(log))

    async def go() -> None:
        await open_engine(session, backends=setup).run()
        await setup.aclose()

    asyncio.run(go())
    return len(session.messages)


def test_the_log_grows_with_the_dialogue_not_its_square_and_reads_back_as_sent(fake, config, tmp_path):
    short, long = tmp_path / "short.llm.jsonl", tmp_path / "long.llm.jsonl"
    few = _run(config, short, tasks=2)
    fake.requests.clear()
    many = _run(config, long, tasks=8)
    assert many >= 3 * few
    per_message_short = short.stat().st_size / few
    per_message_long = long.stat().st_size / many
    # whole requests on every line made the long dialogue's bytes per message about 3x the short one's
    assert per_message_long < 1.3 * per_message_short
    records = list(read_exchanges(long))
    assert len(records) == len(fake.requests)
    for record, sent in zip(records, fake.requests, strict=True):
        request = record["request"]
        assert request_key(request) == record["key"]
        assert request["messages"] == sent.body["messages"]
        assert request["tools"] == sent.body.get("tools")
    assert sum(1 for r in records if r["role"] == "assistant") > 10


def _encoded(messages: list[dict], tools: list[dict] | None = None) -> EncodedRequest:
    return EncodedRequest.of(ChatRequest("assistant", messages, tools=tools, seed=1), "m", 0.5, None)


def test_an_edited_or_forked_prompt_shares_only_what_is_the_same_and_reads_back_exactly(tmp_path):
    path = tmp_path / "x.llm.jsonl"
    log = ExchangeLog(path)
    tools = [{"type": "function", "function": {"name": "t", "parameters": {"type": "object"}}}]
    system = {"role": "system", "content": "You help. " * 50}
    first = [system, {"role": "user", "content": "find order 7"}]
    grown = [*first, {"role": "assistant", "content": 'Order 7 is "pending", },{ shipped soon'}]
    edited = [*first, {"role": "assistant", "content": "Order 7 is cancelled"}, {"role": "user", "content": "ok"}]
    other = [system, {"role": "user", "content": "a different dialogue"}]
    requests = [first, grown, edited, other, [*other, {"role": "assistant", "content": "é ünïcode \u2028 ok"}]]
    for messages in requests:
        encoded = _encoded(messages, tools)
        log.record({"key": encoded.key, "role": "assistant", "response": {"content": "x"}}, request=encoded)
    log.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]
    assert "after" not in lines[0]["request"]["messages"] and "text" in lines[0]["request"]["tools"]
    assert lines[1]["request"]["messages"]["after"] == lines[0]["request"]["id"]
    assert lines[2]["request"]["messages"]["after"] == lines[1]["request"]["id"]  # shares first, not grown's reply
    assert "after" not in lines[3]["request"]["messages"]  # another dialogue: its own thread
    assert all(line["request"]["tools"] == {"as": lines[0]["request"]["id"]} for line in lines[1:])
    back = list(read_exchanges(path))
    assert [r["request"]["messages"] for r in back] == requests
    assert all(r["request"]["tools"] == tools and r["request"]["model"] == "m" for r in back)
    assert [r["key"] for r in back] == [request_key(r["request"]) for r in back]
    assert canonical_json(back[2]["request"]) == _encoded(edited, tools).logical


def test_a_log_of_whole_requests_still_reads_and_answers_from_the_cache(tmp_path):
    path = tmp_path / "old.llm.jsonl"
    logical = _encoded([{"role": "user", "content": "hi"}]).logical
    entry = {"key": request_key(json.loads(logical)), "role": "user", "response": {"content": "hello"}}
    path.write_text(json.dumps(entry)[:-1] + ', "request": ' + logical + "}\n", encoding="utf-8")
    (record,) = read_exchanges(path)
    assert record["request"] == json.loads(logical)
    assert ExchangeCache([path]).lookup(entry["key"], "here").content == "hello"


def test_a_new_run_with_the_same_out_replaces_the_log_and_a_continued_one_adds_to_it(
    fake, key, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, fake)
    out = tmp_path / "s.session.json"
    log = exchange_log_path(out)
    command = ["run", "--profile", "fake", "--seed", "6", "--quiet", "--max-messages", "12", "--out", str(out)]
    assert main(command) == 0
    first = log.read_bytes()
    assert first
    # the session moved away, the same command again, replayed from the log it is about to replace
    out.rename(tmp_path / "kept.session.json")
    assert main([*command, "--cache", str(log)]) == 0
    again = log.read_bytes()
    assert len(again.splitlines()) == len(first.splitlines())
    assert [r["key"] for r in read_exchanges(log)] == [json.loads(line)["key"] for line in first.splitlines()]
    assert all(json.loads(line)["cached"] for line in again.splitlines())
    continued = ["run", "--from", str(out), "--profile", "fake", "--quiet", "--max-messages", "20", "--out", str(out)]
    assert main(continued) == 0
    assert len(log.read_bytes().splitlines()) > len(first.splitlines())
    assert log.read_bytes().startswith(again)


def _dialogue(config, log=None, cache=None) -> list[tuple[str, str | None]]:
    import asyncio

    session = create_session(domain="retail", seed=5, tasks=2, max_messages=400)
    session.config.roles = {"task": "fake", "user": "fake", "assistant": "fake"}
    setup = BackendSetup(config=config, log=ExchangeLog(log) if log else None, cache=cache)

    async def go() -> None:
        await open_engine(session, backends=setup).run()
        await setup.aclose()

    asyncio.run(go())
    return [(str(m.role), m.content) for m in session.messages]


def test_a_key_stands_the_tool_list_in_by_its_digest_and_an_older_recording_still_replays(fake, config, tmp_path):
    log = tmp_path / "new.llm.jsonl"
    recorded = _dialogue(config, log=log)
    sent = len(fake.requests)
    records = list(read_exchanges(log))
    assert all(r["key"].startswith(KEY_PREFIX) for r in records)
    with_tools = next(r for r in records if r["request"]["tools"])
    # the same request with another tool list has another key; the key is not the whole request's sha256
    other = {**with_tools["request"], "tools": with_tools["request"]["tools"][:-1]}
    assert request_key(other) != with_tools["key"] != legacy_request_key(with_tools["request"])

    # the same log as a turnloom before key versions wrote it: every key the whole request's sha256
    old = tmp_path / "old.llm.jsonl"
    lines = log.read_text(encoding="utf-8").split("\n")[:-1]
    rewritten = []
    for line, record in zip(lines, records, strict=True):
        entry = json.loads(line)
        entry["key"] = legacy_request_key(record["request"])
        rewritten.append(json.dumps(entry, ensure_ascii=False))
    old.write_text("\n".join(rewritten) + "\n", encoding="utf-8")
    assert [r["request"] for r in read_exchanges(old)] == [r["request"] for r in records]  # each checked by its key

    cache = ExchangeCache([old], only=True)  # a request not in the recording fails the dialogue
    assert _dialogue(config, cache=cache) == recorded
    assert len(fake.requests) == sent and cache.hits == len(records)
