"""What the quality gate costs `generate`: offline throughput with the verdict vs without.

    python bench/quality_cost.py [--n 100] [--runs 5] [--profile]
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/quality_cost.py --pass warmup|without|with [--n 100]

Runs `batch.generate` offline in this process (the `--workers 1` path: AsyncExecutor, no model)
over every built-in domain, both executions and both modes, `--n` dialogues a run: each shape
once as shipped (each dialogue's verdict settled as it ends: the named checks) and once with
the verdict step replaced by a no-op, back to back (which goes first alternates), `--runs` runs.
Times are this process's CPU seconds (the machine is shared; wall time swings with the load).
Reports dialogues per CPU second of each,
the median of the per-pair cost ratios (1 - without/with time), and the verdict step's own share
measured directly: the time `verdict.evaluate(live=True)` (the checks and the digest, as `generate`
runs them) takes over the same sessions (as dialogues never judged before: the checks' caches of texts
emptied first), over that plus generate's time without it. `--profile` prints the top of a
cProfile of the checks alone over the corpus.

`--pass` makes one pass for an instruction count, which the shared machine's load does not move:
the warm-up (one dialogue of every shape, no verdict) and then, unless `warmup`, `--n` dialogues
with or without the verdict. (with - warmup) / n and (without - warmup) / n are the instructions
per dialogue; 1 - without / with is the throughput cost, as the CPU-time runs pair it.
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
from turnloom.core.quality.checks import forget_texts, run_checks
from turnloom.core.quality.verdict import evaluate
from turnloom.core.storage.session_folder import find_sessions, read_sessions

SHAPES = [(d, e, m) for d in pack_names() for e in ("sql", "simulated") for m in ("task-oriented", "user-oriented")]


async def _no_verdict(session, backends):  # noqa: ANN001, ANN202 - stands in for quality.verdict.settle_verdict
    return None


def _one(config: BatchConfig, out: Path, per: int, verdict: bool) -> float:
    """CPU seconds of this process to generate `per` dialogues of one shape, with or without the verdict."""
    original = job.settle_verdict
    if not verdict:
        job.settle_verdict = _no_verdict  # type: ignore[assignment]
    try:
        started = time.process_time()
        asyncio.run(generate(config, out, per, AsyncExecutor(1), handle_signals=False))
        return time.process_time() - started
    finally:
        job.settle_verdict = original  # type: ignore[assignment]


def run(n: int, seed: int, first: bool) -> tuple[float, float, int, Path]:
    """One paired run: every shape generated with and without the verdict, one right after the other
    (which goes first alternates with `first`). CPU time, not wall time: the machine is shared."""
    per = max(1, n // len(SHAPES))
    root = Path(tempfile.mkdtemp(prefix="quality_cost_"))
    with_s = without_s = 0.0
    for i, (domain, execution, mode) in enumerate(SHAPES):
        config = BatchConfig(domain=domain, execution=execution, mode=mode, seed_start=seed + i * 1000)
        order = (True, False) if (i % 2 == 0) == first else (False, True)
        for verdict in order:
            spent = _one(config, root / ("with" if verdict else "without") / str(i), per, verdict)
            if verdict:
                with_s += spent
            else:
                without_s += spent
    return with_s, without_s, per * len(SHAPES), root / "without"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--pass", dest="one_pass", choices=("warmup", "without", "with"))
    args = parser.parse_args()
    if args.one_pass:
        root = Path(tempfile.mkdtemp(prefix="quality_cost_"))
        for i, (domain, execution, mode) in enumerate(SHAPES):  # imports, pack images, compiled patterns
            config = BatchConfig(domain=domain, execution=execution, mode=mode, seed_start=99_999 + i * 1000)
            _one(config, root / "warmup" / str(i), 1, verdict=False)
        if args.one_pass != "warmup":
            per = max(1, args.n // len(SHAPES))
            for i, (domain, execution, mode) in enumerate(SHAPES):
                config = BatchConfig(domain=domain, execution=execution, mode=mode, seed_start=i * 1000)
                _one(config, root / "pass" / str(i), per, verdict=args.one_pass == "with")
        return
    ratios, with_rates, without_rates, check_shares = [], [], [], []
    run(len(SHAPES), seed=99_999, first=True)  # warm-up, not counted: imports, pack images, compiled patterns
    for r in range(args.runs):
        with_s, without_s, count, folder = run(args.n, seed=r * 10_000, first=r % 2 == 0)
        with_rates.append(count / with_s)
        without_rates.append(count / without_s)
        ratios.append(1 - without_s / with_s)
        sessions = [read.session for read in read_sessions(find_sessions([str(folder)])) if read.session]
        forget_texts()  # the "with" pass judged these very dialogues: judge them as unseen
        started = time.process_time()
        for session in sessions:
            evaluate(session, live=True)  # what generate does as each dialogue ends: the checks and the digest
        verdict_s = time.process_time() - started
        check_shares.append(verdict_s / (without_s + verdict_s))
        print(
            f"run {r + 1}: {count} dialogues, with the verdict {count / with_s:.1f}/s, without {count / without_s:.1f}/s, "
            f"cost {ratios[-1]:.1%}; the verdict step alone {check_shares[-1]:.1%} of generate's time",
            flush=True,
        )
    print(
        f"median: with {statistics.median(with_rates):.1f} dialogues/s, without {statistics.median(without_rates):.1f}/s; "
        f"throughput cost {statistics.median(ratios):.1%} (paired), the verdict step alone "
        f"{statistics.median(check_shares):.1%}"
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
