"""`turnloom export`: saved sessions -> a validated JSONL training file.

Reads session files (recovering any journal beside them) and folders of them, and hands the
sessions to `export.export_sessions`; formats and checks live there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from turnloom.core.errors import UsageError
from turnloom.core.export import FORMATS, export_sessions
from turnloom.core.models import Session
from turnloom.core.storage.journal import open_session

SESSION_GLOBS = ("*.session.json", "*.session.toml")


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
    parser.add_argument(
        "--only-finished", action="store_true", help="keep only sessions the simulated user finished (user_done)"
    )
    parser.add_argument(
        "--only-valid",
        action="store_true",
        help="keep only sessions that pass validation (see turnloom.core.quality.verdict)",
    )
    parser.set_defaults(handler=run)


def session_files(paths: list[str]) -> list[Path]:
    """The session files named by `paths` (folders searched recursively), in a stable order.

    Raises:
        UsageError: a path that does not exist, or no session files at all.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted({p for glob in SESSION_GLOBS for p in path.rglob(glob)})
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{raw}: no such file or folder")
    if not found:
        raise UsageError(f"no *.session.json or *.session.toml files in {', '.join(paths)}")
    return list(dict.fromkeys(found))


def run(args: argparse.Namespace) -> int:
    """Run the export; print counts and every skip reason."""
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"{args.out}: folder {out.parent} does not exist")
    sessions: list[Session] = []
    for path in session_files(args.paths):
        session, warnings = open_session(path)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        sessions.append(session)
    invalid: list[tuple[str, str]] = []
    if getattr(args, "only_valid", False):
        from turnloom.core.quality.verdict import validate_session

        verdicts = [(session, validate_session(session)) for session in sessions]
        sessions = [session for session, verdict in verdicts if verdict.valid]
        invalid = [(s.id, "invalid: " + "; ".join(v.reasons)) for s, v in verdicts if not v.valid]
    report = export_sessions(sessions, args.fmt, out, only_finished=args.only_finished)
    report.skipped[:0] = invalid
    print(f"wrote {report.written} record(s) to {out} ({args.fmt}); skipped {len(report.skipped)}")
    for session_id, reason in report.skipped:
        print(f"  skipped {session_id}: {reason}")
    return 0
