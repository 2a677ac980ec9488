"""The endpoint on the wire: retries, fallbacks, streaming, reasoning, odd replies."""

from __future__ import annotations

import json
import time

import backend_support
import pytest
from backend_support import KEY_VALUE, quick_profile

from turnloom.core.endpoint.endpoint import Endpoint
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


async def test_a_429_is_retried_after_the_servers_retry_after(fake, key):
    fake.push({"status": 429, "headers": {"Retry-After": "0.3"}})
    endpoint = Endpoint("fake", quick_profile(fake))
    started = time.perf_counter()
    result = await endpoint.chat(plain())
    assert time.perf_counter() - started >= 0.3
    assert result.content and len(fake.requests) == 2


async def test_a_500_is_retried_and_other_4xx_are_not(fake, key):
    fake.push({"status": 500})
    endpoint = Endpoint("fake", quick_profile(fake))
    assert (await endpoint.chat(plain())).content
    fake.push({"status": 404, "error": "no such model"})
    with pytest.raises(BackendError, match="HTTP 404.*no such model.*base_url"):
        await endpoint.chat(plain())
    assert len(fake.requests) == 3


async def test_a_hang_past_the_timeout_is_retried(fake, key):
    fake.push({"hang": 5})
    endpoint = Endpoint("fake", quick_profile(fake, timeout=0.3))
    assert (await endpoint.chat(plain())).content
    assert len(fake.requests) == 2


async def test_an_endpoint_that_keeps_failing_raises_a_backend_error_naming_it(fake, key):
    fake.push(*[{"status": 503}] * 3)
    endpoint = Endpoint("fake", quick_profile(fake, max_retries=2))
    with pytest.raises(BackendError, match=r"profile 'fake' \(http://127.0.0.1:\d+/v1, model fake-model\): HTTP 503"):
        await endpoint.chat(plain())


async def test_a_stream_dropped_mid_way_is_sent_again(fake, key):
    fake.push({"drop": 2, "reply": {"content": "a long reply that streams in pieces"}})
    endpoint = Endpoint("fake", quick_profile(fake))
    pieces: list[str] = []
    result = await endpoint.chat(plain(stream=True), pieces.append)
    assert len(fake.requests) == 2
    assert result.content.startswith("Here is") or result.content == "How can I help you today?"


async def test_a_stream_that_keeps_dropping_fails_cleanly(fake, key):
    fake.push(*[{"drop": 1}] * 5)
    endpoint = Endpoint("fake", quick_profile(fake, max_retries=2))
    with pytest.raises(BackendError, match="stream broke off 3 times"):
        await endpoint.chat(plain(stream=True))


async def test_streamed_text_arrives_in_pieces_and_whole(fake, key):
    fake.push({"reply": {"content": "Sure, your order ships tomorrow morning."}})
    pieces: list[str] = []
    result = await Endpoint("fake", quick_profile(fake)).chat(plain(stream=True), pieces.append)
    assert len(pieces) > 2 and "".join(pieces) == result.content == "Sure, your order ships tomorrow morning."
    assert result.usage.prompt_tokens > 0
    assert fake.requests[0].body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content", "think"])
@pytest.mark.parametrize("stream", [False, True])
async def test_reasoning_is_captured_apart_from_the_text(fake, key, field, stream):
    fake.push({"reply": {"content": "The answer is 4.", "reasoning": "2 plus 2 makes 4", "reasoning_field": field}})
    shown: list[str] = []
    result = await Endpoint("fake", quick_profile(fake)).chat(plain(stream), shown.append)
    assert result.content == "The answer is 4."
    assert result.reasoning == "2 plus 2 makes 4"
    assert "think" not in "".join(shown) and "2 plus 2" not in "".join(shown)


async def test_a_400_on_strict_turns_strict_off_for_good(key):
    from fake_openai import FakeOpenAI

    with FakeOpenAI(reject_strict=True) as fake:
        endpoint = Endpoint("fake", quick_profile(fake, strict=True))
        reply = await ask_json(endpoint, json_request(), repair=json_repair)
        assert reply.value == {"answer": "answer sample"}
        await ask_json(endpoint, json_request(), repair=json_repair)
        formats = [r.body["response_format"]["json_schema"].get("strict") for r in fake.requests]
        assert formats == [True, None, None]
        assert endpoint.capabilities.strict is False


