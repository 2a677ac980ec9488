"""`generate --db-dir` over many generated databases: forge cost per database and dialogues per second.

    python bench/db_dir.py [--databases 50] [--n 4] [--runs 3] [--workers 1]

Makes `--databases` SQLite files of varied schemas (2-4 linked tables each, a few dozen
rows, names drawn per database), then runs the real command line
`turnloom generate --db-dir DIR --n N --out OUT --quiet` in a fresh folder per run and
reads OUT/databases.json. Reports the median over runs of: the median forge seconds per
database (deriving its tools and saving its pinned toolset), the overall dialogues per
second (dialogues run over the batches' wall time) and the command's wall time.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENTITIES = [
    ("customer", ["name", "email", "city"]),
    ("vendor", ["name", "country", "rating"]),
    ("patient", ["name", "birth_year", "insurer"]),
    ("course", ["title", "credits", "level"]),
    ("vehicle", ["plate", "model", "year"]),
    ("library_member", ["name", "email", "joined"]),
]
CHILDREN = [
    ("order", ["status", "total", "placed_on"]),
    ("ticket", ["priority", "status", "opened_on"]),
    ("booking", ["status", "price", "day"]),
    ("payment", ["amount", "method", "paid_on"]),
    ("review", ["stars", "comment", "posted_on"]),
]


def make_database(path: Path, rng: random.Random) -> None:
    parent, fields = rng.choice(ENTITIES)
    children = rng.sample(CHILDREN, rng.randint(1, 3))
    connection = sqlite3.connect(path)
    columns = ", ".join(
        f"{f} {'INTEGER' if f in ('birth_year', 'credits', 'year', 'rating') else 'TEXT'}" for f in fields
    )
    connection.execute(f"CREATE TABLE {parent}s ({parent}_id INTEGER PRIMARY KEY, {columns})")
    for i in range(1, rng.randint(20, 60)):
        values = [
            rng.randint(1, 2000) if f in ("birth_year", "credits", "year", "rating") else f"{f} {i}" for f in fields
        ]
        connection.execute(f"INSERT INTO {parent}s VALUES (?, {', '.join('?' * len(fields))})", (i, *values))
    for child, child_fields in children:
        cols = ", ".join(f"{f} {'REAL' if f in ('total', 'price', 'amount') else 'TEXT'}" for f in child_fields)
        connection.execute(
            f"CREATE TABLE {child}s ({child}_id INTEGER PRIMARY KEY, {parent}_id INTEGER REFERENCES {parent}s, {cols})"
        )
        for j in range(1, rng.randint(30, 120)):
            values = [
                round(rng.uniform(5, 500), 2)
                if f in ("total", "price", "amount")
                else rng.choice(["open", "done", "new"])
                for f in child_fields
            ]
            connection.execute(
                f"INSERT INTO {child}s VALUES (?, ?, {', '.join('?' * len(child_fields))})",
                (j, rng.randint(1, 19), *values),
            )
    connection.commit()
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", type=int, default=50)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    forge, rates, walls = [], [], []
    with tempfile.TemporaryDirectory() as root:
        dbs = Path(root) / "dbs"
        dbs.mkdir()
        for index in range(args.databases):
            make_database(dbs / f"db{index:03d}.sqlite", random.Random(index))
        for run in range(args.runs):
            out = Path(root) / f"out{run}"
            command = [sys.executable, "-m", "turnloom.core", "generate", "--db-dir", str(dbs), "--n", str(args.n)]
            command += ["--out", str(out), "--quiet"] + (["--workers", str(args.workers)] if args.workers else [])
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - started)
            figures = json.loads((out / "databases.json").read_text())
            forge.append(statistics.median(row["forge_s"] for row in figures["databases"]))
            rates.append(figures["overall"]["dialogues_per_s"])
            done = figures["overall"]["dialogues"]
            print(
                f"run {run + 1}: {done} dialogues, forge median {forge[-1] * 1000:.0f} ms/database, "
                f"{rates[-1]:.1f} dialogues/s in the batches, command wall {walls[-1]:.1f} s"
            )
    print(
        f"{args.databases} databases x {args.n} dialogues, median of {args.runs} runs: "
        f"forge {statistics.median(forge) * 1000:.0f} ms per database, "
        f"{statistics.median(rates):.1f} dialogues/s, command wall {statistics.median(walls):.1f} s"
    )


if __name__ == "__main__":
    main()
