"""Peak memory of an endpoint-bound batch on a large database, with and without the memory cap.

    python bench/dialogue_memory.py [--rows 400000] [--concurrency 8] [--budget 0.3] [--runs 3]

Builds a SQLite file (two tables, `--rows` rows each; 400k rows is about 64 MB), starts
bench/fast_fake_server.py, and runs `turnloom generate --db FILE` with the user and
assistant on the fake endpoint: once with `--memory-budget 0` (no cap: every open dialogue
holds its own copy of the database), once with `--concurrency 1` (the floor), and once with
`--memory-budget GB`. Peak RSS is the child's `ru_maxrss` (os.wait4); medians of `--runs`.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_db(path: Path, rows: int) -> None:
    rng = random.Random(1)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, city TEXT)")
    conn.execute(
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), "
        "item TEXT, qty INTEGER, status TEXT)"
    )
    conn.executemany(
        "INSERT INTO customers(name, email, city) VALUES (?, ?, ?)",
        (
            (f"Name{i} Surname{i % 997}", f"user{i}@example.com", rng.choice(["Oslo", "Bergen", "Rome"]) + "x" * 40)
            for i in range(rows)
        ),
    )
    conn.executemany(
        "INSERT INTO orders(customer_id, item, qty, status) VALUES (?, ?, ?, ?)",
        (
            (rng.randrange(1, rows), f"item-{rng.randrange(1000)}" + "y" * 30, rng.randrange(1, 9), "open")
            for _ in range(rows)
        ),
    )
    conn.commit()
    conn.close()


def peak_rss_mb(argv: list[str]) -> tuple[float, float, str]:
    """Run `argv`; its peak RSS in MB, its wall time and its stderr."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {text[-500:]}")
    return usage.ru_maxrss / 1024, time.monotonic() - start, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--budget", type=float, default=0.3, help="GB for the capped run")
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="turnloom-mem-"))
    db = work / "big.sqlite"
    build_db(db, args.rows)
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench/fast_fake_server.py"), "--latency", "0.3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().split()[-1] if server.stdout else ""
        config = work / "turnloom.toml"
        config.write_text(f'[profiles.f]\nbase_url = "{url}"\nmodel = "m"\n')
        cases = {
            f"--concurrency {args.concurrency} --memory-budget 0 (no cap)": [
                "--concurrency",
                str(args.concurrency),
                "--memory-budget",
                "0",
            ],
            f"--concurrency {args.concurrency} --memory-budget {args.budget}": [
                "--concurrency",
                str(args.concurrency),
                "--memory-budget",
                str(args.budget),
            ],
            "--concurrency 1 (floor)": ["--concurrency", "1", "--memory-budget", "0"],
        }
        results: dict[str, list[float]] = {name: [] for name in cases}
        notes: dict[str, str] = {}
        for run in range(args.runs):
            for name, extra in cases.items():
                out = work / f"out-{run}-{len(results[name])}-{abs(hash(name))}"
                argv = [
                    sys.executable,
                    "-m",
                    "turnloom.core",
                    "--config",
                    str(config),
                    "generate",
                    "--db",
                    str(db),
                    "--n",
                    str(args.n),
                    "--tasks",
                    "1",
                    "--max-messages",
                    "12",
                    "--role",
                    "user=f",
                    "--role",
                    "assistant=f",
                    "--out",
                    str(out),
                    "--quiet",
                    *extra,
                ]
                rss, _, err = peak_rss_mb(argv)
                results[name].append(rss)
                notes[name] = next((line for line in err.splitlines() if "memory budget" in line), "")
        print(f"database {db.stat().st_size / 1e6:.1f} MB, {args.n} dialogues, median of {args.runs} runs")
        for name, values in results.items():
            print(
                f"{name:<48} peak RSS {statistics.median(values):7.0f} MB   ({', '.join(f'{v:.0f}' for v in values)})"
            )
            if notes[name]:
                print(f"    {notes[name]}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
