"""Headless offline throughput, SQL execution included, on one core.

    python bench/throughput.py [--repeats 5] [--rate-only]

Reports committed messages per second over many 3-task dialogues, and the
per-message cost of dialogues capped at 10, 100 and 1,000 messages (long
dialogues chain many tasks): it must stay flat as transcripts grow.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import FinishReason


async def _drive(session) -> int:
    engine = open_engine(session)
    await engine.run()
    engine.environment.close()
    return len(session.messages)


def messages_per_second(seeds: int) -> tuple[float, float, float, float]:
    """Committed messages per wall second of the engine's steps (session creation not timed, as
    the figure always was) and with each session's creation timed too (what `generate` pays per
    dialogue); then CPU µs of this process per message, steps only and creation included (less
    sensitive to the shared machine's load than wall time)."""
    started, cpu = time.perf_counter(), time.process_time()
    sessions = [create_session(d, seed=s, tasks=3) for d in pack_names() for s in range(seeds)]
    created, created_cpu = time.perf_counter(), time.process_time()
    total = sum(asyncio.run(_drive(s)) for s in sessions)
    ended, ended_cpu = time.perf_counter(), time.process_time()
    return (
        total / (ended - created),
        total / (ended - started),
        (ended_cpu - created_cpu) / total * 1e6,
        (ended_cpu - cpu) / total * 1e6,
    )


def per_message_us(length: int, dialogues: int) -> float:
    costs = []
    for seed in range(dialogues):
        for domain in pack_names():
            session = create_session(domain, seed=seed, tasks=10_000, max_messages=length)
            started = time.perf_counter()
            count = asyncio.run(_drive(session))
            elapsed = time.perf_counter() - started
            assert session.finish_reason in (FinishReason.MAX_MESSAGES, FinishReason.USER_DONE)
            costs.append(elapsed / count * 1e6)
    return statistics.median(costs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rate-only", action="store_true", help="only committed messages/s (no long dialogues)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    messages_per_second(seeds=1)  # warm-up, not counted: imports, pack images, compiled patterns
    runs = [messages_per_second(seeds=8) for _ in range(args.repeats)]
    rates, with_creation, cpu, cpu_with_creation = ([run[i] for run in runs] for i in range(4))
    print(
        f"committed messages/s on one core: median {statistics.median(rates):,.0f} "
        f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}); with session creation "
        f"{statistics.median(with_creation):,.0f}; load average {os.getloadavg()[0]:.1f}\n"
        f"CPU per message: median {statistics.median(cpu):.0f} µs (= {1e6 / statistics.median(cpu):,.0f} "
        f"msg/CPU-s); with session creation {statistics.median(cpu_with_creation):.0f} µs "
        f"(= {1e6 / statistics.median(cpu_with_creation):,.0f} msg/CPU-s)"
    )
    if args.rate_only:
        return
    for length, dialogues in ((10, 20), (100, 4), (1000, 1), (3000, 1)):
        runs = [per_message_us(length, dialogues) for _ in range(args.repeats)]
        print(f"per-message cost, {length:>5}-message dialogues: median {statistics.median(runs):7.1f} µs")


if __name__ == "__main__":
    main()
