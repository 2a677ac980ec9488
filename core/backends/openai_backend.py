"""One OpenAI-compatible endpoint: the only module in turnloom.core that imports `openai`.

`Endpoint.chat(request)` sends a logical `ChatRequest` and returns a parsed
`ChatResult`. It owns everything about the wire:

- Retries. The SDK's own machinery retries 429 (honouring Retry-After and
  retry-after-ms), 408/409/5xx, timeouts and refused connections, with
  exponential backoff and jitter; `Profile.max_retries` is handed to it. The SDK
  cannot retry once a streamed body has started, so a stream that drops or stalls
  mid-way is retried here (from scratch, `retry_backoff` doubling with jitter).
  Other 4xx are not retried.
- Capabilities. A 400 that names a feature the profile claims (strict,
  json_schema, json_object, tool_choice, parallel_tool_calls, stream_options,
  seed) turns that feature off for this endpoint and the request is sent again;
  what was learnt holds for every later request.
- Concurrency: at most `max_concurrency` requests in flight per profile.
- Reasoning from `reasoning`, `reasoning_content` or `<think>` goes to
  `ChatResult.reasoning`, never to the text.
- Cache and record: a hit in the `ExchangeCache` returns without a request; every
  completed exchange goes to the `ExchangeLog`.

The key is read from the environment variable the profile names when the
client is built, inside the running event loop; it is never stored or logged.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from ..config import Profile
from ..errors import BackendError, ConfigError
from ..models import Usage
from .cache import ExchangeCache, ExchangeLog
from .exchange import ChatRequest, ChatResult, EncodedRequest, MalformedReplyError, ReplyToolCall, ThinkFilter, split_think

TextFn = Any  # Callable[[str], None]; kept loose so a caller may pass None
CONNECTIONS_PER_CLIENT = 16  # see Endpoint._bind

# a 400 whose message names one of these turns the matching capability off
_DOWNGRADES = (
    ("strict", "strict"),
    ("json_schema", "json_schema"),
    ("json_object", "json_object"),
    ("response_format", "response_format"),
    ("parallel_tool_calls", "parallel_tool_calls"),
    ("tool_choice", "tool_choice"),
    ("stream_options", "stream_usage"),
    ("seed", "seed"),
)


@dataclass
class Capabilities:
    """What the endpoint accepts, starting from the profile and narrowed by 400s."""

    json_schema: bool
    strict: bool
    json_object: bool
    tool_choice: bool
    parallel_tool_calls: bool
    stream: bool
    stream_usage: bool = True
    seed: bool = True

    @classmethod
    def of(cls, profile: Profile) -> Capabilities:
        return cls(
            json_schema=profile.json_schema,
            strict=profile.strict,
            json_object=profile.json_object,
            tool_choice=profile.tool_choice,
            parallel_tool_calls=profile.parallel_tool_calls,
            stream=profile.stream,
        )

    def drop(self, feature: str) -> bool:
        """Turn `feature` off; False when it was already off (nothing left to try)."""
        if feature == "response_format":
            if self.json_schema:
                self.json_schema = False
                return True
            if self.json_object:
                self.json_object = False
                return True
            return False
        if getattr(self, feature):
            setattr(self, feature, False)
            return True
        return False


# what `chat.completions.create` passes along besides the body: the bearer key, a JSON content type
_OPTIONS: dict[str, Any] = {"security": {"bearer_auth": True}, "headers": {"Content-Type": "application/json"}}


def _aiohttp_client() -> httpx2.AsyncClient | None:
    """The SDK's aiohttp transport (its defaults: limits, timeouts, redirects), or None without aiohttp."""
    try:
        return openai.DefaultAioHttpClient()
    except RuntimeError:  # the SDK's way of saying aiohttp is not installed
        return None


