"""The one retry policy of both HTTP clients, on tenacity, and the pause before a re-ask.

Every try of a request is one attempt of a wire (`wire.AiohttpWire` or the SDK with
its own retries off), bounded by the profile's `deadline`; `RetryPolicy.retrying`
retries what is worth it — an error status the server says to retry (408/409/429/5xx,
`x-should-retry`), a timeout, a passed deadline, a refused connection, a broken
stream — up to the profile's `max_retries` times, waiting what the server asks
(`Retry-After`, up to 60 s) or `retry_backoff` doubling to 8 s with jitter
(`wire.retry_delay`). A malformed reply is not retried here: the player that asked
re-asks with what was wrong, after `reask_delay`, the same backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from turnloom.core.endpoint.wire import (
    ConnectionFailed,
    HTTPStatusFailed,
    RequestTimedOut,
    StreamBroken,
    retry_delay,
)

T = TypeVar("T")


def retryable(exc: BaseException) -> bool:
    """Whether a failed attempt is worth another."""
    if isinstance(exc, HTTPStatusFailed):
        return exc.retry
    return isinstance(exc, (RequestTimedOut, ConnectionFailed, StreamBroken))


class RetryPolicy:
    """How often and after how long a failed attempt is tried again (a profile's `max_retries`, `retry_backoff`)."""

    def __init__(self, max_retries: int, backoff: float) -> None:
        self.max_retries = max_retries
        self.backoff = backoff
        self._retry = retry_if_exception(retryable)

    def delay_after(self, failure: BaseException | None, retries_done: int) -> float:
        """Seconds before retry number `retries_done + 1`: the server's wait if it gave a sane one, else backoff."""
        wait = failure.wait if isinstance(failure, HTTPStatusFailed) else None
        return retry_delay(retries_done, wait, self.backoff)

    async def run(self, attempt: Callable[[], Awaitable[T]], before_retry: Callable[[], None] | None = None) -> T:
        """`attempt()`'s result, retried under the policy; `before_retry` runs before each retry.

        The first try runs outside tenacity's loop, which costs about 20 µs of CPU a request
        (a tenth of the aiohttp wire's own): nearly every request succeeds at once. The loop
        takes over at the first failure worth retrying.

        Raises:
            the last attempt's exception, when it is not worth retrying or the retries are spent.
        """
        try:
            return await attempt()
        except Exception as exc:
            if not retryable(exc) or self.max_retries == 0:
                raise
            first = exc
        await asyncio.sleep(self.delay_after(first, 0))
        if before_retry is not None:
            before_retry()
        async for trial in self.retrying(before_retry, retries_done=1):
            with trial:
                return await attempt()
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def retrying(self, before_retry: Callable[[], None] | None = None, retries_done: int = 0) -> AsyncRetrying:
        """A fresh tenacity loop for one request, `retries_done` retries already spent."""

        def wait(state: RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome is not None else None
            return self.delay_after(failure, state.attempt_number - 1 + retries_done)

        def before_sleep(_state: RetryCallState) -> None:
            if before_retry is not None:
                before_retry()

        return AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1 - retries_done),
            wait=wait,
            retry=self._retry,
            reraise=True,
            before_sleep=before_sleep if before_retry is not None else None,
        )

    def reask_delay(self, round_: int) -> float:
        """Seconds before re-ask number `round_` (1 for the first) of a malformed reply."""
        return retry_delay(max(round_ - 1, 0), None, self.backoff)

    async def before_reask(self, round_: int) -> None:
        """Wait before re-ask number `round_`, as before a retry."""
        if round_ > 0:
            await asyncio.sleep(self.reask_delay(round_))
