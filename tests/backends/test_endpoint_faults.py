"""A hostile endpoint on the real fake server: every fault ends in a retry, a re-ask or a named error.

Broken stream events (not JSON, not UTF-8) on both clients, wrongly typed reply fields, a server
trickling bytes past the deadline, capability downgrades under concurrency, oversized prompts,
re-asks that back off, and one retry policy for both clients.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import backend_support
import pytest
from backend_support import quick_profile
from fake_openai import FakeOpenAI

from turnloom.core.endpoint.endpoint import Endpoint, PromptTooLarge
from turnloom.core.endpoint.exchange import ChatRequest, MalformedReplyError
from turnloom.core.endpoint.structured import ask_json
from turnloom.core.errors import BackendError
from turnloom.core.prompts import json_repair

SYSTEM = {"role": "system", "content": "# Role: assistant\nhelp"}
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}


@pytest.fixture(autouse=True, params=["openai", "aiohttp"])
def client(request, monkeypatch) -> str:
    """Every test here runs on both HTTP clients: the openai SDK and the lean aiohttp wire."""
    monkeypatch.setattr(backend_support, "CLIENT", request.param)
    return request.param


def plain(stream: bool = False) -> ChatRequest:
    return ChatRequest(role="assistant", messages=[SYSTEM, {"role": "user", "content": "hi"}], stream=stream)


def json_request() -> ChatRequest:
    return ChatRequest(role="check", messages=[{"role": "user", "content": "JSON please"}], schema=SCHEMA)


# ---------------------------------------------------------------- broken streams (15.4)

BROKEN_EVENTS = {
    "not json": [b"data: {not json"],
    "not utf-8": [b'data: {"choices": [{"delta": {"content": "\xff\xfe"}}]}'],
    "not an object": [b"data: [1, 2]"],
    "nested too deeply": [b"data: " + b"[" * 100_000],
}


@pytest.mark.parametrize("fault", sorted(BROKEN_EVENTS))
async def test_a_broken_stream_event_is_a_retried_broken_stream(fake, key, fault):
    fake.push({"events": BROKEN_EVENTS[fault]})
    endpoint = Endpoint("fake", quick_profile(fake))
    shown: list[str] = []
    result = await endpoint.chat(plain(stream=True), shown.append, shown.clear)
    assert result.content and "".join(shown) == result.content
    assert len(fake.requests) == 2 and endpoint.requests_sent == 2


async def test_a_stream_that_stays_broken_is_a_named_error(fake, key):
    fake.push(*[{"events": [b"data: {not json"]}] * 3)
    endpoint = Endpoint("fake", quick_profile(fake, max_retries=2))
    with pytest.raises(BackendError, match="profile 'fake'.*stream broke off 3 times.*not JSON"):
        await endpoint.chat(plain(stream=True))


# ---------------------------------------------------------------- wrongly typed fields (15.5)


def _reply(message: object, **extra: object) -> dict[str, object]:
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], **extra}


MISTYPED = {
    "tool_calls of strings": _reply({"content": "", "tool_calls": ["x"]}),
    "function a string": _reply({"content": "", "tool_calls": [{"id": "c", "function": "name"}]}),
    "tool_calls an object": _reply({"content": "", "tool_calls": {"name": "x"}}),
    "arguments a number": _reply({"tool_calls": [{"function": {"name": "f", "arguments": 5}}]}),
    "message a string": _reply("hello"),
    "content a number": _reply({"content": 5}),
    "choices an object": {"choices": {"message": {"content": "hi"}}},
    "choices missing": {"id": "x"},
    "choice a string": {"choices": ["hi"]},
}
MISTYPED_STREAM = {
    "delta tool_calls of strings": {"choices": [{"delta": {"tool_calls": ["x"]}}]},
    "delta a list": {"choices": [{"delta": ["x"]}]},
    "choices a string": {"choices": "x"},
    "tool call index a string": {"choices": [{"delta": {"tool_calls": [{"index": "0", "function": {}}]}}]},
    "content an object": {"choices": [{"delta": {"content": {"a": 1}}}]},
}


@pytest.mark.parametrize("fault", sorted(MISTYPED))
async def test_a_wrongly_typed_reply_is_malformed_and_asked_again(fake, key, fault):
    fake.push({"body": MISTYPED[fault]})
    endpoint = Endpoint("fake", quick_profile(fake))
    with pytest.raises(MalformedReplyError, match="profile 'fake'"):
        await endpoint.chat(plain())
    fake.push({"body": MISTYPED[fault]})
    reply = await ask_json(endpoint, json_request(), repair=json_repair)  # the next round gets a good reply
    assert reply.value == {"answer": "answer sample"}


@pytest.mark.parametrize("fault", sorted(MISTYPED_STREAM))
async def test_a_wrongly_typed_stream_event_is_malformed(fake, key, fault):
    fake.push({"stream_body": MISTYPED_STREAM[fault]})
    with pytest.raises(MalformedReplyError, match="profile 'fake'"):
        await Endpoint("fake", quick_profile(fake)).chat(plain(stream=True))


@pytest.mark.parametrize("usage", [{"prompt_tokens": "lots"}, {"prompt_tokens": 1e308}, "many", [3], {"x": None}])
async def test_wrongly_typed_usage_counts_nothing_rather_than_failing(fake, key, usage):
    fake.push({"body": _reply({"content": "hello"}, usage=usage, model=5)})
    result = await Endpoint("fake", quick_profile(fake)).chat(plain())
    assert result.content == "hello" and result.model is None
    assert 0 <= result.usage.prompt_tokens <= 2**62 and result.usage.completion_tokens == 0


async def test_content_sent_as_text_parts_is_joined(fake, key):
    fake.push({"body": _reply({"content": [{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}]})})
    assert (await Endpoint("fake", quick_profile(fake)).chat(plain())).content == "hello"


async def test_a_body_that_is_not_utf8_json_is_malformed(fake, key):
    fake.push({"raw": b'{"choices": "\xff'})
    with pytest.raises(MalformedReplyError, match="not JSON"):
        await Endpoint("fake", quick_profile(fake)).chat(plain())


# ---------------------------------------------------------------- the deadline (15.6)


@pytest.mark.parametrize("stream", [False, True])
async def test_a_trickling_server_meets_the_deadline_then_a_named_error(fake, key, stream):
    fake.push(*[{"trickle": 0.1}] * 3)
    # every byte comes well within `timeout`, so only the deadline can end it
    endpoint = Endpoint("fake", quick_profile(fake, timeout=5, deadline=0.5, max_retries=1))
    started = time.perf_counter()
    with pytest.raises(BackendError, match=r"profile 'fake'.*deadline of 0.5 s after 1 retries.*raise `deadline`"):
        await endpoint.chat(plain(stream))
    assert time.perf_counter() - started < 3
    assert len(fake.requests) == 2


async def test_a_trickle_once_is_retried(fake, key):
    fake.push({"trickle": 0.1})
    endpoint = Endpoint("fake", quick_profile(fake, timeout=5, deadline=0.4))
    assert (await endpoint.chat(plain())).content and len(fake.requests) == 2


# ---------------------------------------------------------------- downgrades under concurrency (15.7)


async def test_concurrent_requests_fall_back_to_json_object_and_never_further(key):
    with FakeOpenAI(reject_json_schema=True, latency=0.05) as fake:
        endpoint = Endpoint("fake", quick_profile(fake, max_concurrency=16))
        replies = await asyncio.gather(*(ask_json(endpoint, json_request(), repair=json_repair) for _ in range(40)))
        await endpoint.aclose()
        assert all(r.value == {"answer": "OK"} for r in replies)  # the fake's json_object answer
        kinds = [(r.body.get("response_format") or {}).get("type") for r in fake.requests]
        assert None not in kinds, f"{kinds.count(None)} requests went out with no response_format"
        assert kinds.count("json_object") == 40 and kinds.count("json_schema") <= 16
        assert endpoint.capabilities.json_schema is False and endpoint.capabilities.json_object is True


def test_fifty_dialogues_in_generate_keep_their_response_format(key, tmp_path: Path, client):
    from test_backend_batch import batch_config

    from turnloom.core.batch.executors import AsyncExecutor
    from turnloom.core.batch.run import generate
    from turnloom.core.config import TurnloomConfig
    from turnloom.core.players.setup import BackendSetup

    async def batch(server: FakeOpenAI):
        settings = TurnloomConfig(profiles={"fake": quick_profile(server, max_concurrency=32, timeout=5)})
        backends = BackendSetup.create(settings, batch=True)
        try:
            return await generate(batch_config(server), tmp_path, 50, AsyncExecutor(50, backends=backends))
        finally:
            await backends.aclose()

    with FakeOpenAI(reject_json_schema=True, latency=0.01) as fake:
        summary = asyncio.run(batch(fake))
        structured = [r for r in fake.requests if r.role in ("task", "user")]
    assert summary.complete and summary.failed == 0, summary
    kinds = [(r.body.get("response_format") or {}).get("type") for r in structured]
    assert None not in kinds, f"{kinds.count(None)} of {len(kinds)} structured requests had no response_format"
    assert kinds.count("json_schema") <= 32


# ---------------------------------------------------------------- prompt size (15.12)


async def test_an_oversized_prompt_is_a_named_error_before_it_is_sent(fake, key):
    endpoint = Endpoint("fake", quick_profile(fake, max_prompt_chars=1000))
    request = plain()
    request.messages.append({"role": "user", "content": "x" * 2000})
    with pytest.raises(PromptTooLarge, match=r"profile 'fake'.*role assistant.*above the profile's max_prompt_chars"):
        await endpoint.chat(request)
    assert not fake.requests
    assert (await endpoint.chat(plain())).content  # a prompt within the cap goes out


# ---------------------------------------------------------------- one retry policy, re-asks back off (12.5, 15)


async def test_both_clients_retry_under_the_same_policy_and_count_every_try(fake, key):
    fake.push({"status": 503}, {"status": 429, "headers": {"Retry-After": "0.2"}})
    endpoint = Endpoint("fake", quick_profile(fake, retry_backoff=0.3))
    started = time.perf_counter()
    assert (await endpoint.chat(plain())).content
    # 0.3 s backoff (less up to 25% jitter) after the 503, then the server's 0.2 s after the 429
    assert time.perf_counter() - started >= 0.225 + 0.2
    assert len(fake.requests) == 3 and endpoint.requests_sent == 3


async def test_retries_stop_at_max_retries_on_both_clients(fake, key):
    fake.push(*[{"status": 500}] * 5)
    endpoint = Endpoint("fake", quick_profile(fake, max_retries=3))
    with pytest.raises(BackendError, match="HTTP 500"):
        await endpoint.chat(plain())
    assert len(fake.requests) == 4 and endpoint.requests_sent == 4


async def test_a_re_ask_backs_off_like_a_retry(fake, key):
    fake.push({"reply": {"content": "not json"}}, {"reply": {"content": "still not"}})
    endpoint = Endpoint("fake", quick_profile(fake, retry_backoff=0.2))
    started = time.perf_counter()
    reply = await ask_json(endpoint, json_request(), repair=json_repair)
    assert reply.value == {"answer": "answer sample"} and len(fake.requests) == 3
    assert time.perf_counter() - started >= 0.15 + 0.3  # 0.2 then 0.4 s, less up to 25% jitter


def test_an_error_message_from_the_server_is_made_safe_to_print():
    from turnloom.core.endpoint.wire import error_message

    assert error_message({"error": {"message": "bad \x1b]0;pwned\x07 key"}}, "") == "bad \ufffd]0;pwned\ufffd key"
    assert json.dumps(error_message({"message": "x" * 5000}, "")).count("x") == 500


@pytest.mark.parametrize("fault", ["tool_calls of strings", "function a string", "message a string"])
async def test_the_assistant_re_asks_a_wrongly_typed_reply_after_a_backoff(fake, key, fault):
    from test_backend_players import engine_for

    from turnloom.core.config import TurnloomConfig

    config = TurnloomConfig(profiles={"fake": quick_profile(fake, retry_backoff=0.2)})
    engine, _ = engine_for(config, roles=("assistant",))
    await engine.step()  # the offline user
    fake.push({"body": MISTYPED[fault]}, role="assistant")
    started = time.perf_counter()
    message = await engine.step()
    assert time.perf_counter() - started >= 0.15
    assert len(fake.requests_of("assistant")) == 2
    assert message.content or message.tool_calls
    for call in message.tool_calls:
        json.loads(call.arguments)
