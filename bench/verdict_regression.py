"""Verdicts over a fixed corpus, byte for byte: speed work on the checks must not move them.

    python bench/verdict_regression.py [--corpus DIR] [--save FILE | --compare FILE] [--show N]

The corpus (built once into `--corpus`, default a folder under the temp dir, and read back from
there on later runs, so every run judges the very same session files whatever the players do
meanwhile): the 300 dialogues of bench/gate_corpus.py (every built-in domain x execution x mode),
60 on the lending-library `--db` database of the mutation tests, and the mutation corpus of
bench/quality_mutations.py at 5 seeds (120 clean dialogues and every defect class injected
into each: about 2,000 sessions). For every session it writes one line: the session's digest
(`session_digest`), and every failure and warning (check, messages, reason) of the verdict as
`stats` computes it and as `generate` does when a dialogue ends (`live=True`). It prints the
SHA-256 of those lines; `--save` keeps them, `--compare` names the first lines that differ and
counts what they differ in (digests; findings gone or new, per check; `?` marks a warning).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests" / "core"))

from _clean_dialogues import clean_session, make_library_db  # noqa: E402
from _mutations import MUTATIONS  # noqa: E402
from user_turns import corpus as gate_corpus  # noqa: E402

from turnloom.core.models import DialogueVerdict, Mode, Session, ToolExecution  # noqa: E402
from turnloom.core.quality.verdict import evaluate, session_digest  # noqa: E402

DOMAINS = ("retail", "airline", "clinic", "football", "telecom")
DEFAULT_CORPUS = Path(tempfile.gettempdir()) / "turnloom-verdict-regression"


def build(folder: Path) -> None:
    """Generate the corpus's sessions into `folder` (one JSON file each, named in a fixed order)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = make_library_db(folder / "library.sqlite")
    sessions: list[tuple[str, Session]] = [(f"gate-{n:04d}", s) for n, s in enumerate(gate_corpus(300))]
    sessions += [(f"library-{n:04d}", s) for n, s in enumerate(gate_corpus(60, str(db)))]
    clean = [
        clean_session(domain, execution=execution, mode=mode, seed=seed)
        if domain
        else clean_session(db_path=db, execution=execution, mode=mode, seed=seed)
        for execution in ToolExecution
        for mode in Mode
        for seed in range(5)
        for domain in (*DOMAINS, None)
    ]
    sessions += [(f"clean-{n:04d}", s) for n, s in enumerate(clean)]
    for k, mutation in enumerate(MUTATIONS):
        for n, session in enumerate(clean):
            mutated = mutation.apply(session)
            if mutated is not None:
                sessions.append((f"mutation-{k:02d}-{n:04d}", mutated))
    for name, session in sessions:
        (folder / f"{name}.json").write_text(session.model_dump_json())


def describe(verdict: DialogueVerdict) -> str:
    found = [*verdict.failures, *verdict.warnings]
    return " | ".join(f"{f.check}{'?' if f.warning else ''} {f.messages} {f.reason}" for f in found)


def lines(folder: Path) -> list[str]:
    out = []
    for path in sorted(folder.glob("*.json")):
        session = Session.model_validate_json(path.read_text())
        stats_view = evaluate(session)
        live_view = evaluate(session, live=True)
        out.append(f"{path.stem}\t{session_digest(session)}\t{describe(stats_view)}\t{describe(live_view)}")
    return out


def summary(differ: list[tuple[str, str]]) -> str:
    """What the differing lines differ in: digests, and findings gone or new per check (stats and live views)."""
    digests = sum(1 for a, b in differ if a.split("\t")[1] != b.split("\t")[1])
    gone: Counter[str] = Counter()
    new: Counter[str] = Counter()
    for a, b in differ:
        for column in (2, 3):
            before = set(filter(None, a.split("\t")[column].split(" | ")))
            after = set(filter(None, b.split("\t")[column].split(" | ")))
            gone.update(f.split(" ", 1)[0] for f in before - after)
            new.update(f.split(" ", 1)[0] for f in after - before)
    # a check name ending in "?" is a warning; the stats and live views each count
    return (
        f"digests differ on {digests} lines; findings gone {dict(sorted(gone.items())) or 'none'}, "
        f"new {dict(sorted(new.items())) or 'none'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--show", type=int, default=5)
    args = parser.parse_args()
    if not any(args.corpus.glob("*.json")):
        started = time.perf_counter()
        build(args.corpus)
        print(f"built the corpus in {args.corpus} ({time.perf_counter() - started:.0f} s)")
    started = time.perf_counter()
    result = lines(args.corpus)
    elapsed = time.perf_counter() - started
    findings = sum(1 for line in result if line.split("\t")[2] or line.split("\t")[3])
    digest = hashlib.sha256("\n".join(result).encode()).hexdigest()[:32]
    print(f"sessions {len(result)}, with findings {findings}, verdicts digest {digest} ({elapsed:.0f} s)")
    if args.save:
        args.save.write_text("\n".join(result) + "\n")
    if args.compare:
        expected = args.compare.read_text().splitlines()
        differ = [(a, b) for a, b in zip(expected, result, strict=False) if a != b]
        if len(expected) != len(result):
            print(f"DIFFERENT: {len(expected)} sessions expected, {len(result)} judged")
        print(f"{'SAME' if not differ and len(expected) == len(result) else 'DIFFERENT'}: {len(differ)} lines differ")
        for a, b in differ[: args.show]:
            print(f"- expected {a}\n+ got      {b}")
        if differ:
            print(summary(differ))
        if differ or len(expected) != len(result):
            sys.exit(1)


if __name__ == "__main__":
    main()
