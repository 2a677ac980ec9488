"""The HTTP under `Endpoint`: two clients that send one pre-encoded chat request and read the reply.

`Endpoint` builds the body once, parses the reply itself and owns the one retry
policy (`RetryPolicy`, on tenacity) for both clients; a wire makes a single
attempt, moves bytes and reports failures as the exceptions below, whichever
library carries the request:

- `openai`: the openai SDK (`endpoint.endpoint.SdkWire`, its own retries off) —
  the default for interactive work (`run`, the TUI, `check`, `forge`).
- `aiohttp`: `AiohttpWire`, a plain aiohttp POST. It costs about a third of the
  SDK's client CPU per request (`bench/README.md`), which is what bounds a batch
  of hundreds of dialogues in flight on a few cores, so `generate` uses it unless
  a profile says `client = "openai"`.

The retry policy is the SDK's, written out once: 408/409/429/5xx, timeouts, refused
connections and broken streams are retried; `retry-after-ms`/`Retry-After` honoured
up to 60 s, otherwise the profile's `retry_backoff` (0.5 s by default) doubling to
8 s with up to 25% jitter; `x-should-retry` obeyed.

A profile's `client` (`auto`, `openai`, `aiohttp`) picks one; `resolve_client`
says what `auto` means where.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import time
from collections.abc import AsyncGenerator
from typing import Any, Protocol

import aiohttp

from turnloom.core.endpoint.exchange import MalformedReplyError
from turnloom.core.untrusted import safe_text

INITIAL_RETRY_DELAY = 0.5  # seconds, as the openai SDK
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0  # a server asking for a longer wait is not retried


class HTTPStatusFailed(Exception):
    """The endpoint answered with an error status; `retry` says whether another try is worth it."""

    def __init__(self, status: int, message: str, retry: bool = False, wait: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.retry = retry
        self.wait = wait  # seconds the server asked to wait, if it said


def status_failure(status: int, message: str, headers: Any) -> HTTPStatusFailed:
    """The failure for an error status, with the server's say on retrying it."""
    return HTTPStatusFailed(status, message, should_retry(status, headers), retry_after(headers))


class RequestTimedOut(Exception):
    """No reply within the profile's `timeout` (between two reads)."""


class DeadlinePassed(RequestTimedOut):
    """No whole reply within the profile's `deadline` (connect to last byte), e.g. a server trickling bytes."""


class ConnectionFailed(Exception):
    """The endpoint could not be reached."""


def refused(exc: BaseException) -> bool:
    """Whether a refused connection (nothing listening at the address) is behind `exc`."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ConnectionRefusedError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


class StreamBroken(Exception):
    """A streamed body ended early, stalled or carried an error event; `Endpoint` sends it again."""


class Wire(Protocol):
    """What `Endpoint` needs from an HTTP client."""

    async def post(self, body: bytes) -> dict[str, Any]:
        """POST `body` to /chat/completions; the reply's JSON object."""
        ...

    def stream(self, body: bytes) -> AsyncGenerator[dict[str, Any]]:
        """POST `body` (a streamed request); each server-sent chunk as a dict."""
        ...

    async def aclose(self) -> None: ...


def keeps_deadline(wire: Wire) -> bool:
    """Whether `wire` ends an attempt at the profile's deadline itself (else `Endpoint` bounds it)."""
    return bool(getattr(wire, "keeps_deadline", False))


def resolve_client(client: str, batch: bool) -> str:
    """The client a profile's `client` setting means: `auto` is aiohttp in a batch, the SDK elsewhere."""
    if client == "auto":
        return "aiohttp" if batch else "openai"
    return client


def reply_object(content: bytes, where: str) -> dict[str, Any]:
    """The JSON object of a non-streamed reply.

    Raises:
        MalformedReplyError: the body is not a JSON object.
    """
    try:
        data = json.loads(content)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deeply
        raise MalformedReplyError(f"{where}: the reply is not JSON ({str(exc)[:200]})") from exc
    if not isinstance(data, dict):
        raise MalformedReplyError(f"{where}: the reply is not a JSON object")
    return data


