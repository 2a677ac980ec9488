"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

`POST /v1/chat/completions`, plain JSON or streamed SSE (chunked), with tool
calls and `response_format`. Replies come from scripts (queued per role or for
any request) or, when nothing is queued, from the "auto" mode that answers every
turnloom role plausibly (see `fake_auto`). Script entries inject faults:

    {"status": 429, "headers": {"Retry-After": "0.05"}}   an HTTP error
    {"hang": 5.0}                                         no reply for that long, then close
    {"drop": 2}                                           stream 2 chunks, then cut the connection
    {"stream_error": "overloaded"}                        a 200 stream whose first event is an error
    {"reply": {"content": ..., "tool_calls": [...], "reasoning": ..., "reasoning_field": "reasoning_content"}}
    {"body": {...}}                                       this exact JSON body (missing fields)
    {"raw": b"..."}                                       this exact body, bytes (not JSON, not UTF-8)
    {"events": [b"data: {not json", ...]}                 a 200 stream of these raw events (then [DONE])
    {"stream_body": {...}}                                a 200 stream of one event with this exact JSON
    {"trickle": 3.0}                                      the usual reply, one byte every 3 s

`reject_strict=True` answers 400 to any strict json_schema; `reject_json_schema=True` to any
json_schema response_format (json_object passes). `latency` delays every
reply. Run standalone (`python fake_openai.py --latency 0.2`) it prints its base URL.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

try:
    from fake_auto import auto_reply, role_of
except ImportError:  # imported as tests.backends.fake_openai
    from .fake_auto import auto_reply, role_of


