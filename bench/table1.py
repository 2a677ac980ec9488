"""Table 1 statistics of offline dialogues: user-oriented vs task-oriented on the same seeds.

    python bench/table1.py [--seeds 20] [--tasks 3]

Counts as the paper does: Turn = every message (user, assistant, tool call, tool
output); Step = tool-calling assistant messages per user request (and per
dialogue); Task = tasks completed.
"""

from __future__ import annotations

import argparse
import statistics
import time

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode
from turnloom.core.quality.metrics import dialogue_stats


def run(domain: str, seed: int, mode: Mode, tasks: int):
    return dialogue_stats(run_to_end(create_session(domain, mode=mode, seed=seed, tasks=tasks)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    means = {}
    print(f"{'paradigm':<15} {'domain':<9} {'Step/req':>10} {'Step/dlg':>10} {'Turn':>12} {'Task':>10} {'Samples':>8}")
    for mode in (Mode.TASK_ORIENTED, Mode.USER_ORIENTED):
        all_stats = []
        for domain in [*pack_names(), "all"]:
            if domain == "all":
                stats = all_stats
            else:
                stats = [run(domain, seed, mode, args.tasks) for seed in range(args.seeds)]
                all_stats.extend(stats)

            def cell(key, stats=stats):
                values = [s[key] for s in stats]
                return f"{statistics.mean(values):.2f} ({max(values):.3g})"

            print(
                f"{mode.value:<15} {domain:<9} {cell('steps_per_request'):>10} {cell('steps'):>10} "
                f"{cell('turns'):>12} {cell('tasks_done'):>10} {len(stats):>8}"
            )
        means[mode] = statistics.mean(s["turns"] for s in all_stats)
    ratio = means[Mode.USER_ORIENTED] / means[Mode.TASK_ORIENTED]
    print(f"\nmean Turn ratio user-oriented / task-oriented: {ratio:.2f}x (paper: 21.79 / 12.84 = 1.70x)")
    print(f"elapsed {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