def error_message(body: Any, fallback: str) -> str:
    """The human message of an error reply (`{"error": {"message": ...}}` or `{"message": ...}`), safe to print."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return safe_text(str(inner["message"])[:500])
        if isinstance(inner, str) and inner:
            return safe_text(inner[:500])
    return safe_text(fallback)


def retry_after(headers: Any) -> float | None:
    """Seconds the server asks to wait (`retry-after-ms`, then `Retry-After` as seconds or a date), or None."""
    for header, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return float(value) / divisor
        except ValueError:
            continue
    parsed = email.utils.parsedate_tz(headers.get("retry-after") or "")
    if parsed is None:
        return None
    return float(email.utils.mktime_tz(parsed) - time.time())


def should_retry(status: int, headers: Any) -> bool:
    """Whether an error status is worth another try (the SDK's rule)."""
    wait = retry_after(headers)
    if wait is not None and math.isfinite(wait) and wait > MAX_RETRY_AFTER:
        return False
    verdict = headers.get("x-should-retry")
    if verdict in ("true", "false"):
        return verdict == "true"
    return status in (408, 409, 429) or status >= 500


def retry_delay(attempt: int, wait: float | None, first: float = INITIAL_RETRY_DELAY) -> float:
    """Seconds before retry number `attempt + 1`: the server's wait if sane, else backoff with jitter."""
    if wait is not None and math.isfinite(wait) and 0 < wait <= MAX_RETRY_AFTER:
        return wait
    return min(first * 2.0**attempt, MAX_RETRY_DELAY) * (1 - 0.25 * random.random())


class AiohttpWire:
    """One aiohttp session per endpoint and event loop: pre-encoded POSTs, one attempt each."""

    keeps_deadline = True  # aiohttp's `total` timeout covers connect to last byte, body read included

    def __init__(self, base_url: str, key: str, timeout: float, deadline: float, where: str) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.where = where
        self.headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "turnloom",
        }
        self.timeout = timeout
        self.deadline = deadline
        # no pool limit: `Endpoint` bounds requests in flight with the profile's max_concurrency;
        # big reads so a long server-sent line (a whole tool call in one event) fits
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=deadline, sock_connect=timeout, sock_read=timeout),
            read_bufsize=2**20,
        )

    async def post(self, body: bytes) -> dict[str, Any]:
        content = await self._send(body, stream=False)
        assert isinstance(content, bytes)
        return reply_object(content, self.where)

    async def stream(self, body: bytes) -> AsyncGenerator[dict[str, Any]]:
        response = await self._send(body, stream=True)
        assert isinstance(response, aiohttp.ClientResponse)
        try:
            async for raw in response.content:
                line = raw.strip()
                if not line.startswith(b"data:"):
                    continue  # comments, event names, blank separators
                data = line[5:].strip()
                if data == b"[DONE]":
                    return
                try:
                    chunk = json.loads(data)
                except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8
                    raise StreamBroken(f"a streamed chunk is not JSON ({str(exc)[:200]})") from exc
                if not isinstance(chunk, dict) or chunk.get("error"):
                    raise StreamBroken(f"the stream carried an error: {error_message(chunk, str(chunk))[:200]}")
                yield chunk
        except TimeoutError as exc:
            if not isinstance(exc, aiohttp.ServerTimeoutError):  # the `total` timeout: the deadline
                raise DeadlinePassed(f"no whole reply within {self.deadline:g} s") from exc
            raise StreamBroken(type(exc).__name__) from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise StreamBroken(type(exc).__name__) from exc
        finally:
            response.release()

    async def _send(self, body: bytes, stream: bool) -> bytes | aiohttp.ClientResponse:
        """The reply body (or, for a stream, the open response).

        Raises:
            HTTPStatusFailed, RequestTimedOut, ConnectionFailed: the attempt failed.
        """
        try:
            response = await self.session.post(self.url, data=body, headers=self.headers)
            if response.status < 400:
                return response if stream else await response.read()
            text = await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts are asyncio's
            if not isinstance(exc, aiohttp.ServerTimeoutError):  # the `total` timeout: the deadline
                raise DeadlinePassed(f"no whole reply within {self.deadline:g} s") from exc
            raise RequestTimedOut(str(exc) or "timed out") from exc
        except aiohttp.ClientError as exc:
            raise ConnectionFailed("connection refused" if refused(exc) else str(exc) or type(exc).__name__) from exc
        try:
            detail = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            detail = None
        message = error_message(detail, text.decode("utf-8", "replace")[:300] or response.reason or "")
        raise status_failure(response.status, message, response.headers)

    async def aclose(self) -> None:
        await self.session.close()
