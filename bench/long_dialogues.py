"""Per-message cost of a long offline dialogue on the batch path (issue 19, item 5).

    python bench/long_dialogues.py [--runs 5] [--lengths 100,1000] [--execution sql]

Each run makes one offline retail dialogue (many tasks chained, capped at the
length) exactly as `turnloom generate` does: the journal written as each message
commits, the quality verdict when it ends, the snapshot saved. Reports the median
wall time per committed message for each length; the 1,000-message figure must stay
within 20 % of the 100-message one. The process is pinned to one core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from turnloom.core.batch.job import DialogueJob, SessionFactory, run_dialogue
from turnloom.core.batch.manifest import BatchConfig


def one_dialogue_us(length: int, execution: str, seed: int, folder: Path) -> tuple[float, int]:
    """Microseconds per committed message of one batch dialogue capped at `length`, and its length."""
    config = BatchConfig(domain="retail", execution=execution, tasks=10_000, max_messages=length, seed_start=seed)
    factory = SessionFactory(config)
    factory.new(seed)  # build the derived toolset outside the timing, as a batch does once per worker
    path = folder / f"seed-{seed:07d}-{length}.session.json"
    started = time.perf_counter()
    outcome = asyncio.run(run_dialogue(DialogueJob(0, seed, str(path)), factory))
    elapsed = time.perf_counter() - started
    assert outcome.error is None, outcome.error
    return elapsed / outcome.messages * 1e6, outcome.messages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lengths", default="100,1000")
    parser.add_argument("--execution", default="sql", choices=("sql", "simulated"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    lengths = [int(part) for part in args.lengths.split(",")]
    medians = {}
    with tempfile.TemporaryDirectory() as folder:
        for length in lengths:
            runs = [one_dialogue_us(length, args.execution, seed, Path(folder)) for seed in range(args.runs)]
            medians[length] = statistics.median(us for us, _ in runs)
            sizes = ", ".join(str(n) for _, n in runs)
            print(
                f"{length:>5}-message cap ({args.execution}): median {medians[length]:7.1f} µs/message "
                f"over {args.runs} runs (messages: {sizes})"
            )
    base = medians[lengths[0]]
    for length in lengths[1:]:
        print(f"{length} vs {lengths[0]}: {medians[length] / base:.2f}x per message")


if __name__ == "__main__":
    main()
