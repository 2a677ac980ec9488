"""One OpenAI-compatible endpoint: the only module in turnloom.core that imports `openai`.

`Endpoint.chat(request)` sends a logical `ChatRequest` and returns a parsed
`ChatResult`. It owns everything about the request and its reply; the HTTP is a
`wire.Wire` — the openai SDK (`SdkWire`, here) or plain aiohttp
(`wire.AiohttpWire`), chosen by the profile's `client` (see `wire`):

- Retries. The wire retries 429 (honouring Retry-After and retry-after-ms),
  408/409/5xx, timeouts and refused connections, with exponential backoff and
  jitter; `Profile.max_retries` is handed to it. No wire can retry once a streamed
  body has started, so a stream that drops or stalls mid-way is retried here
  (from scratch, `retry_backoff` doubling with jitter). Other 4xx are not retried.
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
`openai` itself is imported only when an `SdkWire` is made, so a batch on the
aiohttp wire never loads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from turnloom.core.config import Profile
from turnloom.core.endpoint.exchange import (
    ChatRequest,
    ChatResult,
    EncodedRequest,
    MalformedReplyError,
    ReplyToolCall,
    ThinkFilter,
    split_think,
)
from turnloom.core.endpoint.exchange_log import ExchangeCache, ExchangeLog
from turnloom.core.endpoint.wire import (
    AiohttpWire,
    ConnectionFailed,
    HTTPStatusFailed,
    RequestTimedOut,
    StreamBroken,
    Wire,
    error_message,
    reply_object,
    resolve_client,
)
from turnloom.core.errors import BackendError, ConfigError
from turnloom.core.models import Usage

if TYPE_CHECKING:
    import openai

TextFn = Any  # Callable[[str], None]; kept loose so a caller may pass None
CONNECTIONS_PER_CLIENT = 16  # see SdkWire

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
# the SDK's RequestOptions (a TypedDict it keeps private)
_OPTIONS: Any = {"security": {"bearer_auth": True}, "headers": {"Content-Type": "application/json"}}


class SdkWire:
    """The openai SDK as a `Wire`: its retries, its errors, its transport.

    With `aiohttp` installed (`pip install 'openai[aiohttp]'`) the SDK's aiohttp
    transport carries the requests: same retries and errors, about a third less
    client CPU per request than httpx. Without it, requests are spread round-robin
    over httpx clients of at most `CONNECTIONS_PER_CLIENT` connections each: the
    httpx pool scans every one of its connections on each request and each reply,
    so one pool of hundreds of connections costs more CPU per request than the
    rest of the client.
    """

    def __init__(self, profile: Profile, key: str, where: str) -> None:
        import openai

        self.where = where
        transport = _aiohttp_client()
        shards = 1 if transport is not None else max(1, -(-profile.max_concurrency // CONNECTIONS_PER_CLIENT))
        self.clients = [
            openai.AsyncOpenAI(
                api_key=key,
                base_url=profile.base_url,
                timeout=profile.timeout,
                max_retries=profile.max_retries,
                http_client=transport,
            )
            for _ in range(shards)
        ]
        self._turn = 0

    def _client(self) -> openai.AsyncOpenAI:
        self._turn = (self._turn + 1) % len(self.clients)
        return self.clients[self._turn]

    async def post(self, body: bytes) -> dict[str, Any]:
        import httpx2

        with _sdk_failures():
            response = await self._client().post(
                "/chat/completions", content=body, cast_to=httpx2.Response, options=_OPTIONS
            )
        return reply_object(response.content, self.where)

    async def stream(self, body: bytes) -> AsyncGenerator[dict[str, Any]]:
        import httpx2
        import openai
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        with _sdk_failures():
            stream = await self._client().post(
                "/chat/completions",
                content=body,
                cast_to=ChatCompletion,
                options=_OPTIONS,
                stream=True,
                stream_cls=openai.AsyncStream[ChatCompletionChunk],
            )
        try:
            async for chunk in stream:
                yield chunk.model_dump()
        except (TimeoutError, httpx2.TransportError, openai.APIError) as exc:
            raise StreamBroken(type(exc).__name__) from exc
        finally:
            await stream.close()

    async def aclose(self) -> None:
        for client in self.clients:
            await client.close()


@contextlib.contextmanager
def _sdk_failures() -> Iterator[None]:
    """Turns the SDK's exceptions (raised after its retries) into the wire's."""
    import openai

    try:
        yield
    except openai.APIStatusError as exc:
        raise HTTPStatusFailed(exc.status_code, error_message(exc.body, str(exc.message))) from exc
    except openai.APITimeoutError as exc:
        raise RequestTimedOut(str(exc)) from exc
    except openai.APIConnectionError as exc:
        raise ConnectionFailed(str(exc.__cause__ or exc)) from exc


def _aiohttp_client() -> Any:
    """The SDK's aiohttp transport (its defaults: limits, timeouts, redirects), or None without aiohttp."""
    import openai

    try:
        return openai.DefaultAioHttpClient()
    except RuntimeError:  # the SDK's way of saying aiohttp is not installed
        return None