def _reply_json(response: httpx2.Response, where: str) -> dict[str, Any]:
    """The JSON object of a non-streamed reply.

    Raises:
        MalformedReplyError: the body is not a JSON object.
    """
    try:
        data = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedReplyError(f"{where}: the reply is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise MalformedReplyError(f"{where}: the reply is not a JSON object")
    return data


class _StreamBroken(Exception):
    """A streamed body ended early or stalled; retried here."""


class Endpoint:
    """A named profile's endpoint, shared by every role and dialogue that uses it."""

    def __init__(
        self,
        name: str,
        profile: Profile,
        cache: ExchangeCache | None = None,
        log: ExchangeLog | None = None,
    ) -> None:
        self.name = name
        self.profile = profile
        self.cache = cache
        self.log = log
        self.capabilities = Capabilities.of(profile)
        self.requests_sent = 0  # HTTP requests made, retries and re-sends included
        self.usage_spent = Usage()  # tokens of live replies (cache hits cost nothing)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: list[openai.AsyncOpenAI] = []
        self._turn = 0
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def where(self) -> str:
        return f"profile {self.name!r} ({self.profile.base_url}, model {self.profile.model})"

    # ------------------------------------------------------------ client

    def _bind(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        """A client and the semaphore for the running loop (a new loop gets new ones).

        With `aiohttp` installed (`pip install 'openai[aiohttp]'`) the SDK's aiohttp
        transport carries the requests: same retries and errors, about a third less
        client CPU per request than httpx. Without it, requests are spread round-robin
        over httpx clients of at most `CONNECTIONS_PER_CLIENT` connections each: the
        httpx pool scans every one of its connections on each request and each reply,
        so one pool of hundreds of connections costs more CPU per request than the
        rest of the client.
        """
        loop = asyncio.get_running_loop()
        if not self._clients or self._loop is not loop:
            self._loop = loop
            key = self._key()
            transport = _aiohttp_client()
            shards = 1 if transport is not None else max(1, -(-self.profile.max_concurrency // CONNECTIONS_PER_CLIENT))
            self._clients = [
                openai.AsyncOpenAI(
                    api_key=key,
                    base_url=self.profile.base_url,
                    timeout=self.profile.timeout,
                    max_retries=self.profile.max_retries,
                    http_client=transport if transport is not None else None,
                )
                for _ in range(shards)
            ]
            self._semaphore = asyncio.Semaphore(self.profile.max_concurrency)
        assert self._semaphore is not None
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn], self._semaphore

    def _key(self) -> str:
        env = self.profile.api_key_env
        if env is None:
            return "no-key"  # local servers ignore it; the SDK insists on one
        value = os.environ.get(env)
        if not value:
            raise ConfigError(f"{self.where}: the environment variable {env} (api_key_env) is not set; export it")
        return value

    async def aclose(self) -> None:
        """Close the HTTP clients of the current loop, if any."""
        if self._clients and self._loop is asyncio.get_running_loop():
            for client in self._clients:
                await client.close()
        self._clients = []

    # ------------------------------------------------------------ chat

    async def chat(
        self, request: ChatRequest, on_text: TextFn | None = None, on_restart: Callable[[], None] | None = None
    ) -> ChatResult:
        """Send `request`, or answer it from the cache.

        Args:
            request: the logical request.
            on_text: called with each visible text fragment while a reply streams.
            on_restart: called before a broken stream is retried from scratch.

        Returns:
            The parsed reply, with usage and latency.

        Raises:
            BackendError: the endpoint failed after its retries, refused the request,
                or sent nothing usable (`MalformedReplyError`).
        """
        profile = self.profile
        encoded = EncodedRequest.of(request, profile.model, profile.temperature, profile.max_tokens)
        if self.cache is not None:
            cached = self.cache.lookup(encoded.key, f"{self.where}, role {request.role}")
            if cached is not None:
                if on_text is not None and cached.content:
                    on_text(cached.content)
                self._record(encoded, request, cached)
                return cached
        client, semaphore = self._bind()
        async with semaphore:
            started = time.perf_counter()
            result = await self._send_with_retries(client, request, encoded, on_text, on_restart)
            result.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        self.usage_spent = self.usage_spent + result.usage
        self._record(encoded, request, result)
        return result

    def _record(self, encoded: EncodedRequest, request: ChatRequest, result: ChatResult) -> None:
        if self.log is None:
            return
        self.log.record(
            {
                "key": encoded.key,
                "role": request.role,
                "profile": self.name,
                "response": result.to_record(),
                "latency_ms": result.latency_ms,
                "cached": result.cached,
            },
            encoded={"request": encoded.logical},
        )

    async def _send_with_retries(
        self,
        client: openai.AsyncOpenAI,
        request: ChatRequest,
        encoded: EncodedRequest,
        on_text: TextFn | None,
        on_restart: Callable[[], None] | None,
    ) -> ChatResult:
        broken = 0
        while True:
            fields = self._body(request)
            # the prompt goes out pre-encoded through the SDK's plain `post`: `create()` would walk
            # every message and tool schema against its TypedDicts (most of the client's CPU per
            # request) and build a pydantic model of the reply we only read as a dict
            body = encoded.body(fields, with_tools=bool(request.tools))
            try:
                self.requests_sent += 1
                if fields.get("stream"):
                    return await self._stream(client, body, on_text)
                response = await client.post("/chat/completions", content=body, cast_to=httpx2.Response, options=_OPTIONS)
                return self._parse(_reply_json(response, self.where))
            except openai.BadRequestError as exc:
                feature = self._feature_named(exc)
                if feature is None:
                    raise BackendError(f"{self.where}: the endpoint rejected the request (HTTP 400): {_message(exc)}") from exc
                continue  # a capability was turned off; send again without it
            except openai.APIStatusError as exc:
                raise BackendError(_status_advice(self.where, exc)) from exc
            except openai.APITimeoutError as exc:
                raise BackendError(
                    f"{self.where}: no reply within {self.profile.timeout:g} s after {self.profile.max_retries} retries; "
                    "raise `timeout` in the profile or check the server"
                ) from exc
            except openai.APIConnectionError as exc:
                raise BackendError(f"{self.where}: cannot connect after {self.profile.max_retries} retries ({exc.__cause__ or exc})") from exc
            except _StreamBroken as exc:
                broken += 1
                if broken > self.profile.max_retries:
                    raise BackendError(f"{self.where}: the reply stream broke off {broken} times ({exc}); check the server") from exc
                delay = self.profile.retry_backoff * (2 ** (broken - 1))
                await asyncio.sleep(delay * (1 - 0.25 * random.random()))
                if on_restart is not None:
                    on_restart()

    def _feature_named(self, exc: openai.BadRequestError) -> str | None:
        text = _message(exc).lower()
        for word, feature in _DOWNGRADES:
            if word in text and self.capabilities.drop(feature):
                return feature
        return None

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        """The request's fields but its messages and tools (which `EncodedRequest` carries)."""
        caps, profile = self.capabilities, self.profile
        body: dict[str, Any] = {"model": profile.model}
        if profile.temperature is not None:
            body["temperature"] = profile.temperature
        if profile.max_tokens is not None:
            body["max_tokens"] = profile.max_tokens
        if request.seed is not None and caps.seed:
            body["seed"] = request.seed
        if request.tools:
            if caps.tool_choice:
                body["tool_choice"] = "auto"
            if caps.parallel_tool_calls:
                body["parallel_tool_calls"] = True
        if request.schema is not None:
            if caps.json_schema:
                spec: dict[str, Any] = {"name": request.schema_name, "schema": request.schema}
                if caps.strict and request.strict_schema:
                    spec["strict"] = True
                body["response_format"] = {"type": "json_schema", "json_schema": spec}
            elif caps.json_object:
                body["response_format"] = {"type": "json_object"}
        if request.stream and caps.stream:
            body["stream"] = True
            if caps.stream_usage:
                body["stream_options"] = {"include_usage": True}
        return body

    # ------------------------------------------------------------ replies

    def _parse(self, data: dict[str, Any]) -> ChatResult:
        choices = data.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            raise MalformedReplyError(f"{self.where}: the reply has no choices")
        message = choices[0].get("message") or {}
        content, think = split_think(message.get("content") or "")
        reasoning = message.get("reasoning") or message.get("reasoning_content") or think
        calls = []
        for raw in message.get("tool_calls") or []:
            function = (raw or {}).get("function") or {}
            if function.get("name"):
                calls.append(ReplyToolCall(raw.get("id"), function["name"], function.get("arguments") or ""))
        return ChatResult(
            content=content,
            reasoning=reasoning or None,
            tool_calls=calls,
            finish_reason=choices[0].get("finish_reason"),
            usage=_usage(data.get("usage")),
            model=data.get("model"),
        )

    async def _stream(self, client: openai.AsyncOpenAI, body: bytes, on_text: TextFn | None) -> ChatResult:
        stream = await client.post(
            "/chat/completions",
            content=body,
            cast_to=ChatCompletion,
            options=_OPTIONS,
            stream=True,
            stream_cls=openai.AsyncStream[ChatCompletionChunk],
        )
        think = ThinkFilter()
        text: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        usage: Any = None
        model: str | None = None
        try:
            async for chunk in stream:
                data = chunk.model_dump()
                model = data.get("model") or model
                usage = data.get("usage") or usage
                for choice in data.get("choices") or []:
                    delta = choice.get("delta") or {}
                    finish = choice.get("finish_reason") or finish
                    extra = delta.get("reasoning") or delta.get("reasoning_content")
                    if extra:
                        reasoning.append(extra)
                    if delta.get("content"):
                        visible = think.feed(delta["content"])
                        if visible:
                            text.append(visible)
                            if on_text is not None:
                                on_text(visible)
                    for call in delta.get("tool_calls") or []:
                        slot = calls.setdefault(call.get("index") or 0, {"id": None, "name": "", "arguments": ""})
                        slot["id"] = call.get("id") or slot["id"]
                        function = call.get("function") or {}
                        slot["name"] += function.get("name") or ""
                        slot["arguments"] += function.get("arguments") or ""
        except (httpx2.TransportError, openai.APIError, asyncio.TimeoutError) as exc:
            raise _StreamBroken(type(exc).__name__) from exc
        finally:
            await stream.close()
        if finish is None and not usage:
            raise _StreamBroken("the stream ended without a finish reason")
        visible_text = "".join(text) + think.feed("")
        content, late_think = split_think(visible_text)
        all_reasoning = "".join(reasoning) or "".join(think.reasoning).strip() or late_think
        return ChatResult(
            content=content.strip(),
            reasoning=all_reasoning or None,
            tool_calls=[ReplyToolCall(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items()) if c["name"]],
            finish_reason=finish,
            usage=_usage(usage),
            model=model,
        )


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    details = raw.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
        reasoning_tokens=int((details or {}).get("reasoning_tokens") or 0),
    )


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(exc.message)


def _status_advice(where: str, exc: openai.APIStatusError) -> str:
    status = exc.status_code
    if status in (401, 403):
        hint = "the key was refused; check the variable named by api_key_env"
    elif status == 404:
        hint = "check base_url (usually ends in /v1) and the model name"
    elif status == 429 or status >= 500:
        hint = "still failing after the profile's max_retries; try again later or lower max_concurrency"
    else:
        hint = "the endpoint refused the request"
    return f"{where}: HTTP {status}: {_message(exc)} — {hint}"
