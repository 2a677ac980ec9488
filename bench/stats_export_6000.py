"""`turnloom stats` and `turnloom export --only-valid` over 6,000 offline sessions (issue 16).

    python bench/stats_export_6000.py [--dir /tmp/turnloom-6000] [--n 6000] [--repeats 3] [--baseline PYTHON]

Generates the sessions once into DIR (`turnloom generate`, offline, resumed if the folder
is there), then times each command as a user runs it (a subprocess of the installed
`turnloom`, output to /dev/null, off a terminal) `--repeats` times and prints the median wall
time, and the median CPU time of the command and its workers (on a machine shared with other
work, CPU / cores is what the wall time would be with the cores to itself).

`--baseline PYTHON` (another build's interpreter, e.g. a worktree of main with its own `make
setup`) times that build's `turnloom` too, each run beside this build's, alternating which goes
first, so a before/after shares its load.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str]) -> float:
    return timed_with_cpu(argv)[0]


def timed_with_cpu(argv: list[str], python: str = sys.executable) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the command and its workers) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([python, "-m", "turnloom", *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "turnloom-6000"))
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", metavar="PYTHON", help="another build's python, timed beside this one")
    args = parser.parse_args()
    folder = Path(args.dir)
    have = len(list(folder.glob("*.session.json"))) if folder.is_dir() else 0
    if have < args.n:
        print(f"generating {args.n} sessions into {folder} (once) ...", flush=True)
        generate = timed(["generate", "--n", str(args.n), "--out", str(folder), "--quiet"])
        print(f"generate: {generate:.1f} s")
    out = Path(tempfile.gettempdir()) / "turnloom-6000-export.jsonl"
    commands = {
        "stats": ["stats", str(folder)],
        "export --only-valid": [
            "export",
            str(folder),
            "--only-valid",
            "--format",
            "openai",
            "--out",
            str(out),
            "--force",
        ],
    }
    load = os.getloadavg()[0]
    builds = {"this build": sys.executable, **({"baseline": args.baseline} if args.baseline else {})}
    for name, argv in commands.items():
        measured: dict[str, list[tuple[float, float]]] = {build: [] for build in builds}
        for repeat in range(args.repeats):
            order = list(builds.items())
            for build, python in order if repeat % 2 == 0 else order[::-1]:
                measured[build].append(timed_with_cpu(argv, python))
        for build, runs_of in measured.items():
            runs = [wall for wall, _ in runs_of]
            cpu = statistics.median(c for _, c in runs_of)
            shown = ", ".join(f"{r:.1f}" for r in runs)
            cpus = ", ".join(f"{c / (os.cpu_count() or 1):.1f}" for _, c in runs_of)
            label = f"{name} ({build})" if args.baseline else name
            print(
                f"{label}: median {statistics.median(runs):.1f} s wall over {args.repeats} runs ({shown}); "
                f"median CPU {cpu:.1f} s on {os.cpu_count()} cores (CPU / cores = {cpu / (os.cpu_count() or 1):.1f} s; "
                f"runs {cpus})"
            )
    print(f"load average before the runs: {load:.1f}, after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
