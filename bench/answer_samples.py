"""What the offline assistant says, read as a curator reads it: samples, defect patterns, the gate's verdicts.

    python bench/answer_samples.py [--seeds 6] [--db FILE ...] [--make-db FILE] [--show 12]

Runs offline dialogues (every built-in domain and each `--db` database, both
executions, both modes, seeds 0..N-1), then over every assistant text reply:
- counts replies matching patterns a curator rejects on sight (repeated words such
  as "total total", a subject of "that one", "For reference", a field's machine
  name, "weight kg"-style unit labels, a list that says "N items" but names fewer
  with no word on the rest);
- runs the quality gate (`quality.verdict.evaluate`) and counts rejections per check;
- prints `--show` replies drawn with a fixed seed, to read.
`--make-db FILE` first writes a database with awkward names (tbl_ prefixes,
camelCase columns, plural and run-together table names) and adds it to the corpus.
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, Role, Session, ToolExecution
from turnloom.core.quality.verdict import evaluate

ODD_SCHEMA = """
CREATE TABLE tbl_Customers (CustomerId INTEGER PRIMARY KEY, FullName TEXT NOT NULL, EmailAddress TEXT UNIQUE,
    HomeCity TEXT, AccountStatus TEXT NOT NULL DEFAULT 'active'
    CHECK (AccountStatus IN ('active', 'suspended', 'closed')), SignupDate DATE);
CREATE TABLE PurchaseOrders (PurchaseOrderId INTEGER PRIMARY KEY,
    CustomerId INTEGER NOT NULL REFERENCES tbl_Customers(CustomerId), OrderDate DATE, OrderTotal REAL NOT NULL,
    orderStatus TEXT NOT NULL DEFAULT 'open' CHECK (orderStatus IN ('open', 'shipped', 'cancelled')));
CREATE TABLE orderlineitems (lineitemid INTEGER PRIMARY KEY,
    purchaseorderid INTEGER NOT NULL REFERENCES PurchaseOrders(PurchaseOrderId),
    productname TEXT NOT NULL, unitprice REAL NOT NULL, qty INTEGER NOT NULL, weight_kg REAL);
CREATE TABLE tbl_support_cases (case_id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES tbl_Customers(CustomerId), subject TEXT NOT NULL, opened_on DATE,
    priority TEXT CHECK (priority IN ('low', 'normal', 'high')), is_resolved BOOLEAN NOT NULL DEFAULT 0);
