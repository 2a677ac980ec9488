"""Several endpoints behind one profile (`base_urls`): throughput at 256 in flight, and a kill mid-batch.

    python bench/endpoint_pool.py [--endpoints 4] [--concurrency 256] [--waves 8] [--latency 0.2] [--runs 3]

Starts `--endpoints` copies of bench/fast_fake_server.py (each its own process, a fixed
latency per reply), maps the task, user and assistant roles to one profile whose
`base_urls` lists them all, and runs `batch.generate` with the asyncio executor as
`turnloom generate` does (exchange log included) at `--concurrency` requests in flight.
Ideal = concurrency / (latency x requests per dialogue), as bench/generate_throughput.py.
Then the same batch again with one endpoint killed (SIGKILL) once a quarter of the
dialogues are done: every dialogue must finish, each seed exactly once. Medians of --runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_throughput import Sampler, start_server  # noqa: E402

from turnloom.core.batch.executors import AsyncExecutor  # noqa: E402
from turnloom.core.batch.manifest import BatchConfig, DialogueStatus, load_manifest  # noqa: E402
from turnloom.core.batch.run import generate  # noqa: E402
from turnloom.core.config import Profile, TurnloomConfig  # noqa: E402
from turnloom.core.storage.journal import load_session  # noqa: E402

EXCHANGE_LOG = "exchanges.llm.jsonl"


class KillAt(Sampler):
    """The progress sampler, which also kills one server once `at` dialogues are done."""

    def __init__(self, victim, at: int) -> None:
        super().__init__()
        self.victim, self.at, self.killed_at = victim, at, None

    def update(self, progress) -> None:
        super().update(progress)
        if self.victim is not None and self.killed_at is None and progress.done >= self.at:
            self.victim.kill()
            self.killed_at = progress.done


def run_batch(urls: list[str], concurrency: int, n: int, out: Path, victim=None) -> dict:
    from turnloom.core.players.setup import BackendSetup

    profile = Profile(base_urls=urls, model="fake", max_concurrency=concurrency, stream=False, timeout=5)
    settings = TurnloomConfig(profiles={"fake": profile})
    roles = {role: "fake" for role in ("task", "user", "assistant")}
    config = BatchConfig(domain="retail", tasks=1, roles=roles, profiles={"fake": {"base_url": urls[0]}})
    backends = BackendSetup.create(settings, record=out / EXCHANGE_LOG, batch=True)
    executor = AsyncExecutor(concurrency, backends=backends)
    sampler = KillAt(victim, n // 4)

    async def go():
        try:
            return await generate(config, out, n, executor, handle_signals=False, progress=sampler)
        finally:
            await backends.aclose()

    started = time.perf_counter()
    report = asyncio.run(go())
    wall = time.perf_counter() - started
    requests = len((out / EXCHANGE_LOG).read_bytes().splitlines())
    manifest = load_manifest(out)
    seeds = Counter(entry.seed for entry in manifest.dialogues)
    finished = sum(
        1
        for entry in manifest.dialogues
        if entry.status is DialogueStatus.DONE and load_session(out / entry.file).finish_reason is not None
    )
    keys = Counter(json.loads(line)["key"] for line in (out / EXCHANGE_LOG).read_text().splitlines())
    return {
        "wall": wall,
        "steady": sampler.steady_rate(n),
        "requests": requests,
        "n": n,
        "done": report.done,
        "failed": report.failed,
        "finished": finished,
        "each_once": all(count == 1 for count in seeds.values()) and len(seeds) == n,
        "sessions": len(list(out.glob("seed-*.session.json"))),
        "killed_at": sampler.killed_at,
        "repeated_requests": sum(1 for count in keys.values() if count > 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--waves", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-kill", action="store_true")
    args = parser.parse_args()
    n = args.concurrency * args.waves
    print(
        f"{args.endpoints} fake endpoints, latency {args.latency * 1000:.0f} ms, {os.cpu_count()} cores, "
        f"{args.concurrency} in flight, {n} dialogues, medians of {args.runs} runs"
    )
    for kill in (False, True) if not args.no_kill else (False,):
        rows = []
        for _ in range(args.runs):
            servers = [start_server(args.latency) for _ in range(args.endpoints)]
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    victim = servers[-1][0] if kill else None
                    rows.append(run_batch([url for _, url in servers], args.concurrency, n, Path(tmp), victim))
            finally:
                for proc, _ in servers:
                    proc.kill()
                    proc.wait()
        per_dialogue = statistics.median(r["requests"] / r["n"] for r in rows)
        ideal = args.concurrency / (args.latency * per_dialogue) * 60
        rate = statistics.median(r["n"] / r["wall"] * 60 for r in rows)
        steady = statistics.median(r["steady"] for r in rows)
        label = "one killed at 1/4" if kill else "all up"
        print(
            f"{label:<18} ideal {ideal:,.0f} dlg/min · whole batch {rate:,.0f} ({rate / ideal:.1%}) · "
            f"steady {steady:,.0f} ({steady / ideal:.1%}) · {per_dialogue:.2f} req/dlg"
        )
        for r in rows:
            print(
                f"  run: done {r['done']}/{r['n']}, finished sessions {r['finished']}, files {r['sessions']}, "
                f"each seed once {r['each_once']}, failed {r['failed']}, killed at {r['killed_at']}"
            )


if __name__ == "__main__":
    main()