class Endpoint:
    """A named profile's endpoint, shared by every role and dialogue that uses it.

    `batch` says the endpoint serves a batch (`generate`): a profile's `client =
    "auto"` then means the aiohttp wire, otherwise the openai SDK (see `wire`).
    """

    def __init__(
        self,
        name: str,
        profile: Profile,
        cache: ExchangeCache | None = None,
        log: ExchangeLog | None = None,
        batch: bool = False,
    ) -> None:
        self.name = name
        self.profile = profile
        self.cache = cache
        self.log = log
        self.client = resolve_client(profile.client, batch)
        self.capabilities = Capabilities.of(profile)
        self.limit: int | None = None  # a run's own limit on requests in flight (`limit_in_flight`)
        self.requests_sent = 0  # HTTP requests made, retries and re-sends included
        self.usage_spent = Usage()  # tokens of live replies (cache hits cost nothing)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wire: Wire | None = None
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def where(self) -> str:
        return f"profile {self.name!r} ({self.profile.base_url}, model {self.profile.model})"

    # ------------------------------------------------------------ client

    def _bind(self) -> tuple[Wire, asyncio.Semaphore]:
        """The wire and the semaphore for the running loop (a new loop gets new ones)."""
        loop = asyncio.get_running_loop()
        if self._wire is None or self._loop is not loop:
            self._loop = loop
            key, profile = self._key(), self.profile
            if self.client == "aiohttp":
                self._wire = AiohttpWire(profile.base_url, key, profile.timeout, profile.max_retries, self.where)
            else:
                self._wire = SdkWire(profile, key, self.where)
            self._semaphore = asyncio.Semaphore(self.max_in_flight)
        assert self._wire is not None and self._semaphore is not None
        return self._wire, self._semaphore

    @property
    def max_in_flight(self) -> int:
        """Requests in flight at most: the profile's `max_concurrency`, or the run's limit if lower."""
        return self.profile.in_flight(self.limit)

    def limit_in_flight(self, most: int | None) -> None:
        """Keep to at most `most` requests in flight (None: the profile's `max_concurrency` alone).

        Call it before requests are in flight: a semaphore already made is replaced.
        """
        self.limit = most
        if self._semaphore is not None:
            self._semaphore = asyncio.Semaphore(self.max_in_flight)

    def _key(self) -> str:
        env = self.profile.api_key_env
        if env is None:
            return "no-key"  # local servers ignore it; the SDK insists on one
        value = os.environ.get(env)
        if not value:
            raise ConfigError(f"{self.where}: the environment variable {env} (api_key_env) is not set; export it")
        return value

    async def aclose(self) -> None:
        """Close the HTTP client of the current loop, if any."""
        if self._wire is not None and self._loop is asyncio.get_running_loop():
            await self._wire.aclose()
        self._wire = None

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
        wire, semaphore = self._bind()
        async with semaphore:
            started = time.perf_counter()
            result = await self._send_with_retries(wire, request, encoded, on_text, on_restart)
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
        wire: Wire,
        request: ChatRequest,
        encoded: EncodedRequest,
        on_text: TextFn | None,
        on_restart: Callable[[], None] | None,
    ) -> ChatResult:
        broken = 0
        while True:
            fields = self._body(request)
            # the prompt goes out pre-encoded: the SDK's `create()` would walk every message and
            # tool schema against its TypedDicts (most of the client's CPU per request) and build
            # a pydantic model of the reply we only read as a dict
            body = encoded.body(fields, with_tools=bool(request.tools))
            try:
                self.requests_sent += 1
                if fields.get("stream"):
                    return await self._stream(wire, body, on_text)
                return self._parse(await wire.post(body))
            except HTTPStatusFailed as exc:
                if exc.status == 400 and self._feature_named(exc.message):
                    continue  # a capability was turned off; send again without it
                raise BackendError(_status_advice(self.where, exc)) from exc
            except RequestTimedOut as exc:
                raise BackendError(
                    f"{self.where}: no reply within {self.profile.timeout:g} s after {self.profile.max_retries} retries; "
                    "raise `timeout` in the profile or check the server"
                ) from exc
            except ConnectionFailed as exc:
                raise BackendError(
                    f"{self.where}: cannot connect after {self.profile.max_retries} retries ({exc})"
                ) from exc
            except StreamBroken as exc:
                broken += 1
                if broken > self.profile.max_retries:
                    raise BackendError(
                        f"{self.where}: the reply stream broke off {broken} times ({exc}); check the server"
                    ) from exc
                delay = self.profile.retry_backoff * (2 ** (broken - 1))
                await asyncio.sleep(delay * (1 - 0.25 * random.random()))
                if on_restart is not None:
                    on_restart()

    def _feature_named(self, message: str) -> str | None:
        """The capability a 400's message names, now turned off; None if none (or nothing left to turn off)."""
        text = message.lower()
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

    async def _stream(self, wire: Wire, body: bytes, on_text: TextFn | None) -> ChatResult:
        think = ThinkFilter()
        text: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        usage: Any = None
        model: str | None = None
        async with contextlib.aclosing(wire.stream(body)) as chunks:
            async for data in chunks:
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
        if finish is None and not usage:
            raise StreamBroken("the stream ended without a finish reason")
        visible_text = "".join(text) + think.feed("")
        content, late_think = split_think(visible_text)
        all_reasoning = "".join(reasoning) or "".join(think.reasoning).strip() or late_think
        return ChatResult(
            content=content.strip(),
            reasoning=all_reasoning or None,
            tool_calls=[
                ReplyToolCall(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items()) if c["name"]
            ],
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


def _status_advice(where: str, exc: HTTPStatusFailed) -> str:
    status = exc.status
    if status in (401, 403):
        hint = "the key was refused; check the variable named by api_key_env"
    elif status == 404:
        hint = "check base_url (usually ends in /v1) and the model name"
    elif status == 429 or status >= 500:
        hint = "still failing after the profile's max_retries; try again later or lower max_concurrency"
    else:
        hint = "the endpoint refused the request"
    return f"{where}: HTTP {status}: {exc.message} — {hint}"
