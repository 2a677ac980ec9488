"""Batch generation throughput: endpoint-bound (fake server, 200 ms per reply) and offline.

    python bench/generate_throughput.py fake [--latency 0.2] [--concurrency 1 16 64 256] [--runs 3]
    python bench/generate_throughput.py offline [--n 2000] [--runs 3]
    python bench/generate_throughput.py ray [--n 2000] [--runs 3]

`fake` starts tests/backends/fake_openai.py as its own process (so the server's
CPU is not the client's), maps every role to it, and runs `batch.generate` with
the asyncio executor at each concurrency. The ideal rate is concurrency /
(latency x requests per dialogue): every request of a dialogue waits the full
latency, one after another. Client CPU per request is this process's CPU time
over the requests served; memory per in-flight dialogue is the peak RSS growth
over the concurrency. `offline` runs the process-pool executor on every core;
`ray` the Ray executor on a local instance. Medians of --runs runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from turnloom.core.batch.executors import AsyncExecutor, ProcessExecutor, RayExecutor
from turnloom.core.batch.manifest import BatchConfig
from turnloom.core.batch.run import generate
from turnloom.core.config import Profile, TurnloomConfig

ROOT = Path(__file__).resolve().parent.parent


# the stdlib server's listen backlog is 5: hundreds of clients connecting at once overflow it
# and wait out 1 s SYN retransmits, which measures the server, not turnloom
# and a reply written in two sends (headers, then body) waits out Nagle + delayed ACK (~40 ms)
SERVER = """
import http.server, socketserver, sys
http.server.ThreadingHTTPServer.request_queue_size = 4096
socketserver.StreamRequestHandler.disable_nagle_algorithm = True
sys.path.insert(0, {folder!r})
import fake_openai
sys.argv = ["fake_openai", "--latency", {latency!r}]
fake_openai.main()
"""


def start_server(latency: float, kind: str = "fast") -> tuple[subprocess.Popen, str]:
    """The fake endpoint in its own process: `fast` (bench/fast_fake_server.py) or `threaded` (the tests' server)."""
    if kind == "fast":
        command = [sys.executable, str(ROOT / "bench/fast_fake_server.py"), "--latency", str(latency)]
    else:
        command = [sys.executable, "-c", SERVER.format(folder=str(ROOT / "tests/backends"), latency=str(latency))]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampler:
    """A stand-in progress line that notes (time, dialogues done) at each tick (every 0.25 s)."""

    def __init__(self) -> None:
        self.points: list[tuple[float, int]] = [(time.perf_counter(), 0)]

    def update(self, progress) -> None:
        self.points.append((time.perf_counter(), progress.done))

    def message(self, text: str) -> None:
        pass

    def close(self, progress) -> None:
        self.update(progress)

    def steady_rate(self, n: int) -> float:
        """Dialogues per minute between 10% and 90% done: no worker start-up, no tail of the last wave.

        The least-squares slope of done over time through every tick in that span, not the
        rate between its two ends: dialogues that started together end together, so done
        climbs in steps, and two points can fall on either side of a step.
        """
        points = [p for p in self.points if 0.1 * n <= p[1] <= 0.9 * n]
        if len(points) < 2 or points[0][0] == points[-1][0]:
            return 0.0
        times, done = zip(*points)
        return statistics.linear_regression(times, done).slope * 60


def cpu_now() -> float:
    """CPU seconds of this process and of its children reaped so far (the worker event loops)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def fake_run(
    base_url: str,
    concurrency: int,
    n: int,
    out: Path,
    server_pid: int | None = None,
    processes: int | None = None,
    record: bool = True,
) -> dict:
    from turnloom.core.cli.generate_cmd import EXCHANGE_LOG
    from turnloom.core.players.setup import BackendSetup

    settings = TurnloomConfig(
        profiles={
            "fake": Profile(
                base_url=base_url, model="fake", api_key_env=None, max_concurrency=concurrency, stream=False
            )
        }
    )
    roles = {role: "fake" for role in ("task", "user", "assistant")}
    config = BatchConfig(domain="retail", tasks=1, roles=roles, profiles={"fake": {"base_url": base_url}})
    # as `turnloom generate` does: one exchange log for the batch
    backends = BackendSetup.create(settings, record=out / EXCHANGE_LOG if record else None, batch=True)
    executor = AsyncExecutor(concurrency, backends=backends, processes=processes)
    server0 = cpu_seconds(server_pid) if server_pid else 0.0
    cpu0, t0 = cpu_now(), time.perf_counter()

    sampler = Sampler()

    async def go():
        try:
            return await generate(config, out, n, executor, handle_signals=False, progress=sampler)
        finally:
            await backends.aclose()

    report = asyncio.run(go())
    wall, cpu = time.perf_counter() - t0, cpu_now() - cpu0
    server = cpu_seconds(server_pid) - server0 if server_pid else 0.0
    if executor.processes == 1:
        requests = sum(endpoint.requests_sent for endpoint in backends.endpoints.values())
    else:  # the endpoints were the workers': count the exchange log's lines, one per request
        requests = len((out / EXCHANGE_LOG).read_bytes().splitlines())
    assert report.done == n, report
    return {
        "wall": wall,
        "steady": sampler.steady_rate(n),
        "cpu": cpu,
        "server_cpu": server,
        "requests": requests,
        "n": n,
        "loops": executor.processes,
    }


def bench_fake(args) -> None:
    proc, base_url = start_server(args.latency, args.server)
    try:
        print(
            f"fake server ({args.server}) {base_url}, latency {args.latency * 1000:.0f} ms, {os.cpu_count()} cores, "
            f"medians of {args.runs} runs"
        )
        print(
            f"{'conc':>5} {'loops':>5} {'ideal':>7} {'dlg/min':>8} {'of ideal':>8} {'steady':>7} {'of ideal':>8} "
            f"{'req/dlg':>7} {'client ms/req':>13} {'server ms/req':>13}"
        )
        for c in args.concurrency:
            n = max(8, c * args.waves)
            rows = []
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory() as tmp:
                    rows.append(fake_run(base_url, c, n, Path(tmp), proc.pid, args.processes))
            rate = statistics.median(r["n"] / r["wall"] * 60 for r in rows)
            steady = statistics.median(r["steady"] for r in rows)
            per_dialogue = statistics.median(r["requests"] / r["n"] for r in rows)
            ideal = c / (args.latency * per_dialogue) * 60
            cpu = statistics.median(r["cpu"] / r["requests"] * 1000 for r in rows)
            server = statistics.median(r["server_cpu"] / r["requests"] * 1000 for r in rows)
            print(
                f"{c:>5} {rows[0]['loops']:>5} {ideal:>7.0f} {rate:>8.0f} {rate / ideal:>8.1%} {steady:>7.0f} "
                f"{steady / ideal:>8.1%} {per_dialogue:>7.2f} {cpu:>13.2f} {server:>13.2f}",
                flush=True,
            )
    finally:
        proc.terminate()


class _NoFiles:
    """A journal that writes nothing (breakdown only: what the files cost per request)."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None


def recorded_requests(log: Path) -> list:
    """The `ChatRequest`s of an exchange log, in order, to replay."""
    from turnloom.core.endpoint.exchange import ChatRequest
    from turnloom.core.endpoint.exchange_log import read_exchanges

    return [
        ChatRequest(
            role=r["role"],
            messages=r["request"]["messages"],
            tools=r["request"]["tools"],
            schema=r["request"]["schema"],
            seed=r["request"]["seed"],
        )
        for r in read_exchanges(log)
    ]


def http_floor(base_url: str, out: Path, in_flight: int, rounds: int) -> float:
    """Client CPU ms per `Endpoint.chat` alone, replaying the batch's own requests (from its exchange log)."""
    from turnloom.core.cli.generate_cmd import EXCHANGE_LOG
    from turnloom.core.endpoint.endpoint import Endpoint

    requests = recorded_requests(out / EXCHANGE_LOG)
    endpoint = Endpoint(
        "fake",
        Profile(base_url=base_url, model="fake", api_key_env=None, max_concurrency=in_flight, stream=False),
        batch=True,
    )

    async def go() -> float:
        async def lane(start: int) -> None:
            for k in range(rounds):
                await endpoint.chat(requests[(start + k * in_flight) % len(requests)])

        await endpoint.chat(requests[0])
        cpu0 = cpu_now()
        await asyncio.gather(*(lane(i) for i in range(in_flight)))
        cpu = cpu_now() - cpu0
        await endpoint.aclose()
        return cpu / (in_flight * rounds) * 1000

    return asyncio.run(go())


def bench_breakdown(args) -> None:
    """Client CPU per request, split: whole dialogues, without journal/snapshot/log files, HTTP alone."""
    import turnloom.core.lifecycle.live_session as live_session

    proc, base_url = start_server(args.latency, args.server)
    c = args.concurrency[0]
    n = c * args.waves
    rows: dict[str, list[float]] = {"dialogues": [], "without files": [], "HTTP alone": [], "server": []}
    try:
        # warm up first (imports, the domain's pack and phrasing parser, the HTTP client), or
        # the first variant measured pays this process's one-off costs
        with tempfile.TemporaryDirectory() as tmp:
            fake_run(base_url, c, c, Path(tmp), proc.pid, processes=1)
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                full = fake_run(base_url, c, n, Path(tmp), proc.pid, processes=1)
                rows["dialogues"].append(full["cpu"] / full["requests"] * 1000)
                rows["server"].append(full["server_cpu"] / full["requests"] * 1000)
                rows["HTTP alone"].append(http_floor(base_url, Path(tmp), c, 8))
            # a batch dialogue's journal and snapshot go through its LiveSession
            saved = live_session.Journal.open, live_session.compact
            live_session.Journal.open = lambda *a, **k: _NoFiles()  # type: ignore[method-assign]
            live_session.compact = lambda *a, **k: None
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    bare = fake_run(base_url, c, n, Path(tmp), proc.pid, processes=1, record=False)
                    rows["without files"].append(bare["cpu"] / bare["requests"] * 1000)
            finally:
                live_session.Journal.open, live_session.compact = saved  # type: ignore[method-assign]
    finally:
        proc.terminate()
    print(f"client CPU per request, one event loop, {c} in flight, medians of {args.runs} runs")
    for name, values in rows.items():
        print(f"  {name:<14} {statistics.median(values):6.2f} ms")


def bench_startup(args) -> None:
    """What starting the event-loop workers costs: a one-wave batch (every dialogue at once), spawned vs forked.

    Each run is `--concurrency` dialogues over two loops, as many as request slots, so the
    batch lasts one dialogue's length (8 requests x latency) plus the workers' start-up and
    the dialogues' own work; spawned and forked runs alternate, `--runs` of each. Wall is
    `generate` from call to return; CPU is this process and its reaped workers.
    """
    proc, base_url = start_server(args.latency, args.server)
    c = args.concurrency[0]
    rows: dict[str, list[tuple[float, float]]] = {"spawn": [], "fork": []}
    try:
        for _ in range(args.runs):
            for how in ("spawn", "fork"):
                os.environ["TURNLOOM_WORKER_START"] = how
                with tempfile.TemporaryDirectory() as tmp:
                    r = fake_run(base_url, c, c, Path(tmp), proc.pid, processes=2)
                rows[how].append((r["wall"], r["cpu"]))
                print(
                    f"  {how:<5} wall {r['wall']:.2f} s  CPU {r['cpu']:.2f} s  load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    finally:
        os.environ.pop("TURNLOOM_WORKER_START", None)
        proc.terminate()
    ideal = args.latency * 8
    print(f"{c} dialogues on 2 loops, one wave (a dialogue alone: ~{ideal:.1f} s of waiting), medians of {args.runs}")
    for how, values in rows.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"  {how:<5} wall {wall:.2f} s  CPU {cpu:.2f} s")


def rss_kib() -> int:
    """This process's resident set now (not the peak), KiB."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def bench_memory(args) -> None:
    """RSS growth per in-flight dialogue: one event loop, `concurrency` dialogues held in flight by a slow server.

    Run as its own command (a fresh process). A warm-up batch of 2 dialogues loads
    every module, the session template and the HTTP clients first; the baseline is
    the RSS after it. The server answers after `--latency` (use a long one, e.g. 2 s,
    so every dialogue is in flight at once); the peak RSS during the batch minus
    the baseline, over the concurrency, is the figure.
    """
    import gc

    from turnloom.core.players.setup import BackendSetup

    proc, base_url = start_server(args.latency, args.server)
    c = args.concurrency[0]
    try:
        settings = TurnloomConfig(
            profiles={
                "fake": Profile(
                    base_url=base_url, model="fake", api_key_env=None, max_concurrency=c, stream=False, timeout=60
                )
            }
        )
        roles = {role: "fake" for role in ("task", "user", "assistant")}
        config = BatchConfig(domain="retail", tasks=1, roles=roles, profiles={"fake": {"base_url": base_url}})
        backends = BackendSetup.create(settings)

        async def go(tmp: Path) -> tuple[int, int, int]:
            await generate(
                config, tmp / "warm", 2, AsyncExecutor(2, backends=backends, processes=1), handle_signals=False
            )
            gc.collect()
            base = rss_kib()
            peak = base
            executor = AsyncExecutor(c, backends=backends, processes=1)
            job = asyncio.create_task(generate(config, tmp / "batch", c, executor, handle_signals=False))
            while not job.done():
                peak = max(peak, rss_kib())
                await asyncio.sleep(0.05)
            report = job.result()
            assert report.done == c, report
            await backends.aclose()
            return base, peak, report.done

        with tempfile.TemporaryDirectory() as tmp:
            base, peak, done = asyncio.run(go(Path(tmp)))
    finally:
        proc.terminate()
    print(
        f"{c} dialogues in flight (server latency {args.latency:g} s, one event loop): RSS {base / 1024:.1f} MiB "
        f"-> peak {peak / 1024:.1f} MiB; {(peak - base) / c:.0f} KiB per in-flight dialogue"
    )


def bench_local(args, kind: str) -> None:
    rates = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            executor = (
                ProcessExecutor(os.cpu_count() or 1) if kind == "offline" else RayExecutor(num_cpus=os.cpu_count())
            )
            t0 = time.perf_counter()
            report = asyncio.run(
                generate(BatchConfig(domain="retail", tasks=args.tasks), tmp, args.n, executor, handle_signals=False)
            )
            wall = time.perf_counter() - t0
            assert report.done == args.n
            rates.append(args.n / wall)
            print(f"  {kind}: {args.n} dialogues in {wall:.2f} s = {args.n / wall:.1f}/s", flush=True)
    print(
        f"{kind} on {os.cpu_count()} cores, tasks={args.tasks}: median {statistics.median(rates):.1f} dialogues/s "
        f"(includes worker start-up)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("fake", "breakdown", "startup", "memory", "offline", "ray"))
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument(
        "--server",
        choices=("fast", "threaded"),
        default="fast",
        help="fake: bench/fast_fake_server.py (default) or tests/backends/fake_openai.py",
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="fake: event loops for the client (default: AsyncExecutor's choice, one per core from 32 in flight)",
    )
    parser.add_argument("--waves", type=int, default=3, help="fake: dialogues per slot (n = concurrency x waves)")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.what == "fake":
        bench_fake(args)
    elif args.what == "breakdown":
        bench_breakdown(args)
    elif args.what == "startup":
        bench_startup(args)
    elif args.what == "memory":
        bench_memory(args)
    else:
        bench_local(args, args.what)


if __name__ == "__main__":
    main()
