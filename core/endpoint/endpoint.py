"""One OpenAI-compatible endpoint: the only module in turnloom.core that imports `openai`.

`Endpoint.chat(request)` sends a logical `ChatRequest` and returns a parsed
`ChatResult`. It owns everything about the request and its reply; the HTTP is a
`wire.Wire` — the openai SDK (`SdkWire`, here) or plain aiohttp
(`wire.AiohttpWire`), chosen by the profile's `client` (see `wire`):

- Retries: one policy for both wires (`retry.RetryPolicy`, on tenacity). A wire
  makes one attempt; 429 (honouring Retry-After and retry-after-ms), 408/409/5xx,
  timeouts, refused connections and streams that drop, stall or carry an event
  that is not JSON are tried again from scratch, up to `max_retries` times, with
  `retry_backoff` doubling and jitter. Other 4xx are not retried.
- Deadline: each attempt, connect to last byte, streamed or not, ends after the
  profile's `deadline` seconds (a server trickling bytes cannot hold it for ever).
- Capabilities. A 400 that names a feature the request carried (strict,
  json_schema, json_object, tool_choice, parallel_tool_calls, stream_options,
  seed) turns that feature off for this endpoint, under a lock, and the request is
  sent again; what was learnt holds for every later request. Only what a failed
  request carried is dropped, so requests in flight together cannot talk each other
  out of a fallback (json_schema → json_object → none).
- Prompt size: a prompt above the profile's `max_prompt_chars` is refused before it
  is sent (`PromptTooLarge`).
- Replies: every field is type-checked where it enters; a reply that does not fit
  (no choices, a tool call that is not an object, ...) is a `MalformedReplyError`,
  which the player re-asks.
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
import json
import math
import os
import threading
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
    RequestEncoder,
    ThinkFilter,
    split_think,
)
from turnloom.core.endpoint.exchange_log import ExchangeCache, ExchangeLog
from turnloom.core.endpoint.pool import EndpointPool
from turnloom.core.endpoint.retry import RetryPolicy
from turnloom.core.endpoint.wire import (
    AiohttpWire,
    ConnectionFailed,
    DeadlinePassed,
    HTTPStatusFailed,
    RequestTimedOut,
    StreamBroken,
    Wire,
    error_message,
    keeps_deadline,
    refused,
    reply_object,
    resolve_client,
    status_failure,
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
        with _CAPABILITY_LOCK:
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

    def drop_sent(self, feature: str, fields: dict[str, Any]) -> bool:
        """Turn `feature` off if the request whose `fields` were refused carried it; False if it did not.

        Decided from what that request carried, not from the state now, so requests that
        failed together each drop the same feature once, never the next fallback too.
        """
        sent = _carried(feature, fields)
        if sent is None:
            return False
        with _CAPABILITY_LOCK:
            setattr(self, sent, False)
        return True


_CAPABILITY_LOCK = threading.Lock()  # capabilities are learnt by requests in flight on any loop or thread


def _carried(feature: str, fields: dict[str, Any]) -> str | None:
    """The capability a request carried that `feature` (a word of a 400's message) names, or None."""
    fmt = fields.get("response_format") or {}
    kind = fmt.get("type")
    if feature == "strict":
        return "strict" if (fmt.get("json_schema") or {}).get("strict") else None
    if feature in ("json_schema", "json_object"):
        return feature if kind == feature else None
    if feature == "response_format":
        return kind if kind in ("json_schema", "json_object") else None
    if feature == "stream_usage":
        return feature if "stream_options" in fields else None
    return feature if feature in fields else None


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
                max_retries=0,  # `Endpoint` retries, with the same policy for both wires
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

        with _sdk_failures():
            stream = await self._client().post(
                "/chat/completions",
                content=body,
                cast_to=object,
                options=_OPTIONS,
                stream=True,
                stream_cls=openai.AsyncStream[object],  # each event's JSON as it came: `Endpoint` checks it
            )
        try:
            async for chunk in stream:
                if not isinstance(chunk, dict):
                    raise StreamBroken(f"a streamed event is not a JSON object: {str(chunk)[:100]!r}")
                yield chunk
        except (TimeoutError, httpx2.TransportError, openai.APIError) as exc:
            raise StreamBroken(type(exc).__name__) from exc
        except (ValueError, RecursionError) as exc:  # an event that is not JSON, a byte that is not UTF-8
            raise StreamBroken(f"a streamed event is not JSON ({str(exc)[:200]})") from exc
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
        message = error_message(exc.body, str(exc.message))
        raise status_failure(exc.status_code, message, exc.response.headers) from exc
    except openai.APITimeoutError as exc:
        if refused(exc):  # the SDK's aiohttp transport reports a refused connection as a connect timeout
            raise ConnectionFailed("connection refused") from exc
        raise RequestTimedOut(str(exc)) from exc
    except openai.APIConnectionError as exc:
        raise ConnectionFailed("connection refused" if refused(exc) else str(exc.__cause__ or exc)) from exc


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
        self._encoder = RequestEncoder()
        self.log = log
        self.client = resolve_client(profile.client, batch)
        self.capabilities = Capabilities.of(profile)
        self.retry = RetryPolicy(profile.max_retries, profile.retry_backoff)
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
            urls = profile.urls
            if len(urls) > 1:  # several instances: spread and fail over (`pool`)
                self._wire = EndpointPool(
                    urls, lambda url: self._wire_for(profile.model_copy(update={"base_url": url}), key)
                )
            else:
                self._wire = self._wire_for(profile, key)
            self._semaphore = asyncio.Semaphore(self.max_in_flight)
        assert self._wire is not None and self._semaphore is not None
        return self._wire, self._semaphore

    def _wire_for(self, profile: Profile, key: str) -> Wire:
        where = f"profile {self.name!r} ({profile.base_url}, model {profile.model})"
        if self.client == "aiohttp":
            return AiohttpWire(profile.base_url, key, profile.timeout, profile.deadline, where)
        return SdkWire(profile, key, where)

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
        encoded = self._encoder.encode(request, profile.model, profile.temperature, profile.max_tokens)
        if self.cache is not None:
            cached = self.cache.lookup(
                encoded.key, f"{self.where}, role {request.role}", legacy=lambda: encoded.legacy_key
            )
            if cached is not None:
                if on_text is not None and cached.content:
                    on_text(cached.content)
                self._record(encoded, request, cached)
                return cached
        size = len(encoded.messages) + len(encoded.tools or "")
        if size > profile.max_prompt_chars:
            raise PromptTooLarge(
                f"{self.where}, role {request.role}: the prompt is {size:,} characters, above the profile's "
                f"max_prompt_chars ({profile.max_prompt_chars:,}); not sent. Shorten the dialogue or its tool "
                "results, or raise max_prompt_chars"
            )
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
            request=encoded,
        )

    async def _send_with_retries(
        self,
        wire: Wire,
        request: ChatRequest,
        encoded: EncodedRequest,
        on_text: TextFn | None,
        on_restart: Callable[[], None] | None,
    ) -> ChatResult:
        profile = self.profile
        resends = 0
        while True:
            fields = self._body(request)
            # the prompt goes out pre-encoded: the SDK's `create()` would walk every message and
            # tool schema against its TypedDicts (most of the client's CPU per request) and build
            # a pydantic model of the reply we only read as a dict
            body = encoded.body(fields, with_tools=bool(request.tools))
            try:
                return await self._attempts(wire, body, bool(fields.get("stream")), on_text, on_restart)
            except HTTPStatusFailed as exc:
                if exc.status == 400 and resends < len(_DOWNGRADES) and self._downgrade(exc.message, fields):
                    resends += 1
                    continue  # a capability was turned off; send again without it
                raise BackendError(_status_advice(self.where, exc)) from exc
            except DeadlinePassed as exc:
                raise BackendError(
                    f"{self.where}: no whole reply within the deadline of {profile.deadline:g} s "
                    f"after {profile.max_retries} retries; raise `deadline` in the profile or check the server"
                ) from exc
            except RequestTimedOut as exc:
                raise BackendError(
                    f"{self.where}: no reply within {profile.timeout:g} s after {profile.max_retries} retries; "
                    "raise `timeout` in the profile or check the server"
                ) from exc
            except ConnectionFailed as exc:
                raise BackendError(
                    f"{self.where}: cannot connect after {profile.max_retries} retries ({exc}); "
                    "check base_url and that the server is running"
                ) from exc
            except StreamBroken as exc:
                raise BackendError(
                    f"{self.where}: the reply stream broke off {profile.max_retries + 1} times ({exc}); check the server"
                ) from exc

    async def _attempts(
        self, wire: Wire, body: bytes, stream: bool, on_text: TextFn | None, on_restart: Callable[[], None] | None
    ) -> ChatResult:
        """The reply of the first attempt that succeeds, under the retry policy."""
        return await self.retry.run(lambda: self._attempt(wire, body, stream, on_text), on_restart if stream else None)

    async def _attempt(self, wire: Wire, body: bytes, stream: bool, on_text: TextFn | None) -> ChatResult:
        """One try, connect to last byte within the profile's `deadline`.

        The aiohttp wire keeps the deadline itself (its `total` timeout, no cost); the SDK's
        httpx has none, so its attempts run under `asyncio.timeout`, which costs about
        50 µs of CPU a request with many in flight.
        """
        self.requests_sent += 1
        if keeps_deadline(wire):
            return await self._stream(wire, body, on_text) if stream else self._parse(await wire.post(body))
        try:
            async with asyncio.timeout(self.profile.deadline):
                if stream:
                    return await self._stream(wire, body, on_text)
                data = await wire.post(body)
        except TimeoutError as exc:  # the deadline's own (the wires turn theirs into RequestTimedOut)
            raise DeadlinePassed(f"no whole reply within {self.profile.deadline:g} s") from exc
        return self._parse(data)

    def _downgrade(self, message: str, fields: dict[str, Any]) -> bool:
        """Turn off the capability a 400's message names, if the refused request carried it."""
        text = message.lower()
        return any(word in text and self.capabilities.drop_sent(feature, fields) for word, feature in _DOWNGRADES)

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
        """A whole reply, every field checked (`MalformedReplyError` when one does not fit)."""
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedReplyError(f"{self.where}: the reply has no choices")
        choice = choices[0]
        message = _object(choice.get("message"), "message", self.where)
        content, think = split_think(_text(message.get("content"), "message.content", self.where))
        reasoning = _text(message.get("reasoning") or message.get("reasoning_content"), "reasoning", self.where)
        calls = []
        for n, raw in enumerate(_array(message.get("tool_calls"), "message.tool_calls", self.where)):
            raw = _object(raw, f"tool_calls[{n}]", self.where)
            function = _object(raw.get("function"), f"tool_calls[{n}].function", self.where)
            name = _text(function.get("name"), f"tool_calls[{n}].function.name", self.where)
            if name:
                arguments = _arguments(function.get("arguments"), n, self.where)
                calls.append(ReplyToolCall(_optional_text(raw.get("id")), name, arguments))
        return ChatResult(
            content=content,
            reasoning=reasoning or think or None,
            tool_calls=calls,
            finish_reason=_optional_text(choice.get("finish_reason")),
            usage=_usage(data.get("usage")),
            model=_optional_text(data.get("model")),
        )

    async def _stream(self, wire: Wire, body: bytes, on_text: TextFn | None) -> ChatResult:
        think = ThinkFilter()
        text: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        usage: Any = None
        model: str | None = None
        where = self.where
        async with contextlib.aclosing(wire.stream(body)) as chunks:
            async for data in chunks:
                model = _optional_text(data.get("model")) or model
                usage = data.get("usage") or usage
                for choice in _array(data.get("choices"), "choices", where):
                    choice = _object(choice, "choices[0]", where)
                    delta = _object(choice.get("delta"), "delta", where)
                    finish = _optional_text(choice.get("finish_reason")) or finish
                    extra = _text(delta.get("reasoning") or delta.get("reasoning_content"), "delta.reasoning", where)
                    if extra:
                        reasoning.append(extra)
                    piece = _text(delta.get("content"), "delta.content", where)
                    if piece:
                        visible = think.feed(piece)
                        if visible:
                            text.append(visible)
                            if on_text is not None:
                                on_text(visible)
                    for n, call in enumerate(_array(delta.get("tool_calls"), "delta.tool_calls", where)):
                        call = _object(call, f"delta.tool_calls[{n}]", where)
                        index = call.get("index") or 0
                        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1024:
                            raise MalformedReplyError(f"{where}: a streamed tool call has index {str(index)[:40]!r}")
                        slot = calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
                        slot["id"] = _optional_text(call.get("id")) or slot["id"]
                        function = _object(call.get("function"), f"delta.tool_calls[{n}].function", where)
                        slot["name"] += _text(function.get("name"), "function.name", where)
                        slot["arguments"] += _arguments(function.get("arguments"), n, where)
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


