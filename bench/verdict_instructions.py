"""The verdict step's cost in instructions, which the shared machine's load does not move.

    python bench/verdict_instructions.py corpus FILE         # write 100 finished offline dialogues (JSON lines)
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/verdict_instructions.py base FILE       # load them, judge one (imports, patterns)
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/verdict_instructions.py eval FILE       # the same, then judge the other 99

(eval - base) / 99 is what `evaluate(session, live=True)` (the checks and the digest, as
`generate` runs them) costs per dialogue, in instructions. The corpus: every built-in domain x
execution x mode, five seeds each, task counts drawn per seed. Compare two checkouts on the same
corpus file.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, Session, ToolExecution
from turnloom.core.players.offline.tasks import task_count
from turnloom.core.quality.verdict import evaluate


def write_corpus(path: Path) -> None:
    sessions = []
    for n, (domain, execution, mode) in enumerate(itertools.product(pack_names(), ToolExecution, Mode)):
        for s in range(5):
            seed = n * 100 + s
            session = create_session(domain, mode=mode, execution=execution, seed=seed, tasks=task_count(seed))
            sessions.append(run_to_end(session))
    path.write_text("\n".join(s.model_dump_json() for s in sessions))


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("corpus", "base", "eval"):
        raise SystemExit(__doc__)
    mode, path = sys.argv[1], Path(sys.argv[2])
    if mode == "corpus":
        write_corpus(path)
        return
    sessions = [Session.model_validate_json(line) for line in path.read_text().splitlines()]
    evaluate(sessions[0], live=True)
    if mode == "eval":
        for session in sessions[1:]:
            evaluate(session, live=True)


if __name__ == "__main__":
    main()
