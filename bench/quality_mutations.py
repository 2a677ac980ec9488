"""The checks proven by mutation, as a table: detection per injected defect class, false rejects on clean dialogues.

    python bench/quality_mutations.py [--seeds 2]

Builds the dialogues clean by construction that tests/core/test_quality_mutations.py uses (every
built-in domain and a lending-library `--db` database made here, both executions, both modes,
`--seeds` seeds each), injects each defect class of tests/core/_mutations.py, and prints, per
class, how many dialogues it went into, how many the check meant for it caught, and the rate;
then how many clean dialogues any check rejected. Targets: detection >= 95 %, false rejects <= 2 %.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "core"))

from _clean_dialogues import clean_session, make_library_db  # noqa: E402
from _mutations import MUTATIONS, detected  # noqa: E402

from turnloom.core.models import Mode, ToolExecution  # noqa: E402
from turnloom.core.quality.checks import Severity, run_checks  # noqa: E402

DOMAINS = ("retail", "airline", "clinic", "football", "telecom")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    db = make_library_db(Path(tempfile.mkdtemp(prefix="quality_mutations_")) / "library.sqlite")
    clean = [
        clean_session(domain, db_path=None, execution=execution, mode=mode, seed=seed)
        if domain
        else clean_session(db_path=db, execution=execution, mode=mode, seed=seed)
        for execution in ToolExecution
        for mode in Mode
        for seed in range(args.seeds)
        for domain in (*DOMAINS, None)
    ]
    print(f"{'defect class':<44} {'check':<18} {'injected':>8} {'caught':>7} {'rate':>7}")
    worst = 1.0
    for mutation in MUTATIONS:
        mutated = [m for m in (mutation.apply(s) for s in clean) if m is not None]
        caught = sum(detected(run_checks(m), mutation.expected) for m in mutated)
        rate = caught / len(mutated) if mutated else 0.0
        worst = min(worst, rate)
        print(f"{mutation.name:<44} {mutation.expected:<18} {len(mutated):>8} {caught:>7} {rate:>7.1%}")
    false = [s for s in clean if any(f.severity is Severity.REJECT for f in run_checks(s))]
    print(
        f"\nclean dialogues: {len(clean)}; rejected by some check: {len(false)} ({len(false) / len(clean):.1%}); "
        f"lowest detection rate: {worst:.1%}"
    )


if __name__ == "__main__":
    main()
