"""A lean OpenAI-compatible endpoint for throughput benchmarks: asyncio, keep-alive, fixed latency.

    python bench/fast_fake_server.py [--latency 0.2] [--jitter 0] [--port 0]     prints its base URL

`tests/backends/fake_openai.py` is the test server: a thread per connection,
fault scripts, every request kept for inspection. At a thousand requests a
second its threads and per-request bookkeeping cost a large share of a 2-core
machine, so a throughput figure taken against it measures the server. This one
answers the same way (`fake_auto.auto_reply`, so dialogues are as realistic as
in the tests) from one `asyncio.Protocol` per connection: HTTP/1.1 with
keep-alive, each reply written once, `loop.call_later` for the latency (no
thread, no task per request). It serves `POST .../chat/completions` only, plain
JSON or one-shot SSE, without fault injection; usage is estimated from the body
size rather than by re-serialising the messages.

`--jitter J` draws each reply's latency uniformly from latency x [1 - J, 1 + J] (same
mean; seeded, so runs repeat). With a fixed latency, requests sent together come back
together, so a client's CPU per reply, times the replies in one burst, is added to every
round trip; a real model's replies vary in length and spread out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "backends"))
from fake_auto import auto_reply  # noqa: E402

MAX_HEADER = 64 * 1024


def completion(body: dict[str, Any], size: int, number: int) -> dict[str, Any]:
    """The chat.completion object answering `body` (a request of `size` bytes)."""
    reply = auto_reply(body)
    content = reply.get("content") or ""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    calls = reply.get("tool_calls") or []
    if calls:
        message["tool_calls"] = [
            {
                "id": f"call_{n}_{number}",
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for n, c in enumerate(calls)
        ]
    completion_tokens = len(content) // 4 + 1
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {
            "prompt_tokens": size // 4,
            "completion_tokens": completion_tokens,
            "total_tokens": size // 4 + completion_tokens,
        },
    }


def as_stream(data: dict[str, Any]) -> bytes:
    """The completion as one SSE body: a delta with everything, a finish chunk, usage, [DONE]."""
    choice = data["choices"][0]
    delta = dict(choice["message"])
    if "tool_calls" in delta:
        delta["tool_calls"] = [dict(c, index=n) for n, c in enumerate(delta["tool_calls"])]
    base = {"id": data["id"], "object": "chat.completion.chunk", "created": 0, "model": data["model"]}
    events = [
        dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": None}]),
        dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]),
        dict(base, choices=[], usage=data["usage"]),
    ]
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


class Counter:
    """Requests answered so far (the completion ids)."""

    def __init__(self) -> None:
        self.value = 0


class Connection(asyncio.Protocol):
    """One client connection: requests one after another, each answered after `latency`."""

    def __init__(self, latency: float, counter: Counter, jitter: float = 0.0, rng: random.Random | None = None) -> None:
        self.latency = latency
        self.counter = counter
        self.jitter = jitter
        self.rng = rng or random.Random(0)
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER:
                    self.transport.close()
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self.respond(head.split(" ", 2)[1] if " " in head else "", body)

    def respond(self, path: str, raw: bytes) -> None:
        if not path.endswith("/chat/completions"):
            payload = json.dumps({"error": {"message": f"no route {path}"}}).encode()
            self.loop.call_later(self.latency, self.send, 404, "application/json", payload)
            return
        self.counter.value += 1
        body = json.loads(raw or b"{}")
        data = completion(body, len(raw), self.counter.value)
        wait = self.latency * (1 + self.jitter * (2 * self.rng.random() - 1)) if self.jitter else self.latency
        if body.get("stream"):
            self.loop.call_later(wait, self.send, 200, "text/event-stream", as_stream(data))
        else:
            self.loop.call_later(wait, self.send, 200, "application/json", json.dumps(data).encode())

    def send(self, status: int, kind: str, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        reason = "OK" if status == 200 else "Not Found"
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {len(payload)}\r\n\r\n"
        self.transport.write(head.encode() + payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(latency: float, port: int = 0, ready: asyncio.Future | None = None, jitter: float = 0.0) -> None:
    """Serve on 127.0.0.1:`port` until cancelled; `ready` gets the base URL."""
    loop = asyncio.get_running_loop()
    counter = Counter()
    rng = random.Random(f"{port}:{latency}:{jitter}")
    server = await loop.create_server(
        lambda: Connection(latency, counter, jitter, rng), "127.0.0.1", port, backlog=4096
    )
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    if ready is not None:
        ready.set_result(url)
    else:
        print(url, flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="lean fake OpenAI-compatible server (auto replies, fixed latency)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--jitter", type=float, default=0.0, help="latency x [1-J, 1+J], uniform (default 0)")
    args = parser.parse_args()
    if not 0 <= args.jitter < 1:
        parser.error("--jitter must be in [0, 1)")
    try:
        asyncio.run(serve(args.latency, args.port, jitter=args.jitter))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