class PromptTooLarge(BackendError):
    """A prompt above the profile's `max_prompt_chars`, refused before it is sent."""


# ---------------------------------------------------------------- reply fields, checked where they enter


def _object(value: Any, name: str, where: str) -> dict[str, Any]:
    """`value` if it is a JSON object; {} for a missing one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedReplyError(f"{where}: the reply's {name} is not an object: {str(value)[:100]!r}")
    return value


def _array(value: Any, name: str, where: str) -> list[Any]:
    """`value` if it is a JSON array; [] for a missing one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedReplyError(f"{where}: the reply's {name} is not a list: {str(value)[:100]!r}")
    return value


def _text(value: Any, name: str, where: str) -> str:
    """`value` if it is a string ("" for a missing one); a list of text parts is joined."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in value):
        return "".join(p["text"] for p in value)  # content as parts: [{"type": "text", "text": ...}]
    raise MalformedReplyError(f"{where}: the reply's {name} is not text: {str(value)[:100]!r}")


def _optional_text(value: Any) -> str | None:
    """An optional label (id, model, finish reason): kept when it is a string, else dropped."""
    return value if isinstance(value, str) else None


def _arguments(value: Any, n: int, where: str) -> str:
    """Tool-call arguments as JSON text (an object sent unencoded is encoded; the player checks the rest)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        try:
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (ValueError, RecursionError):
            pass
    raise MalformedReplyError(f"{where}: the arguments of tool call {n} are not text: {str(value)[:100]!r}")


def _count(value: Any) -> int:
    """A token count: a whole non-negative number, else 0 (usage is bookkeeping, never worth a re-ask)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return max(0, min(int(value), 2**62))


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    details = raw.get("completion_tokens_details")
    return Usage(
        prompt_tokens=_count(raw.get("prompt_tokens")),
        completion_tokens=_count(raw.get("completion_tokens")),
        reasoning_tokens=_count(details.get("reasoning_tokens")) if isinstance(details, dict) else 0,
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
