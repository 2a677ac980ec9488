"""`turnloom replay FILE [--at N] [--verify]`: print a saved dialogue, optionally re-checking it.

The session is opened as a user expects (a journal beside it is recovered, with
warnings). Each message is printed with its provenance badge. `--verify` hands
the session to `quality.tool_replay.verify_session`, `--rerun` to `quality.rerun.rerun_session`, and
prints what differed; this module only parses arguments and prints.
"""

from __future__ import annotations

import argparse
import sys

from turnloom.core.cli.loading import checked_at, load_for_command
from turnloom.core.cli.options import non_negative_int
from turnloom.core.cli.render import finish_text, print_header, print_transcript
from turnloom.core.errors import DatabaseError, DomainError
from turnloom.core.lifecycle.dialogue import base_image
from turnloom.core.models import Session
from turnloom.core.quality.rerun import first_difference, rerun_session
from turnloom.core.quality.tool_replay import VerifyReport, verify_session

_SHOWN = 200  # characters of a recorded/replayed result shown per difference


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `replay` subcommand."""
    parser = subparsers.add_parser(
        "replay",
        help="print a saved dialogue with provenance; --verify re-runs its tool calls",
        description=(
            "Print a saved session (recovering its journal if there is one), each message with "
            "its provenance. With --verify, re-execute every recorded tool call in order against a "
            "fresh copy of the database and report each result that differs (exit 1 if any)."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="a .session.json or .session.toml file")
    parser.add_argument("--at", type=non_negative_int, metavar="N", help="print (and verify) only the first N messages")
    parser.add_argument("--verify", action="store_true", help="re-execute the recorded tool calls and compare results")
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="also generate the dialogue again from its recorded seed, as far as the recording (or --at) goes, "
        "and report where it differs (exit 1 if it does)",
    )
    parser.add_argument("--no-provenance", action="store_true", help="leave out the per-message provenance badges")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the session; with --verify, return 1 when any result differs."""
    session = load_for_command(args.file)
    upto = checked_at(session, args.at)
    print_header(session, sys.stdout)
    if session.parent is not None:
        parent = session.parent
        print(
            f"# parent: session {parent.session_id}, first {parent.at} messages"
            + (f" ({parent.path})" if parent.path else "")
        )
    print_transcript(session, sys.stdout, upto=upto, provenance=not args.no_provenance)
    shown = len(session.messages) if upto is None else upto
    print(f"# {shown} of {len(session.messages)} messages · finish: {finish_text(session)}")
    status = 0
    if args.verify:
        report = verify_session(session, upto)
        print_report(report)
        status = 0 if report.ok else 1
    if args.rerun:
        difference = first_difference(session, rerun_session(session, upto), upto)
        print(f"# rerun from seed {session.config.seed}: " + (f"differs {difference}" if difference else "identical"))
        status = status or (1 if difference else 0)
    if not (args.verify or args.rerun):
        _warn_if_database_missing(session)
    return status


def print_report(report: VerifyReport) -> None:
    """The verification result, one line per difference."""
    for note in report.notes:
        print(f"# note: {note}")
    for diff in report.differences:
        where = f"message {diff.message_index}" + (f" ({diff.tool} {diff.tool_call_id})" if diff.tool else "")
        print(f"DIFF {where}: {diff.what}")
        if diff.recorded:
            print(f"     recorded: {_short(diff.recorded)}")
        if diff.replayed:
            print(f"     replayed: {_short(diff.replayed)}")
    skipped = f", {len(report.skipped)} imported skipped" if report.skipped else ""
    verdict = "all match" if report.ok else f"{len(report.differences)} difference(s)"
    print(f"# verify: {report.checked} tool result(s) checked{skipped}: {verdict}")


def _warn_if_database_missing(session: Session) -> None:
    try:
        base_image(session)
    except (DatabaseError, DomainError) as exc:
        print(f"turnloom: warning: {exc}; --verify, fork and run --from need it", file=sys.stderr)


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + f" … ({len(text)} chars)"
