"""Run one bench in several checkouts, alternating, and compare the medians as ratios.

    python bench/compare_commits.py --figure 'messages/s on one core: median ([\\d,.]+)' \\
        --rounds 5 --command 'bench/throughput.py --repeats 1' /work/wt/at-8bb64b2 /work/main

Each checkout runs the bench with its own `.venv/bin/python` and its own copy of the
script (an older commit's script imports the older module names). The checkouts take
turns within each round, so load from other work on the machine falls on all of them
alike; the first checkout is the baseline of the ratios.
"""

from __future__ import annotations

import argparse
import re
import shlex
import statistics
import subprocess
import sys
from pathlib import Path


def run_once(checkout: Path, command: list[str], figure: re.Pattern[str]) -> float:
    done = subprocess.run(
        [str(checkout / ".venv/bin/python"), *command], cwd=checkout, capture_output=True, text=True, check=False
    )
    found = figure.search(done.stdout + done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"{checkout}: no figure in the output (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return float(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figure", required=True, help="a regex whose group 1 is the number to compare")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--command", required=True, help="the bench script and its arguments, as one string")
    args = parser.parse_args()
    command = shlex.split(args.command)
    figure = re.compile(args.figure)
    samples: dict[Path, list[float]] = {c: [] for c in args.checkouts}
    for n in range(args.rounds):
        for checkout in args.checkouts:
            samples[checkout].append(run_once(checkout, command, figure))
        print(f"round {n + 1}: " + "  ".join(f"{c.name} {samples[c][-1]:g}" for c in args.checkouts), flush=True)
    base = statistics.median(samples[args.checkouts[0]])
    for checkout in args.checkouts:
        median = statistics.median(samples[checkout])
        runs = ", ".join(f"{v:g}" for v in samples[checkout])
        print(f"{checkout.name:>14}: median {median:g}  ratio {median / base:.3f}  (runs: {runs})")


if __name__ == "__main__":
    main()
