"""Several endpoints behind one profile (`base_urls`): throughput at 256 in flight, and a kill mid-batch.

    python bench/endpoint_pool.py [--endpoints 4] [--concurrency 256] [--waves 8] [--latency 0.2] [--runs 3]

Starts `--endpoints` copies of bench/fast_fake_server.py (each its own process, a fixed
latency per reply), maps the task, user and assistant roles to one profile whose
`base_urls` lists them all, and runs `batch.generate` with the asyncio executor as
`turnloom generate` does (exchange log included) at `--concurrency` requests in flight.
Ideal = concurrency / (latency x requests per dialogue), as bench/generate_throughput.py.
Then the same batch again with one endpoint killed (SIGKILL) once a quarter of the
dialogues are done: every dialogue must finish, each seed exactly once. Medians of --runs.
Each batch line also says how much CPU the client and the servers used per second of
wall time: at 200 ms per reply and 256 in flight the client needs ~1,280 requests/s x its
CPU per request, more than this loaded 2-core machine gives it.

    python bench/endpoint_pool.py --pool-only [--endpoints 4] [--concurrency 256] [--rounds 20] [--jitter J]

isolates the pool from the dialogues: `--concurrency` lanes send requests one after another
for `--rounds` x latency seconds through one `Endpoint` (the profile listing every URL, as
generate uses it: its semaphore, encoding, the pool, the aiohttp wire, reply parsing),
replaying the requests of a small batch run first; the rate is the slope of replies over
time in the middle 60 % of that time. Ideal = concurrency / latency requests per second.
Printed for the pool over `--endpoints` servers and for one server alone, with how many
requests each URL took.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_throughput import ROOT, Sampler, cpu_now, cpu_seconds, recorded_requests  # noqa: E402

from turnloom.core.batch.executors import AsyncExecutor  # noqa: E402
from turnloom.core.batch.manifest import BatchConfig, DialogueStatus, load_manifest  # noqa: E402
from turnloom.core.batch.run import generate  # noqa: E402
from turnloom.core.config import Profile, TurnloomConfig  # noqa: E402
from turnloom.core.storage.journal import load_session  # noqa: E402

EXCHANGE_LOG = "exchanges.llm.jsonl"


def start_server(latency: float, jitter: float = 0.0) -> tuple[subprocess.Popen, str]:
    """bench/fast_fake_server.py in its own process, and its base URL."""
    command = [sys.executable, str(ROOT / "bench/fast_fake_server.py"), "--latency", str(latency)]
    proc = subprocess.Popen([*command, "--jitter", str(jitter)], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


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


def run_batch(
    urls: list[str], concurrency: int, n: int, out: Path, victim=None, servers=(), processes: int | None = None
) -> dict:
    from turnloom.core.players.setup import BackendSetup

    profile = Profile(base_urls=urls, model="fake", max_concurrency=concurrency, stream=False, timeout=5)
    settings = TurnloomConfig(profiles={"fake": profile})
    roles = {role: "fake" for role in ("task", "user", "assistant")}
    config = BatchConfig(domain="retail", tasks=1, roles=roles, profiles={"fake": {"base_url": urls[0]}})
    backends = BackendSetup.create(settings, record=out / EXCHANGE_LOG, batch=True)
    executor = AsyncExecutor(concurrency, backends=backends, processes=processes)
    sampler = KillAt(victim, n // 4)

    async def go():
        try:
            return await generate(config, out, n, executor, handle_signals=False, progress=sampler)
        finally:
            await backends.aclose()

    server0 = sum(cpu_seconds(pid) for pid in servers)
    cpu0, started = cpu_now(), time.perf_counter()
    report = asyncio.run(go())
    wall, cpu = time.perf_counter() - started, cpu_now() - cpu0
    # a killed server's CPU is gone with it: count the survivors' (the victim's share is missing)
    server = sum(cpu_seconds(pid) for pid in servers if os.path.exists(f"/proc/{pid}")) - server0
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
        "cpu": cpu,
        "server_cpu": server,
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


def batch_requests(urls: list[str]) -> list:
    """The requests of a small batch (every role, every step of a dialogue), to replay."""
    with tempfile.TemporaryDirectory() as tmp:
        run_batch(urls, 32, 64, Path(tmp))
        return recorded_requests(Path(tmp) / EXCHANGE_LOG)


def pool_only(urls: list[str], requests: list, concurrency: int, seconds: float) -> dict:
    """`concurrency` lanes sending requests one after another through one Endpoint over `urls` for `seconds`.

    The rate is taken in the middle 60 % of that time: no connecting at the start, no lanes
    left waiting on a last slow reply at the end.
    """
    from turnloom.core.endpoint.endpoint import Endpoint
    from turnloom.core.endpoint.pool import EndpointPool

    profile = Profile(base_urls=urls, model="fake", max_concurrency=concurrency, stream=False, timeout=5)
    endpoint = Endpoint("fake", profile, batch=True)
    answered: list[float] = []

    async def go() -> dict:
        started = time.perf_counter()
        until = started + seconds

        async def lane(start: int) -> None:
            k = 0
            while time.perf_counter() < until:
                await endpoint.chat(requests[(start + k * concurrency) % len(requests)])
                answered.append(time.perf_counter())
                k += 1

        cpu0 = cpu_now()
        await asyncio.gather(*(lane(i) for i in range(concurrency)))
        cpu = cpu_now() - cpu0
        wire = endpoint._wire
        spread = [m["sent"] for m in wire.state()] if isinstance(wire, EndpointPool) else [len(answered)]
        await endpoint.aclose()
        # the slope of replies over time, not a count in a window: with a fixed latency they come
        # in bursts, and a window holds a whole number of them whatever the period
        low, high = started + 0.2 * seconds, started + 0.8 * seconds
        middle = [(t, n) for n, t in enumerate(sorted(answered)) if low <= t < high]
        rate = statistics.linear_regression(*zip(*middle)).slope
        return {"rate": rate, "cpu": cpu / len(answered), "spread": spread, "wall": seconds}

    return asyncio.run(go())


def bench_pool_only(args) -> None:
    seconds = args.rounds * args.latency
    ideal = args.concurrency / args.latency
    print(
        f"pool alone: {args.concurrency} lanes for {seconds:g} s, latency {args.latency * 1000:.0f} ms "
        f"(jitter {args.jitter:.0%}), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
        f"medians of {args.runs} runs; ideal {ideal:,.0f} requests/s"
    )
    for count in (args.endpoints, 1):
        rows = []
        for _ in range(args.runs):
            servers = [start_server(args.latency, args.jitter) for _ in range(count)]
            try:
                urls = [url for _, url in servers]
                requests = batch_requests(urls)
                server0 = sum(cpu_seconds(proc.pid) for proc, _ in servers)
                rows.append(pool_only(urls, requests, args.concurrency, seconds))
                rows[-1]["server_cpu"] = sum(cpu_seconds(proc.pid) for proc, _ in servers) - server0
            finally:
                for proc, _ in servers:
                    proc.kill()
                    proc.wait()
        rate = statistics.median(r["rate"] for r in rows)
        cpu = statistics.median(r["cpu"] * 1000 for r in rows)
        server = statistics.median(r["server_cpu"] / r["wall"] for r in rows)
        print(
            f"{count} endpoint{'s' if count > 1 else ' '} {rate:>8,.0f} requests/s ({rate / ideal:.1%} of ideal) · "
            f"client {cpu:.2f} ms CPU/request · servers {server:.2f} cores · sent per URL {rows[0]['spread']}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--waves", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--jitter", type=float, default=0.0, help="each reply's latency x [1-J, 1+J] (same mean)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--processes", type=int, default=None, help="event loops (default: as generate picks)")
    parser.add_argument("--pool-only", action="store_true", help="requests through the pool alone, no dialogues")
    parser.add_argument("--rounds", type=int, default=20, help="--pool-only: run for this many latencies")
    args = parser.parse_args()
    if args.pool_only:
        bench_pool_only(args)
        return
    n = args.concurrency * args.waves
    print(
        f"{args.endpoints} fake endpoints, latency {args.latency * 1000:.0f} ms (jitter {args.jitter:.0%}), "
        f"{os.cpu_count()} cores, "
        f"{args.concurrency} in flight, {n} dialogues, medians of {args.runs} runs"
    )
    for kill in (False, True) if not args.no_kill else (False,):
        rows = []
        for _ in range(args.runs):
            servers = [start_server(args.latency, args.jitter) for _ in range(args.endpoints)]
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    victim = servers[-1][0] if kill else None
                    urls = [url for _, url in servers]
                    pids = [proc.pid for proc, _ in servers] if not kill else []
                    rows.append(run_batch(urls, args.concurrency, n, Path(tmp), victim, pids, args.processes))
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
        if not kill:  # CPU the batch needed per second of wall time, against the cores there are
            client = statistics.median(r["cpu"] / r["wall"] for r in rows)
            server = statistics.median(r["server_cpu"] / r["wall"] for r in rows)
            per_request = statistics.median(r["cpu"] / r["requests"] * 1000 for r in rows)
            print(
                f"{'':<18} CPU: client {client:.2f} cores ({per_request:.2f} ms/request) · servers {server:.2f} "
                f"cores · {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
            )
        for r in rows:
            print(
                f"  run: done {r['done']}/{r['n']}, finished sessions {r['finished']}, files {r['sessions']}, "
                f"each seed once {r['each_once']}, failed {r['failed']}, killed at {r['killed_at']}"
            )


if __name__ == "__main__":
    main()
