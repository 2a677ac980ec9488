"""One digest over a fixed offline corpus and its quality verdicts: speed work must not move it.

    python bench/golden_corpus.py [--seeds 3] [--show]

The corpus: every built-in domain x both executions (sql, simulated) x both modes,
`--seeds` seeds each (each dialogue its own seed, its task count drawn from it), plus
a `--db` database made here (awkward names, foreign keys, a CHECK enum) in every
execution and mode, two seeds each: 68 dialogues by default. Each dialogue is
created and run to its end before the next is created (so a cache shared between
sessions that a dialogue changed would show). The digest covers each session's
file text with the volatile fields blanked (`quality.rerun.normalised_text`: id,
created_at, latencies; the `--db` path too) and its verdict, both as `stats`
computes it and as `generate` does when a dialogue ends (`live=True`), without
the verdict's clock. `--show` prints one line per dialogue (digest prefix,
messages, verdict) to find the first that moved.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sqlite3
import tempfile
import time
from pathlib import Path

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, Session, ToolExecution
from turnloom.core.players.offline.tasks import task_count
from turnloom.core.quality.rerun import normalised_text
from turnloom.core.quality.verdict import evaluate

PINNED = {"session_id": "golden000001", "created_at": "2025-01-01T00:00:00+00:00"}
DB_SCHEMA = """
CREATE TABLE tbl_Members (MemberId INTEGER PRIMARY KEY, FullName TEXT NOT NULL, EmailAddress TEXT UNIQUE,
    MemberStatus TEXT NOT NULL DEFAULT 'active' CHECK (MemberStatus IN ('active', 'suspended', 'closed')));
CREATE TABLE BookLoan (LoanId INTEGER PRIMARY KEY, MemberId INTEGER NOT NULL REFERENCES tbl_Members(MemberId),
    BookTitle TEXT NOT NULL, LoanDate DATE, DueDate DATE, Fee REAL NOT NULL DEFAULT 0);
CREATE TABLE loan_notes (note_id INTEGER PRIMARY KEY, loan_id INTEGER NOT NULL REFERENCES BookLoan(LoanId),
    note_text TEXT NOT NULL, pages INTEGER NOT NULL);
INSERT INTO tbl_Members VALUES (1, 'Ana Lopez', 'ana@example.com', 'active'),
    (2, 'Ben Okafor', 'ben@example.com', 'suspended'), (3, 'Chen Wei', 'chen@example.com', 'active'),
    (4, 'Dora Kim', 'dora@example.com', 'closed');
INSERT INTO BookLoan VALUES (10, 1, 'Middlemarch', '2025-01-04', '2025-02-04', 0),
    (11, 1, 'Dubliners', '2025-02-11', '2025-03-11', 1.5), (12, 2, 'Beloved', '2025-03-01', '2025-04-01', 0),
    (13, 3, 'Ulysses', '2025-03-09', '2025-04-09', 2.25);
INSERT INTO loan_notes VALUES (100, 10, 'torn cover', 320), (101, 11, 'returned early', 180),
    (102, 12, 'coffee stain', 210), (103, 13, 'missing bookmark', 730);
"""


def golden_db() -> Path:
    """The corpus's `--db` file, at a fixed path (the path is part of a session)."""
    folder = Path(tempfile.gettempdir()) / "turnloom-golden-corpus"
    folder.mkdir(exist_ok=True)
    path = folder / "library_loans.sqlite"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(DB_SCHEMA)
    conn.commit()
    conn.close()
    return path


def corpus(seeds: int) -> list[tuple[str | None, Path | None, ToolExecution, Mode, int]]:
    db = golden_db()
    shapes: list[tuple[str | None, Path | None, ToolExecution, Mode, int]] = []
    combos = list(itertools.product(ToolExecution, Mode))
    for n, (domain, (execution, mode)) in enumerate(itertools.product(pack_names(), combos)):
        shapes += [(domain, None, execution, mode, n * 100 + s) for s in range(seeds)]
    for n, (execution, mode) in enumerate(combos):
        shapes += [(None, db, execution, mode, 9000 + n * 100 + s) for s in range(2)]
    return shapes


def dialogue_text(session: Session) -> str:
    """The session's file text and its two verdicts, without anything that differs between runs."""
    text = normalised_text(session)
    if session.db_path is not None:
        text = text.replace(session.db_path, "<db>")
    verdicts = [evaluate(session), evaluate(session, live=True)]
    dumped = [v.model_dump_json(exclude={"judged_at"}) for v in verdicts]
    return "\0".join([text, *dumped])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--show", action="store_true", help="one line per dialogue")
    args = parser.parse_args()
    started = time.perf_counter()
    whole = hashlib.sha256()
    shapes = corpus(args.seeds)
    accepted = messages = 0
    for domain, db, execution, mode, seed in shapes:
        session = create_session(
            domain, db_path=db, mode=mode, execution=execution, seed=seed, tasks=task_count(seed), **PINNED
        )
        run_to_end(session)
        text = dialogue_text(session)
        whole.update(text.encode())
        messages += len(session.messages)
        verdict = evaluate(session)
        accepted += verdict.accepted
        if args.show:
            print(
                f"{hashlib.sha256(text.encode()).hexdigest()[:12]} {session.domain:>14} {execution.value:>9} "
                f"{mode.value:>13} seed {seed:>5}: {len(session.messages):>4} messages, "
                f"{'accepted' if verdict.accepted else 'rejected ' + ','.join(f.check for f in verdict.failures)}"
            )
    print(
        f"golden corpus: {len(shapes)} dialogues, {messages} messages, {accepted} accepted; "
        f"digest {whole.hexdigest()[:32]} ({time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