"""

_CITIES = ("Lisbon", "Porto", "Graz", "Turin", "Ghent", "Krakow")
_NAMES = ("Ana Lopez", "Ben Okafor", "Chen Wei", "Dana Moss", "Emil Berg", "Fatima Khan", "Goran Ilic", "Hana Sato")
_PRODUCTS = ("Desk Lamp", "Tea Kettle", "Wool Scarf", "Trail Map", "Chess Set", "Yoga Mat", "Rain Jacket")


def make_odd_db(path: Path) -> Path:
    """A small database with the names real schemas have (deterministic content)."""
    path.unlink(missing_ok=True)
    rng = random.Random(7)
    with sqlite3.connect(path) as db:
        db.executescript(ODD_SCHEMA)
        for i, name in enumerate(_NAMES, 1):
            email = name.lower().replace(" ", ".") + "@example.com"
            status = ("active", "active", "suspended", "closed")[i % 4]
            db.execute(
                "INSERT INTO tbl_Customers VALUES (?, ?, ?, ?, ?, ?)",
                (
                    i,
                    name,
                    email,
                    rng.choice(_CITIES),
                    status,
                    f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                ),
            )
        line = 1
        for order in range(1, 21):
            customer = rng.randint(1, len(_NAMES))
            items = [
                (rng.choice(_PRODUCTS), round(rng.uniform(5, 80), 2), rng.randint(1, 3))
                for _ in range(rng.randint(1, 5))
            ]
            total = round(sum(p * q for _, p, q in items), 2)
            date = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            db.execute(
                "INSERT INTO PurchaseOrders VALUES (?, ?, ?, ?, ?)",
                (100 + order, customer, date, total, rng.choice(("open", "shipped", "shipped", "cancelled"))),
            )
            for product, price, qty in items:
                db.execute(
                    "INSERT INTO orderlineitems VALUES (?, ?, ?, ?, ?, ?)",
                    (line, 100 + order, product, price, qty, round(rng.uniform(0.2, 4), 1)),
                )
                line += 1
        for case in range(1, 13):
            db.execute(
                "INSERT INTO tbl_support_cases VALUES (?, ?, ?, ?, ?, ?)",
                (
                    case,
                    rng.randint(1, len(_NAMES)),
                    rng.choice(("Late delivery", "Wrong size", "Refund request", "Damaged box")),
                    f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    rng.choice(("low", "normal", "high")),
                    rng.randint(0, 1),
                ),
            )
    return path


PATTERNS = {
    "repeated word": re.compile(r"\b(\w{3,}) \1\b", re.I),
    "that one as subject": re.compile(r"\bThat one (has|is)\b"),
    "for reference": re.compile(r"For reference", re.I),
    "snake_case label": re.compile(r"\b(the|its) [a-z]+_[a-z_]+ (is|was)\b"),
    "unit as label": re.compile(r"\b(weight kg|duration min|minutes played|qty) \d"),
    "raw machine name": re.compile(r"\b[a-z]+[A-Z][a-z]+\b|\btbl\b"),
}
_LISTED = re.compile(r"^(?:I found|There are|(\w+)) (\w+) [\w ]+?(?: match)?[.;,]", re.M)


def corpus(seeds: int, databases: list[str]) -> list[Session]:
    sessions = []
    for seed in range(seeds):
        for execution in ToolExecution:
            for mode in Mode:
                for domain in pack_names():
                    session = create_session(domain, seed=seed, mode=mode, execution=execution)
                    sessions.append(run_to_end(session))
                for path in databases:
                    session = create_session(db_path=path, seed=seed, mode=mode, execution=execution)
                    sessions.append(run_to_end(session))
    return sessions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--db", action="append", default=[])
    parser.add_argument("--make-db", type=Path, help="write the awkward-names database here and add it")
    parser.add_argument("--show", type=int, default=12)
    parser.add_argument("--grep", help="print every reply matching this pattern name")
    args = parser.parse_args()
    databases = list(args.db)
    if args.make_db:
        databases.append(str(make_odd_db(args.make_db)))
    started = time.perf_counter()
    sessions = corpus(args.seeds, databases)
    elapsed = time.perf_counter() - started
    replies = [
        (s.domain or "db", m.text)
        for s in sessions
        for m in s.messages
        if m.role is Role.ASSISTANT and m.text.strip() and not m.tool_calls
    ]
    hits = Counter()
    for _, text in replies:
        for name, pattern in PATTERNS.items():
            if pattern.search(text):
                hits[name] += 1
                if args.grep == name:
                    print("---", text)
    rejected = Counter()
    rejected_dialogues = 0
    for session in sessions:
        verdict = evaluate(session)
        rejected_dialogues += not verdict.accepted
        rejected.update({f.check for f in verdict.failures})
    print(f"{len(sessions)} dialogues ({elapsed:.1f} s), {len(replies)} assistant text replies")
    for name in PATTERNS:
        print(f"  {name:22} {hits[name]:5} replies ({hits[name] / max(len(replies), 1):.1%})")
    print(f"quality gate: {rejected_dialogues} of {len(sessions)} dialogues rejected; by check: {dict(rejected)}")
    rng = random.Random(1)
    for domain, text in rng.sample(replies, min(args.show, len(replies))):
        print(f"[{domain}] " + text.replace("\n", "\n    "))


if __name__ == "__main__":
    main()
