"""`turnloom export`: saved sessions -> a validated JSONL training file.

Reads session files (recovering any journal beside them) and folders of them on every core
(`session_pool`): each worker turns its sessions into JSONL lines with `export.build_record`
(formats and record checks live there), and the lines are written here, in the files' order.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from turnloom.core.cli.outputs import add_force_option, checked_output
from turnloom.core.cli.session_pool import found_sessions, found_subset, map_sessions, readable
from turnloom.core.export import EVERY_FORMAT, build_records, jsonl_line, sources_path
from turnloom.core.export.options import ExportOptions
from turnloom.core.export.record_checks import RecordRejected, secret_env_values
from turnloom.core.models import FinishReason, Session
from turnloom.core.storage.snapshot import atomic_writer


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `export` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="export sessions as training JSONL (openai, hf, sharegpt, hermes; dpo: the curator's preference pairs)",
        description="Export saved sessions as JSONL training data. Each record is validated "
        "first; sessions that fail are skipped with their reason.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="FILE_OR_FOLDER",
        help="session files, or folders searched for *.session.json / *.session.toml",
    )
    parser.add_argument("--format", required=True, choices=EVERY_FORMAT, dest="fmt", help="output format")
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
    from turnloom.core.cli.export_options import add_export_options
    from turnloom.core.cli.verdicts import add_judge_option

    add_export_options(parser)
    add_judge_option(parser)
    parser.set_defaults(handler=run)


@dataclass
class ExportItem:
    """One session as the export needs it, made where it was read: its JSONL line, or why it is left out."""

    session_id: str
    line: str | None = None
    invalid: str | None = None  # rejected by its verdict (--only-valid)
    skipped: str | None = None  # not finished, or a record the checks refuse
    judge: str | None = None  # the judge profile it must see first
    origin: dict[str, str | None] | None = None  # where the record was made, for `run --from EXPORT --record N`
    records: int = 1  # records in `line` (a preference export writes one per curator choice)


def export_item(
    path: Path,
    session: Session,
    *,
    fmt: str,
    only_valid: bool,
    only_finished: bool,
    max_messages: int,
    secrets: dict[str, str],
    judge: str | None,
    options: ExportOptions,
) -> ExportItem:
    """The export's work on one session (run in a worker process); the same checks `export_sessions` makes."""
    from turnloom.core.cli.verdicts import judge_profile

    if only_valid:
        from turnloom.core.quality.verdict import reasons, verdict_for

        profile = judge_profile(session, judge)
        if profile is not None:
            return ExportItem(session.id, judge=profile)
        verdict = verdict_for(session, max_messages=max_messages)
        if not verdict.accepted:
            return ExportItem(session.id, invalid="invalid: " + "; ".join(reasons(verdict)))
    if only_finished and session.finish_reason is not FinishReason.USER_DONE:
        reason = session.finish_reason.value if session.finish_reason else "not finished"
        return ExportItem(session.id, skipped=f"not finished by the user ({reason})")
    try:
        records = build_records(session, fmt, secrets, options)
        origin = {"session": session.id, "domain": session.domain, "db": session.db_path}
        return ExportItem(session.id, line="".join(map(jsonl_line, records)), origin=origin, records=len(records))
    except RecordRejected as exc:
        return ExportItem(session.id, skipped=str(exc))
    except ValueError as exc:  # NaN or Infinity somewhere in the record
        return ExportItem(session.id, skipped=f"not strict JSON ({exc})")


def run(args: argparse.Namespace) -> int:
    """Run the export on every core; print counts and every skip reason."""
    from turnloom.core.cli.export_options import export_options_from
    from turnloom.core.config import load_config

    options = export_options_from(args)  # checked against --format
    out = checked_output(Path(args.out), args.force)
    found = found_sessions(args.paths)
    work = partial(
        export_item,
        fmt=args.fmt,
        only_valid=bool(getattr(args, "only_valid", False)),
        only_finished=args.only_finished,
        max_messages=load_config(getattr(args, "config", None)).quality_max_messages,
        secrets=secret_env_values(),
        judge=getattr(args, "judge", None),
        options=options,
    )
    results, unreadable = readable(list(map_sessions(found, work, "exporting")))
    to_judge = [item.path for item in results if item.result is not None and item.result.judge]
    if to_judge:
        from turnloom.core.cli.verdicts import judge_pending

        judge_pending(args, to_judge)
        again = {item.path: item for item in map_sessions(found_subset(found, to_judge), work)}
        results = [again.get(item.path, item) for item in results]
    for path, reason in unreadable:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    items = [item.result for item in results if item.result is not None]
    invalid = [(item.session_id, item.invalid) for item in items if item.invalid]
    skipped: list[tuple[str, str]] = []
    lines: list[str] = []
    origins: list[dict[str, str | None]] = []
    seen: set[str] = set()
    for item in items:
        if item.invalid:
            continue
        if item.skipped:
            skipped.append((item.session_id, item.skipped))
        elif item.session_id in seen:
            skipped.append((item.session_id, "duplicate session id; exported once already"))
        elif item.line is not None:
            seen.add(item.session_id)
            lines.append(item.line)
            origins += [item.origin or {"session": item.session_id, "domain": None, "db": None}] * item.records
    with atomic_writer(out) as stream:
        stream.writelines(lines)
    with atomic_writer(sources_path(out)) as stream:
        json.dump({"format": args.fmt, "records": origins}, stream, ensure_ascii=False, indent=1)
        stream.write("\n")
    skipped[:0] = invalid
    print(f"wrote {len(origins)} record(s) to {out} ({args.fmt}); skipped {len(skipped)}")
    for session_id, reason in skipped:
        print(f"  skipped {session_id}: {reason}")
    return 0