@dataclass
class Seen:
    """One request the server received."""

    role: str
    body: dict[str, Any]
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client closing its keep-alive connections (aiohttp resets them) is not an error
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeOpenAI:
    """The server; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        latency: float = 0.0,
        reject_strict: bool = False,
        port: int = 0,
        chunk: int = 12,
        reject_json_schema: bool = False,
    ) -> None:
        self.latency = latency
        self.reject_strict = reject_strict
        self.reject_json_schema = reject_json_schema
        self.chunk = chunk
        self.requests: list[Seen] = []
        self.in_flight = 0  # requests being answered now
        self.most_in_flight = 0  # the most answered at once so far
        self._queues: dict[str | None, deque[dict[str, Any]]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def push(self, *entries: dict[str, Any], role: str | None = None) -> None:
        """Queue script entries for the next requests of `role` (any role when None)."""
        with self._lock:
            self._queues[role].extend(entries)

    def requests_of(self, role: str) -> list[Seen]:
        return [r for r in self.requests if r.role == role]

    def _next(self, role: str) -> dict[str, Any] | None:
        with self._lock:
            for key in (None, role):
                if self._queues[key]:
                    return self._queues[key].popleft()
        return None


def _usage(body: dict[str, Any], content: str, reasoning: str) -> dict[str, Any]:
    return {
        "prompt_tokens": len(json.dumps(body.get("messages"))) // 4,
        "completion_tokens": (len(content) + len(reasoning)) // 4 + 1,
        "total_tokens": 0,
        "completion_tokens_details": {"reasoning_tokens": len(reasoning) // 4},
    }


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:  # quiet
            pass

        def setup(self) -> None:
            super().setup()
            # headers and body go out in separate writes; without this, delayed ACKs add ~40 ms
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.endswith("/chat/completions"):
                return self._json(404, {"error": {"message": f"no route {self.path}"}})
            role = role_of(body)
            fake.requests.append(Seen(role, body, {k.lower(): v for k, v in self.headers.items()}))
            entry = fake._next(role) or {}
            with fake._lock:
                fake.in_flight += 1
                fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
            try:
                self._answer(body, entry)
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        def _answer(self, body: dict[str, Any], entry: dict[str, Any]) -> None:
            if fake.latency:
                time.sleep(fake.latency)
            if "status" in entry:
                message = entry.get("error", f"injected HTTP {entry['status']}")
                return self._json(
                    entry["status"], {"error": {"message": message, "type": "injected"}}, entry.get("headers")
                )
            if "hang" in entry:
                fake._stopping.wait(entry["hang"])
                self.close_connection = True
                return None
            fmt = body.get("response_format") or {}
            if fake.reject_strict and (fmt.get("json_schema") or {}).get("strict"):
                return self._json(
                    400, {"error": {"message": "response_format: 'strict' is not supported by this server"}}
                )
            if fake.reject_json_schema and fmt.get("type") == "json_schema":
                return self._json(
                    400, {"error": {"message": "response_format json_schema is not supported by this model"}}
                )
            if "body" in entry:
                return self._json(200, entry["body"])
            if "raw" in entry:
                return self._raw(200, entry["raw"])
            if "stream_error" in entry:
                return self._stream_error(entry["stream_error"])
            if "events" in entry:
                return self._raw_events(entry["events"])
            if "stream_body" in entry:
                return self._raw_events([b"data: " + json.dumps(entry["stream_body"]).encode()])
            reply = dict(auto_reply(body))
            reply.update(entry.get("reply") or {})
            if "trickle" in entry:
                return self._trickle(body, reply, entry["trickle"])
            if body.get("stream"):
                return self._stream(body, reply, entry.get("drop"))
            return self._json(200, self._completion(body, reply))

        # ------------------------------------------------------------ replies

        def _completion(self, body: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
            content, reasoning = reply.get("content") or "", reply.get("reasoning") or ""
            message: dict[str, Any] = {"role": "assistant", "content": content}
            field = reply.get("reasoning_field", "reasoning_content")
            if reasoning and field == "think":
                message["content"] = f"<think>{reasoning}</think>{content}"
            elif reasoning:
                message[field] = reasoning
            calls = reply.get("tool_calls") or []
            if calls:
                message["tool_calls"] = [
                    {
                        "id": c.get("id", f"call_{n}_{len(fake.requests)}"),
                        "type": "function",
                        "function": {"name": c["name"], "arguments": c["arguments"]},
                    }
                    for n, c in enumerate(calls)
                ]
            return {
                "id": f"chatcmpl-{len(fake.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model"),
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": _usage(body, content, reasoning),
            }

        def _stream(self, body: dict[str, Any], reply: dict[str, Any], drop: int | None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            content, reasoning = reply.get("content") or "", reply.get("reasoning") or ""
            field = reply.get("reasoning_field", "reasoning_content")
            if reasoning and field == "think":
                content, reasoning = f"<think>{reasoning}</think>{content}", ""
            deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
            deltas += [{field: reasoning[i : i + fake.chunk]} for i in range(0, len(reasoning), fake.chunk)]
            deltas += [{"content": content[i : i + fake.chunk]} for i in range(0, len(content), fake.chunk)]
            calls = reply.get("tool_calls") or []
            for n, call in enumerate(calls):
                args = call["arguments"]
                half = len(args) // 2
                deltas.append(
                    {
                        "tool_calls": [
                            {
                                "index": n,
                                "id": call.get("id", f"call_{n}_{len(fake.requests)}"),
                                "type": "function",
                                "function": {"name": call["name"], "arguments": args[:half]},
                            }
                        ]
                    }
                )
                deltas.append({"tool_calls": [{"index": n, "function": {"arguments": args[half:]}}]})
            base = {
                "id": f"chatcmpl-{len(fake.requests)}",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body.get("model"),
            }
            for count, delta in enumerate(deltas):
                if drop is not None and count >= drop:
                    self._cut()
                    return
                self._event(dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": None}]))
            self._event(
                dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "tool_calls" if calls else "stop"}])
            )
            if (body.get("stream_options") or {}).get("include_usage"):
                self._event(
                    dict(base, choices=[], usage=_usage(body, reply.get("content") or "", reply.get("reasoning") or ""))
                )
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")

        def _stream_error(self, message: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._event({"error": {"message": message, "type": "injected"}})
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")

        def _raw_events(self, events: list[bytes]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in events:
                self._write_chunk(event + b"\n\n")
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")

        def _trickle(self, body: dict[str, Any], reply: dict[str, Any], every: float) -> None:
            """The reply (plain or streamed) one byte at a time, `every` seconds apart, until done or stopped."""
            payload = json.dumps(self._completion(body, reply)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream" if body.get("stream") else "application/json")
            if body.get("stream"):
                payload = b"data: " + payload + b"\n\ndata: [DONE]\n\n"
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                for at in range(len(payload)):
                    if fake._stopping.wait(every):
                        break
                    byte = payload[at : at + 1]
                    self.wfile.write(b"1\r\n" + byte + b"\r\n" if body.get("stream") else byte)
                    self.wfile.flush()
            except OSError:  # the client gave up (its deadline)
                pass
            self.close_connection = True

        def _raw(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _event(self, data: dict[str, Any]) -> None:
            self._write_chunk(f"data: {json.dumps(data)}\n\n".encode())

        def _write_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _cut(self) -> None:
            """Drop the connection mid-body (no terminating chunk)."""
            self.wfile.flush()
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True

        def _json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="fake OpenAI-compatible server (auto mode)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    server = FakeOpenAI(latency=args.latency, port=args.port).start()
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
