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

Per part (the view, each check in `CHECKS` order, the digest), in one run:

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=OUT --dump-instr=no \\
        python bench/verdict_instructions.py parts FILE      # needs a C compiler and valgrind's headers
    python bench/verdict_instructions.py report OUT          # instructions per dialogue of each part

`parts` builds a two-function library around callgrind's client requests (zero the counts, dump
them under a name) and runs each part over the 99 dialogues in turn, dumping after each: the view
of every dialogue, then the first check on every view, and so on (checks that build on another's
memo see it as `evaluate` does). Time profiles (cProfile, line_profiler) weigh Python calls and hide
C work (SQLite, regular expressions, the serialiser): this split counts both alike.
"""

from __future__ import annotations

import ctypes
import itertools
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, Session, ToolExecution
from turnloom.core.players.offline.tasks import task_count
from turnloom.core.quality.checks import CHECKS, forget_texts
from turnloom.core.quality.checks.view import SessionView
from turnloom.core.quality.verdict import evaluate, session_digest

_SHIM = """#include <valgrind/callgrind.h>
void cg_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
void cg_zero(void) { CALLGRIND_ZERO_STATS; }
"""


def write_corpus(path: Path) -> None:
    sessions = []
    for n, (domain, execution, mode) in enumerate(itertools.product(pack_names(), ToolExecution, Mode)):
        for s in range(5):
            seed = n * 100 + s
            session = create_session(domain, mode=mode, execution=execution, seed=seed, tasks=task_count(seed))
            sessions.append(run_to_end(session))
    path.write_text("\n".join(s.model_dump_json() for s in sessions))


def parts(sessions: list[Session]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="verdict_parts_"))
    (folder / "shim.c").write_text(_SHIM)
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(folder / "shim.so"), str(folder / "shim.c")], check=True)
    shim = ctypes.CDLL(str(folder / "shim.so"))
    evaluate(sessions[0], live=True)  # imports, compiled patterns
    forget_texts()  # the other 99 as a batch meets them: none judged before
    rest = sessions[1:]
    shim.cg_zero()
    views = [SessionView(session, live=True) for session in rest]
    shim.cg_dump(b"view")
    for check in CHECKS:
        for view in views:
            check.run(view)
        shim.cg_dump(check.name.encode())
    for session in rest:
        session_digest(session)
    shim.cg_dump(b"digest")


def report(out: str, dialogues: int = 99) -> None:
    rows = []
    dumps = [p for p in Path(out).parent.glob(Path(out).name + ".*") if p.suffix[1:].isdigit()]
    for path in sorted(dumps, key=lambda p: int(p.suffix[1:])):
        text = path.read_text()
        name = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if name and total:
            rows.append((name.group(1), int(total.group(1))))
    whole = sum(n for _, n in rows) or 1
    for name, n in rows:
        print(f"{name:18s} {n / dialogues / 1e6:6.2f} M  {n / whole:6.1%}")
    print(f"{'all':18s} {whole / dialogues / 1e6:6.2f} M instructions per dialogue")


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("corpus", "base", "eval", "parts", "report"):
        raise SystemExit(__doc__)
    mode, path = sys.argv[1], Path(sys.argv[2])
    if mode == "corpus":
        write_corpus(path)
        return
    if mode == "report":
        report(sys.argv[2])
        return
    sessions = [Session.model_validate_json(line) for line in path.read_text().splitlines()]
    if mode == "parts":
        parts(sessions)
        return
    evaluate(sessions[0], live=True)
    if mode == "eval":
        for session in sessions[1:]:
            evaluate(session, live=True)


if __name__ == "__main__":
    main()
