"""Quality-gate verdicts over the user-turn corpus (the same 300 dialogues as bench/user_turns.py).

    python bench/gate_corpus.py [--dialogues 300] [--db FILE] [--show N]

Runs the named semantic checks (`quality.verdict.evaluate`) on every dialogue of
the corpus and prints how many are rejected and by which checks; `--show N`
prints the first N rejections with their reasons.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from user_turns import corpus  # noqa: E402

from turnloom.core.quality.verdict import evaluate, failed_checks, reasons  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dialogues", type=int, default=300)
    parser.add_argument("--db", default=None)
    parser.add_argument("--show", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    sessions = corpus(args.dialogues, args.db)
    per_check: Counter[str] = Counter()
    rejected = []
    for session in sessions:
        verdict = evaluate(session)
        failed = failed_checks(verdict)
        if failed:
            rejected.append((session, verdict))
            per_check.update(failed)
    print(f"dialogues {len(sessions)}, rejected {len(rejected)}")
    for check, n in per_check.most_common():
        print(f"  {check}: {n}")
    for session, verdict in rejected[: args.show]:
        config = session.config
        print(f"- {session.domain} {config.mode.value} {config.execution.value} seed {config.seed}: {reasons(verdict)}")
    print(f"elapsed {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
