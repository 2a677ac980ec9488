"""Several endpoints behind one profile (`base_urls = [...]`): requests spread by load, failures routed around.

`EndpointPool` is a `wire.Wire` over one wire per URL, so `Endpoint` (its retries,
capabilities, parsing) works on it unchanged:

- Load: each request goes to the healthy URL with the fewest requests in flight (ties
  in turn), so a slower server gets fewer.
- Failure: a request that cannot connect, times out, gets a 5xx or whose stream breaks
  takes its URL out of rotation for `cooldown` seconds (doubling while it keeps failing,
  up to `MAX_COOLDOWN`) and is sent to another URL at once, so the batch loses nothing.
  A 429 sends it elsewhere without taking the URL out. When no URL is healthy the one
  whose time out ends first is tried. A URL that answers again is back in rotation.
- A stream that broke after its first chunk is not re-sent here (its text was already
  shown): the error goes up and `Endpoint` restarts it, on another URL.
- What stays up to `Endpoint`: requests in flight in all (`max_concurrency`), the retry
  policy once every URL has failed a request.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

from turnloom.core.endpoint.wire import ConnectionFailed, HTTPStatusFailed, RequestTimedOut, StreamBroken, Wire

FIRST_COOLDOWN = 2.0  # seconds a failing URL stays out of rotation, doubling while it keeps failing
MAX_COOLDOWN = 60.0


@dataclass
class Member:
    """One URL of the pool with its wire, its load and its health."""

    url: str
    wire: Wire
    in_flight: int = 0
    sent: int = 0
    failures: int = 0  # failures in a row
    out_until: float = 0.0  # monotonic time before which it is out of rotation
    order: int = field(default=0)

    def healthy(self, now: float) -> bool:
        return self.out_until <= now


def takes_out(exc: BaseException) -> bool:
    """Whether a failure says the URL is unwell (not merely busy, nor the request's own fault)."""
    if isinstance(exc, HTTPStatusFailed):
        return exc.status >= 500
    return isinstance(exc, (ConnectionFailed, RequestTimedOut, StreamBroken))


def reroutes(exc: BaseException) -> bool:
    """Whether another URL may answer where this one failed (unwell, or busy with a 429)."""
    return takes_out(exc) or (isinstance(exc, HTTPStatusFailed) and exc.status == 429)


class EndpointPool:
    """A `Wire` spreading requests over several URLs of one profile."""

    def __init__(
        self,
        urls: list[str],
        make_wire: Callable[[str], Wire],
        cooldown: float = FIRST_COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("an endpoint pool needs at least one URL")
        self.members = [Member(url, make_wire(url), order=i) for i, url in enumerate(urls)]
        self.cooldown = cooldown
        self.clock = clock
        self._turn = itertools.count()
        # a wire that bounds each attempt by the deadline itself does so for every URL
        self.keeps_deadline = all(getattr(m.wire, "keeps_deadline", False) for m in self.members)

    # ------------------------------------------------------------ choosing

    def pick(self, tried: set[int]) -> Member | None:
        """The member to send to: healthy and least loaded, else the one back soonest; None when all were tried."""
        now = self.clock()
        left = [m for m in self.members if m.order not in tried]
        if not left:
            return None
        healthy = [m for m in left if m.healthy(now)]
        if not healthy:
            return min(left, key=lambda m: m.out_until)
        turn = next(self._turn)
        size = len(self.members)
        return min(healthy, key=lambda m: (m.in_flight, (m.order - turn) % size))

    def _failed(self, member: Member, exc: BaseException) -> None:
        if takes_out(exc):
            member.failures += 1
            pause = min(self.cooldown * 2 ** (member.failures - 1), MAX_COOLDOWN)
            member.out_until = self.clock() + pause

    @staticmethod
    def _answered(member: Member) -> None:
        member.failures = 0
        member.out_until = 0.0

    # ------------------------------------------------------------ the wire

    async def post(self, body: bytes) -> dict[str, Any]:
        tried: set[int] = set()
        while True:
            member = self.pick(tried)
            assert member is not None  # the loop raises before every member was tried
            tried.add(member.order)
            member.in_flight += 1
            member.sent += 1
            try:
                reply = await member.wire.post(body)
            except Exception as exc:
                self._failed(member, exc)
                if reroutes(exc) and len(tried) < len(self.members):
                    continue
                raise
            finally:
                member.in_flight -= 1
            self._answered(member)
            return reply

    async def stream(self, body: bytes) -> AsyncGenerator[dict[str, Any]]:
        tried: set[int] = set()
        while True:
            member = self.pick(tried)
            assert member is not None
            tried.add(member.order)
            member.in_flight += 1
            member.sent += 1
            started = False
            try:
                async for chunk in member.wire.stream(body):
                    started = True
                    yield chunk
            except Exception as exc:
                self._failed(member, exc)
                if not started and reroutes(exc) and len(tried) < len(self.members):
                    continue
                raise
            finally:
                member.in_flight -= 1
            self._answered(member)
            return

    async def aclose(self) -> None:
        for member in self.members:
            await member.wire.aclose()

    def state(self) -> list[dict[str, Any]]:
        """Per URL: requests sent, in flight, failures in a row and whether it is in rotation now."""
        now = self.clock()
        return [
            {"url": m.url, "sent": m.sent, "in_flight": m.in_flight, "failures": m.failures, "healthy": m.healthy(now)}
            for m in self.members
        ]