async def test_json_schema_falls_back_to_json_object_then_to_text(fake, key):
    fake.push({"status": 400, "error": "response_format json_schema is not supported"})
    fake.push({"status": 400, "error": "response_format json_object is not supported"})
    fake.push({"reply": {"content": 'Here you go:\n```json\n{"answer": "fine"}\n```'}})
    endpoint = Endpoint("fake", quick_profile(fake))
    reply = await ask_json(endpoint, json_request(), repair=json_repair)
    assert reply.value == {"answer": "fine"}
    assert [r.body.get("response_format", {}).get("type") for r in fake.requests] == [
        "json_schema",
        "json_object",
        None,
    ]


async def test_a_reply_without_choices_is_malformed_and_asked_again(fake, key):
    fake.push({"body": {"id": "x", "object": "chat.completion"}})
    endpoint = Endpoint("fake", quick_profile(fake))
    with pytest.raises(MalformedReplyError):
        await endpoint.chat(plain())
    fake.push({"body": {"choices": []}})
    reply = await ask_json(endpoint, json_request(), repair=json_repair)
    assert reply.value == {"answer": "answer sample"}


async def test_a_reply_without_usage_or_ids_still_parses(fake, key):
    fake.push({"body": {"choices": [{"message": {"content": "hello"}}]}})
    result = await Endpoint("fake", quick_profile(fake)).chat(plain())
    assert result.content == "hello" and result.usage.total == 0 and result.finish_reason is None


async def test_json_that_does_not_fit_gets_a_repair_round(fake, key):
    fake.push({"reply": {"content": '{"answer": 5'}}, {"reply": {"content": '{"wrong": 1}'}})
    endpoint = Endpoint("fake", quick_profile(fake))
    reply = await ask_json(endpoint, json_request(), repair=json_repair)
    assert reply.value == {"answer": "answer sample"}
    repair = fake.requests[-1].body["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"wrong": 1}'}
    assert "answer" in repair[-1]["content"] and reply.spend.requests == 3


async def test_the_key_is_sent_from_the_environment_and_the_seed_forwarded(fake, key):
    request = plain()
    request.seed = 1234
    await Endpoint("fake", quick_profile(fake)).chat(request)
    seen = fake.requests[0]
    assert seen.headers["authorization"] == f"Bearer {KEY_VALUE}"
    assert seen.body["seed"] == 1234


async def test_a_missing_key_variable_is_named(fake, monkeypatch):
    monkeypatch.delenv("TURNLOOM_TEST_KEY", raising=False)
    with pytest.raises(Exception, match="TURNLOOM_TEST_KEY.*not set"):
        await Endpoint("fake", quick_profile(fake)).chat(plain())


async def test_concurrency_is_limited_per_profile(key):
    import asyncio

    from fake_openai import FakeOpenAI

    with FakeOpenAI(latency=0.1) as fake:
        endpoint = Endpoint("fake", quick_profile(fake, max_concurrency=2))
        started = time.perf_counter()
        await asyncio.gather(*(endpoint.chat(plain()) for _ in range(6)))
        assert time.perf_counter() - started >= 0.3  # 6 requests, 2 at a time, 0.1 s each


async def test_a_retried_stream_tells_the_caller_to_start_its_text_over(fake, key):
    fake.push({"drop": 2, "reply": {"content": "a long reply that streams in pieces"}})
    endpoint = Endpoint("fake", quick_profile(fake))
    shown: list[str] = []
    result = await endpoint.chat(plain(stream=True), shown.append, shown.clear)
    assert len(fake.requests) == 2
    assert "".join(shown) == result.content


def test_the_encoded_request_keys_and_records_exactly_as_the_logical_request():
    from turnloom.core.endpoint.exchange import (
        EncodedRequest,
        RequestEncoder,
        canonical_json,
        legacy_request_key,
        request_key,
    )

    request = ChatRequest(
        role="user",
        messages=[SYSTEM, {"role": "user", "content": 'héllo "quoted"'}],
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"b": 1, "a": [2]}}}],
        schema=SCHEMA,
        seed=7,
    )
    encoder = RequestEncoder()
    other = ChatRequest(role="user", messages=request.messages, schema={"type": "object"}, seed=None)
    for model, temperature, max_tokens in (("m", None, None), ("m2", 0.3, 512), ("m2", 0.3, 512), ("m", 1e-7, 3)):
        for asked in (request, other, request):
            logical = asked.logical(model, temperature, max_tokens)
            encoded = EncodedRequest.of(asked, model, temperature, max_tokens)
            assert encoded.logical == canonical_json(logical)
            assert encoded.key == request_key(logical)
            assert encoded.legacy_key == legacy_request_key(logical)
            assert encoder.encode(asked, model, temperature, max_tokens).logical == encoded.logical
            # a role player's pre-encoded tool list: its digest is kept by the encoder, the key is the same
            given = ChatRequest(
                role=asked.role,
                messages=asked.messages,
                tools=asked.tools,
                schema=asked.schema,
                seed=asked.seed,
                tools_json=None if asked.tools is None else canonical_json(asked.tools),
            )
            assert encoder.encode(given, model, temperature, max_tokens).key == encoded.key
    encoded = EncodedRequest.of(request, "m2", 0.3, 512)
    body = json.loads(encoded.body({"model": "m2", "seed": 7}, with_tools=True))
    assert body == {"model": "m2", "seed": 7, "messages": request.messages, "tools": request.tools}
    assert "tools" not in json.loads(encoded.body({"model": "m2"}, with_tools=False))


