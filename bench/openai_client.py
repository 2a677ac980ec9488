"""Benchmark the OpenAI backend client: CPU per request and prompt-prefix stability per role.

    .venv/bin/python bench/openai_client.py [--requests 200] [--latency 0.2] [--concurrency 16] [--dialogues 3]

1. Client-side CPU: the fake server (tests/backends/fake_openai.py) runs in a
   subprocess with a fixed latency, so this process's CPU time is the client's
   alone (SDK, httpx2, our parsing, recording off). Reported per request for a
   plain and a streamed assistant request with a 20-message history.
2. Prefix stability: 3-task user-oriented dialogues with every role on an
   in-process fake server; for each role, each request's prompt (tools, then
   messages, serialized) is compared with the previous request of the same role
   in the same dialogue: share = common prefix / prompt length. For the user
   simulator, what each request appends is broken down by piece (its own
   previous reply, the assistant's text, call lines, tool results, goal blocks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "backends"))


def history(turns: int = 10) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "# Role: assistant\nYou help customers of a shop."}]
    for n in range(turns):
        messages.append({"role": "user", "content": f"Could you look up order {n} and tell me its status, please?"})
        messages.append(
            {"role": "assistant", "content": f"Order {n} shipped on 2025-03-0{n % 9 + 1} and arrives soon."}
        )
    messages.append({"role": "user", "content": "Thanks! And the newest order?"})
    return messages


async def cpu_per_request(
    base_url: str, requests: int, concurrency: int, stream: bool, client: str
) -> dict[str, float]:
    from turnloom.core.config import Profile
    from turnloom.core.endpoint.endpoint import Endpoint
    from turnloom.core.endpoint.exchange import ChatRequest

    endpoint = Endpoint(
        "bench", Profile(base_url=base_url, model="fake", max_concurrency=concurrency, timeout=30, client=client)
    )
    tools = [
        {
            "type": "function",
            "function": {
                "name": "search_orders",
                "description": "Find orders.",
                "parameters": {"type": "object", "properties": {"limit": {"type": "integer"}}, "required": []},
            },
        }
    ]
    request = ChatRequest(role="assistant", messages=history(), tools=tools, stream=stream)
    await endpoint.chat(request)  # warm up: connection pool, SDK platform probe
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(endpoint.chat(request) for _ in range(requests)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await endpoint.aclose()
    return {"cpu_ms_per_request": 1000 * cpu / requests, "wall_s": wall, "requests_per_s": requests / wall}


def prompt_text(body: dict[str, Any]) -> str:
    parts = [json.dumps(body.get("tools") or [], sort_keys=True)]
    for m in body["messages"]:
        parts.append(f"<|{m['role']}|>{m.get('content') or ''}{json.dumps(m.get('tool_calls') or [], sort_keys=True)}")
    return "".join(parts)


def shared_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


USER_PIECES = ("own reply", "assistant text", "call lines", "tool results", "goal blocks", "markers")


def user_pieces(previous: list[dict[str, Any]], messages: list[dict[str, Any]]) -> dict[str, int]:
    """Characters a user-simulator request appends to the previous one, by piece (see SimulatorView)."""
    pieces = dict.fromkeys(USER_PIECES, 0)
    for message in messages[len(previous) :]:
        text = message.get("content") or ""
        pieces["markers"] += len(prompt_text({"messages": [dict(message, content="")]})) - len(
            prompt_text({"messages": []})
        )
        if message["role"] == "assistant":
            pieces["own reply"] += len(text)
            continue
        lines, _, blocks = text.partition("## Your") if not text.startswith("## Your") else ("", "", text[7:])
        pieces["goal blocks"] += len(blocks) + (7 if blocks else 0)
        for line in lines.splitlines(keepends=True):
            piece = (
                "call lines"
                if line.startswith("Assistant called ")
                else "tool results"
                if line.startswith("Result of ")
                else "assistant text"
            )
            pieces[piece] += len(line)
    return pieces


async def prefix_stability(
    dialogues: int,
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[dict[str, int]]]:
    from fake_openai import FakeOpenAI

    from turnloom.core.config import Profile, TurnloomConfig
    from turnloom.core.lifecycle.dialogue import create_session, open_engine
    from turnloom.core.models import ToolExecution
    from turnloom.core.players.setup import BackendSetup

    shares: dict[str, list[float]] = {}
    kept: dict[str, list[float]] = {}
    appended: list[dict[str, int]] = []
    with FakeOpenAI() as fake:
        config = TurnloomConfig(profiles={"fake": Profile(base_url=fake.base_url, model="fake")})
        for seed in range(dialogues):
            for execution in (ToolExecution.SQL, ToolExecution.SIMULATED):
                start = len(fake.requests)
                session = create_session(domain="retail", seed=seed, tasks=3, execution=execution)
                session.config.roles = {r: "fake" for r in ("task", "user", "assistant", "tool")}
                setup = BackendSetup.create(config)
                await open_engine(session, backends=setup).run()
                await setup.aclose()
                previous: dict[str, dict[str, Any]] = {}
                for seen in fake.requests[start:]:
                    text = prompt_text(seen.body)
                    if seen.role in previous:
                        before = prompt_text(previous[seen.role])
                        common = shared_prefix(before, text)
                        shares.setdefault(seen.role, []).append(common / len(text))
                        kept.setdefault(seen.role, []).append(common / len(before))
                        if seen.role == "user" and common == len(before):
                            pieces = user_pieces(previous["user"]["messages"], seen.body["messages"])
                            assert sum(pieces.values()) == len(text) - common, (
                                "the pieces miss part of what was appended"
                            )
                            appended.append(
                                dict(
                                    pieces,
                                    prompt=len(text),
                                    system=len(seen.body["messages"][0]["content"]),
                                    first_goal=len(seen.body["messages"][1]["content"]),
                                )
                            )
                    previous[seen.role] = seen.body
    return shares, kept, appended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--dialogues", type=int, default=3)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "backends" / "fake_openai.py"), "--latency", str(args.latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        for client, stream in (("openai", False), ("openai", True), ("aiohttp", False), ("aiohttp", True)):
            result = asyncio.run(cpu_per_request(base_url, args.requests, args.concurrency, stream, client))
            print(
                f"client CPU, {client:<7} {'streamed' if stream else 'plain':<8}: {result['cpu_ms_per_request']:.2f} ms/request "
                f"({args.requests} requests, {args.concurrency} in flight, server latency {args.latency:g} s, "
                f"{result['requests_per_s']:.1f} req/s)"
            )
    finally:
        server.terminate()
        server.wait()
    shares, kept, appended = asyncio.run(prefix_stability(args.dialogues))
    print(f"prefix stability ({args.dialogues} seeds x sql/simulated, 3 tasks each; after each role's first request)")
    print("  share = common prefix / this prompt; kept = common prefix / previous prompt")
    for role, values in sorted(shares.items()):
        print(
            f"  {role:<10} share mean {100 * statistics.mean(values):5.1f}%  min {100 * min(values):5.1f}%  "
            f"kept mean {100 * statistics.mean(kept[role]):5.1f}%  min {100 * min(kept[role]):5.1f}%  n={len(values)}"
        )
    if appended:
        mean = {key: statistics.mean(row[key] for row in appended) for key in appended[0]}
        total = sum(mean[piece] for piece in USER_PIECES)
        print(
            f"user simulator, mean chars per request: prompt {mean['prompt']:.0f} (system prompt {mean['system']:.0f}, "
            f"first goal block with rules {mean['first_goal']:.0f}); appended {total:.0f} ="
        )
        print("  " + " + ".join(f"{piece} {mean[piece]:.0f}" for piece in USER_PIECES))


if __name__ == "__main__":
    main()
