"""`turnloom fork FILE --at N --out NEW`: the first N messages of a session, as a new session.

The cut itself is `lifecycle.dialogue.fork_session` (write log and tasks cut to match,
parent noted); this command opens the parent (recovering its journal), checks
that the fork's database rebuilds from its write log, and saves the fork
atomically. The parent file is never written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from turnloom.core.cli.loading import checked_at, load_for_command
from turnloom.core.cli.options import non_negative_int
from turnloom.core.cli.outputs import add_force_option, checked_output
from turnloom.core.errors import UsageError
from turnloom.core.lifecycle.dialogue import base_image, fork_session
from turnloom.core.storage.journal import compact
from turnloom.core.storage.snapshot import format_for
from turnloom.core.tools.sqlenv import SqlEnvironment


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `fork` subcommand."""
    parser = subparsers.add_parser(
        "fork",
        help="save the first N messages of a session as a new session",
        description=(
            "Save the first N messages of a session as a new session, with the database as it was "
            "at that point and the parent noted in its provenance. Continue it with `run --from NEW`."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the parent .session.json or .session.toml (left untouched)")
    parser.add_argument("--at", type=non_negative_int, required=True, metavar="N", help="keep messages 0..N-1")
    parser.add_argument(
        "--out", required=True, metavar="NEW", help="the new session file (.session.json or .session.toml)"
    )
    add_force_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Write the fork; exit code 2 (via the raised error) on bad input."""
    source, out = Path(args.file), Path(args.out)
    format_for(out)
    if out.exists() and _same_file(source, out):
        raise UsageError(f"--out {out} is the parent file; a fork is always a new file")
    checked_output(out, args.force)
    parent = load_for_command(args.file)
    checked_at(parent, args.at)
    fork = fork_session(parent, args.at, str(source.resolve()))
    # fail now, not at `run --from`, if the database is gone or the log no longer fits it
    SqlEnvironment.rebuilt(base_image(fork), fork.write_log).close()
    compact(out, fork)
    print(
        f"forked {parent.id} at message {args.at} -> {fork.id}: {len(fork.messages)} messages, "
        f"{len(fork.write_log)} write(s), {len(fork.tasks)} task(s); saved {out}"
    )
    return 0


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or a.samefile(b)
    except OSError:
        return False