async def test_the_body_on_the_wire_carries_the_prompt_tools_and_options(fake, key):
    tools = [
        {
            "type": "function",
            "function": {"name": "search_x", "description": "d", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    request = ChatRequest(role="assistant", messages=[SYSTEM, {"role": "user", "content": "hi"}], tools=tools, seed=3)
    endpoint = Endpoint("fake", quick_profile(fake))
    result = await endpoint.chat(request)
    body = fake.requests[-1].body
    assert body["messages"] == request.messages and body["tools"] == tools and body["seed"] == 3
    assert body["model"] == "fake-model" and body["tool_choice"] == "auto"
    assert fake.requests[-1].headers["authorization"] == f"Bearer {KEY_VALUE}"
    assert result.tool_calls and result.tool_calls[0].name == "search_x"


@pytest.mark.parametrize("client", ["openai"])  # how the SDK spreads requests when aiohttp is missing
async def test_without_aiohttp_requests_spread_over_small_httpx_pools_with_the_same_retries(
    fake, key, monkeypatch, client
):
    from turnloom.core.endpoint import endpoint as openai_backend

    monkeypatch.setattr(openai_backend, "_aiohttp_client", lambda: None)
    endpoint = Endpoint("fake", quick_profile(fake, max_concurrency=40, client=client))
    fake.push({"status": 429, "headers": {"Retry-After": "0.05"}})
    results = [await endpoint.chat(plain()) for _ in range(4)]
    assert all(r.content for r in results) and len(fake.requests) == 5
    assert len(endpoint._wire.clients) == 3  # 40 in flight at most, 16 connections per client
    await endpoint.aclose()


def test_auto_means_the_sdk_for_interactive_work_and_aiohttp_for_a_batch(fake):
    from turnloom.core.config import TurnloomConfig
    from turnloom.core.players.setup import BackendSetup

    config = TurnloomConfig(
        profiles={"auto": quick_profile(fake, client="auto"), "sdk": quick_profile(fake, client="openai")}
    )
    assert BackendSetup.create(config).endpoint("auto").client == "openai"
    batch = BackendSetup.create(config, batch=True)
    assert batch.endpoint("auto").client == "aiohttp" and batch.endpoint("sdk").client == "openai"
    assert batch.spec(share=2).build().endpoint("auto").client == "aiohttp"


def test_the_retry_policy_follows_the_server_as_the_sdk_does():
    from email.utils import formatdate

    from turnloom.core.endpoint.wire import retry_after, retry_delay, should_retry

    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after({"retry-after": "2"}) == 2.0
    assert 8 < retry_after({"retry-after": formatdate(time.time() + 10, usegmt=True)}) <= 10
    assert retry_after({"retry-after": "soon"}) is None and retry_after({}) is None
    assert should_retry(429, {}) and should_retry(503, {}) and should_retry(408, {}) and should_retry(409, {})
    assert not should_retry(404, {}) and not should_retry(400, {})
    assert not should_retry(429, {"retry-after": "3600"})  # longer than anyone should wait: fail now
    assert should_retry(400, {"x-should-retry": "true"}) and not should_retry(500, {"x-should-retry": "false"})
    assert retry_delay(0, 1.5) == 1.5
    assert 0.375 <= retry_delay(0, None) <= 0.5 and 6 <= retry_delay(10, None) <= 8  # doubling, capped, jittered


async def test_a_stream_that_carries_an_error_event_is_sent_again(fake, key, client):
    fake.push({"stream_error": "overloaded"})
    endpoint = Endpoint("fake", quick_profile(fake))
    result = await endpoint.chat(plain(stream=True))
    assert result.content and len(fake.requests) == 2
