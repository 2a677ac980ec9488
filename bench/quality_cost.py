"""What the quality gate costs `generate`: offline throughput with the verdict vs without.

    python bench/quality_cost.py [--n 60] [--runs 5] [--profile]

Runs `batch.generate` offline in this process (the `--workers 1` path: AsyncExecutor, no model)
over every built-in domain, both executions and both modes, `--n` dialogues each time, once as
shipped (each dialogue's verdict settled as it ends: the named checks) and once with the
verdict step replaced by a no-op, back to back, `--runs` times. Reports dialogues/s of each,
the median of the per-pair cost ratios (1 - with/without), and the checks' own share measured
directly: the time `run_checks` takes over the same sessions. `--profile` prints the top of a
cProfile of the checks alone over the corpus.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from turnloom.core.batch import job
from turnloom.core.batch.executors import AsyncExecutor
from turnloom.core.batch.manifest import BatchConfig
from turnloom.core.batch.run import generate
from turnloom.core.domains import pack_names
from turnloom.core.quality.checks import run_checks
from turnloom.core.storage.session_folder import find_sessions, read_sessions

SHAPES = [(d, e, m) for d in pack_names() for e in ("sql", "simulated") for m in ("task-oriented", "user-oriented")]


async def _no_verdict(session, backends):  # noqa: ANN001, ANN202 - stands in for quality.verdict.settle_verdict
    return None


def _batch(n: int, out: Path, seed: int) -> float:
    """Seconds to generate n dialogues spread over every shape (the folder kept for reading back)."""
    per = max(1, n // len(SHAPES))
    started = time.perf_counter()
    for i, (domain, execution, mode) in enumerate(SHAPES):
        config = BatchConfig(domain=domain, execution=execution, mode=mode, seed_start=seed + i * 1000)
        asyncio.run(generate(config, out / f"{i}", per, AsyncExecutor(1), handle_signals=False))
    return time.perf_counter() - started


def run(n: int, verdict: bool, seed: int) -> tuple[float, int, Path]:
    original = job.settle_verdict
    if not verdict:
        job.settle_verdict = _no_verdict  # type: ignore[assignment]
    try:
        folder = Path(tempfile.mkdtemp(prefix="quality_cost_"))
        seconds = _batch(n, folder, seed)
    finally:
        job.settle_verdict = original  # type: ignore[assignment]
    count = max(1, n // len(SHAPES)) * len(SHAPES)
    return seconds, count, folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    ratios, with_rates, without_rates, check_shares = [], [], [], []
    for r in range(args.runs):
        # alternate which goes first, so a slow spell on the shared machine hits both sides
        order = (True, False) if r % 2 == 0 else (False, True)
        results = {verdict: run(args.n, verdict, seed=r * 10_000) for verdict in order}
        (with_s, count, folder), (without_s, _, _) = results[True], results[False]
        with_rates.append(count / with_s)
        without_rates.append(count / without_s)
        ratios.append(1 - without_s / with_s)
        sessions = [read.session for read in read_sessions(find_sessions([str(folder)])) if read.session]
        started = time.perf_counter()
        for session in sessions:
            run_checks(session)
        check_shares.append((time.perf_counter() - started) / without_s)
        print(
            f"run {r + 1}: {count} dialogues, with the verdict {count / with_s:.1f}/s, without {count / without_s:.1f}/s, "
            f"cost {ratios[-1]:.1%}; the checks alone {check_shares[-1]:.1%} of generate's time",
            flush=True,
        )
    print(
        f"median: with {statistics.median(with_rates):.1f} dialogues/s, without {statistics.median(without_rates):.1f}/s; "
        f"throughput cost {statistics.median(ratios):.1%} (paired), checks alone {statistics.median(check_shares):.1%}"
    )
    if args.profile:
        sessions = [read.session for read in read_sessions(find_sessions([str(folder)])) if read.session]
        profiler = cProfile.Profile()
        profiler.enable()
        for session in sessions:
            run_checks(session)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
