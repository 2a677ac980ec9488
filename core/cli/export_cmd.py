"""`turnloom export`: saved sessions -> a validated JSONL training file.

Reads session files (recovering any journal beside them) and folders of them, and hands the
sessions to `export.export_sessions`; formats and checks live there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from turnloom.core.cli.outputs import add_force_option, checked_output
from turnloom.core.errors import SessionFileError, UsageError
from turnloom.core.export import FORMATS, export_sessions
from turnloom.core.models import Session
from turnloom.core.storage.session_folder import find_sessions, read_sessions


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `export` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="export sessions as training JSONL (openai, hf, sharegpt, hermes)",
        description="Export saved sessions as JSONL training data. Each record is validated "
        "first; sessions that fail are skipped with their reason.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="FILE_OR_FOLDER",
        help="session files, or folders searched for *.session.json / *.session.toml",
    )
    parser.add_argument("--format", required=True, choices=sorted(FORMATS), dest="fmt", help="output format")
    parser.add_argument("--out", required=True, metavar="FILE.jsonl", help="the JSONL file to write")
    add_force_option(parser)
    parser.add_argument(
        "--only-finished", action="store_true", help="keep only sessions the simulated user finished (user_done)"
    )
    parser.add_argument(
        "--only-valid",
        action="store_true",
        help="keep only sessions whose verdict accepts them (the named checks, and the rubric judge "
        "where mapped; see turnloom.core.quality.verdict)",
    )
    from turnloom.core.cli.verdicts import add_judge_option

    add_judge_option(parser)
    parser.set_defaults(handler=run)


def read_named_sessions(paths: list[str]) -> list[tuple[Path, Session]]:
    """The sessions `paths` name (folders searched, journal-only ones too); a bad file is skipped with its reason.

    Raises:
        UsageError: a path that does not exist, or no session files at all.
        SessionFileError: none of the files can be read (naming the first one's problem).
    """
    try:
        found = find_sessions(paths)
    except SessionFileError as exc:
        raise UsageError(str(exc)) from None
    if not found.paths:
        raise UsageError(f"no *.session.json or *.session.toml files in {', '.join(paths)}")
    skipped = [(str(path), reason) for path, reason in found.skipped]
    sessions: list[tuple[Path, Session]] = []
    for read in read_sessions(found):
        for warning in read.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if read.session is None:
            skipped.append((str(read.path), read.problem or "cannot be read"))
        else:
            sessions.append((read.path, read.session))
    if not sessions:
        problems = [reason if reason.startswith(path) else f"{path}: {reason}" for path, reason in skipped]
        more = f" (and {len(problems) - 1} more file(s) that cannot be read)" if len(problems) > 1 else ""
        raise SessionFileError((problems[0] if problems else "no session could be read") + more)
    for path, reason in skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    return sessions


def run(args: argparse.Namespace) -> int:
    """Run the export; print counts and every skip reason."""
    out = checked_output(Path(args.out), args.force)
    if getattr(args, "only_valid", False):
        from turnloom.core.cli.verdicts import judge_pending

        judge_pending(args)
    sessions = [session for _, session in read_named_sessions(args.paths)]
    invalid: list[tuple[str, str]] = []
    if getattr(args, "only_valid", False):
        from turnloom.core.config import load_config
        from turnloom.core.quality.verdict import reasons, verdict_for

        limit = load_config(getattr(args, "config", None)).quality_max_messages
        verdicts = [(session, verdict_for(session, max_messages=limit)) for session in sessions]
        sessions = [session for session, verdict in verdicts if verdict.accepted]
        invalid = [(s.id, "invalid: " + "; ".join(reasons(v))) for s, v in verdicts if not v.accepted]
    report = export_sessions(sessions, args.fmt, out, only_finished=args.only_finished)
    report.skipped[:0] = invalid
    print(f"wrote {report.written} record(s) to {out} ({args.fmt}); skipped {len(report.skipped)}")
    for session_id, reason in report.skipped:
        print(f"  skipped {session_id}: {reason}")
    return 0
