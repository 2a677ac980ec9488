"""The review index on a 10,000-session folder (issue 20): cold build, warm load, a few files changed,
filter + sort, text search, and `turnloom review DIR --list` end to end.

    python bench/review_index.py [--dir /tmp/turnloom-review-10000] [--n 10000] [--base 200] [--repeats 3]

The folder is made once: `turnloom generate --n BASE` (offline, retail, user-oriented, SQL), then
copies of those sessions under new ids and file names until there are N (`seed-NNNNNNN.session.json`;
the copies' ids differ, their messages repeat the base's: the index reads every file in full either
way, and the text search reads every file's messages). Each figure is the median of `--repeats`
runs (warm load and filter: 5x more), timed in this process with the page cache warm, on a machine
whose 2 cores are shared with other work: treat the figures as upper bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from turnloom.core.review.filters import ReviewFilter, apply, search_text, sort_rows
from turnloom.core.review.index import INDEX_NAME, load_index


def make_folder(folder: Path, n: int, base: int) -> None:
    """`generate --n base` into `folder`, then copies of those sessions (new ids, new names) up to `n`."""
    have = sorted(folder.glob("*.session.json")) if folder.is_dir() else []
    if len(have) >= n:
        return
    if len(have) < base:
        print(f"generating {base} sessions into {folder} (once) ...", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "turnloom", "generate", "--n", str(base), "--out", str(folder), "--quiet"],
            check=True,
        )
        print(f"generate: {time.perf_counter() - started:.1f} s", flush=True)
        have = sorted(folder.glob("*.session.json"))
    originals = [(path, path.read_text()) for path in have[:base]]
    for number in range(len(have), n):
        path, text = originals[number % len(originals)]
        old_id = json.loads(text)["id"]
        copy = text.replace(f'"id": "{old_id}"', f'"id": "copy{number:08d}"', 1)
        (folder / f"seed-{number:07d}.session.json").write_text(copy)
    print(f"copied up to {n} sessions", flush=True)


def median_of(runs: int, work: Callable[[], object], before: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "turnloom-review-10000"))
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--base", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(args.dir)
    make_folder(folder, args.n, args.base)
    index = folder / INDEX_NAME
    figures: dict[str, float] = {}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{args.n} sessions, {os.cpu_count()} core(s), load average {load}; median of {args.repeats} run(s)", flush=True
    )

    figures["cold build (no index)"] = median_of(
        args.repeats, lambda: load_index(folder), lambda: index.unlink(missing_ok=True)
    )
    rows = load_index(folder)
    figures["warm load (nothing changed)"] = median_of(args.repeats * 5, lambda: load_index(folder))

    changed = iter(range(0, args.n, max(1, args.n // (10 * args.repeats * 2))))

    def touch_ten() -> None:
        for _ in range(10):
            path = folder / rows[next(changed) % len(rows)].path
            stamp = time.time_ns()
            os.utime(path, ns=(stamp, stamp))

    figures["load after 10 files changed"] = median_of(args.repeats, lambda: load_index(folder), touch_ten)
    rows = load_index(folder)
    flt = ReviewFilter(unlabelled=True, domain="retail")
    figures["filter (unlabelled, domain) + sort by messages"] = median_of(
        args.repeats * 5, lambda: sort_rows(apply(rows, flt), "messages", reverse=True)
    )
    common = "order"
    rare = "Omar Berg"
    figures[f"text search {common!r} (every file)"] = median_of(args.repeats, lambda: search_text(folder, rows, common))
    figures[f"text search {rare!r}"] = median_of(args.repeats, lambda: search_text(folder, rows, rare))
    hits = {word: len(search_text(folder, rows, word)) for word in (common, rare)}

    def listing() -> None:
        subprocess.run(
            [sys.executable, "-m", "turnloom", "review", str(folder), "--list"],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    figures["`turnloom review DIR --list` (warm index, process start to exit)"] = median_of(args.repeats, listing)
    for name, seconds in figures.items():
        print(f"  {name:<66} {seconds * 1000:>9.1f} ms")
    print(f"  index file: {index.stat().st_size / 1e6:.1f} MB; search hits: {hits}")
    print(f"  load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
