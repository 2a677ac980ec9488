"""Wall time of `turnloom --help` (interpreter start, imports, parser, help printed).

    python bench/cli_startup.py [--runs 15] [--command turnloom]

Runs the installed console script (`.venv/bin/turnloom` beside this interpreter) `--runs`
times with its output discarded and prints the median, min and max in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--command", default=str(Path(sys.executable).with_name("turnloom")))
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([args.command, "--help"], stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    print(
        f"turnloom --help: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}) over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
