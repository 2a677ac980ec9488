"""`turnloom export`: saved sessions -> a validated JSONL training file.

Reads session files (recovering any journal beside them) and folders of them on every core
(`session_pool`): each worker turns its sessions into JSONL lines with `export.build_record`
(formats and record checks live there), and the lines are written here, in the files' order.
Which sessions are written is decided per session (`export_item`): the curator's label
(`Session.label`) comes first and overrides the automatic verdict — `keep` is written even when
rejected, `drop` and `needs-fix` are left out by `--only-valid` even when accepted — then
`--only-kept`, `--drop-labelled` and the verdict; the summary counts each way in and out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from turnloom.core.cli.outputs import add_force_option, checked_output
from turnloom.core.cli.session_pool import found_sessions, found_subset, map_sessions, readable, skipped_line
from turnloom.core.export import EVERY_FORMAT, build_records, jsonl_line, sources_path
from turnloom.core.export.options import ExportOptions
from turnloom.core.export.record_checks import RecordRejected, secret_env_values
from turnloom.core.models import FinishReason, Session
from turnloom.core.review.labels import LABEL_KINDS
from turnloom.core.storage.snapshot import atomic_writer

# how a written session got in, and a left-out one was kept out, as the summary line names them
KEPT_BY_LABEL, ACCEPTED_BY_GATE, NOT_GATED = "kept by label", "accepted by gate", "not gated"
REJECTED_BY_GATE, NOT_LABELLED_KEEP = "rejected by gate", "not labelled keep"


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
        "where mapped; see turnloom.core.quality.verdict); a curator's label overrides it: `keep` is "
        "written even when rejected, `drop` and `needs-fix` are left out even when accepted",
    )
    parser.add_argument(
        "--only-kept", action="store_true", help="keep only sessions a curator labelled keep (`turnloom review`)"
    )
    parser.add_argument(
        "--drop-labelled",
        action="append",
        default=[],
        choices=LABEL_KINDS,
        metavar="KIND",
        help="leave out sessions labelled KIND (keep, drop or needs-fix); repeat for several",
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
    left_out: str | None = None  # kept out by its label, or by having none (--only-kept): the summary's words
    way_in: str = NOT_GATED  # how it got in: by its keep label, by the verdict, or with no gate asked
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
    only_kept: bool = False,
    drop_labelled: frozenset[str] = frozenset(),
    max_messages: int,
    secrets: dict[str, str],
    judge: str | None,
    options: ExportOptions,
) -> ExportItem:
    """The export's work on one session (run in a worker process); the same checks `export_sessions` makes."""
    from turnloom.core.cli.verdicts import judge_profile

    label = session.label.kind if session.label else None
    way_in = KEPT_BY_LABEL if label == "keep" else NOT_GATED
    if label in drop_labelled:
        return ExportItem(session.id, left_out=f"labelled {label}")
    if only_kept and label != "keep":
        return ExportItem(session.id, left_out=NOT_LABELLED_KEEP)
    if only_valid and label in ("drop", "needs-fix"):  # the curator's call overrides an accepting verdict
        return ExportItem(session.id, left_out=f"labelled {label}")
    if only_valid and label is None:
        from turnloom.core.quality.verdict import reasons, verdict_for

        profile = judge_profile(session, judge)
        if profile is not None:
            return ExportItem(session.id, judge=profile)
        verdict = verdict_for(session, max_messages=max_messages)
        if not verdict.accepted:
            return ExportItem(session.id, invalid="invalid: " + "; ".join(reasons(verdict)))
        way_in = ACCEPTED_BY_GATE
    if only_finished and session.finish_reason is not FinishReason.USER_DONE:
        reason = session.finish_reason.value if session.finish_reason else "not finished"
        return ExportItem(session.id, skipped=f"not finished by the user ({reason})")
    try:
        records = build_records(session, fmt, secrets, options)
        origin = {"session": session.id, "domain": session.domain, "db": session.db_path}
        line = "".join(map(jsonl_line, records))
        return ExportItem(session.id, line=line, origin=origin, records=len(records), way_in=way_in)
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
        only_kept=bool(getattr(args, "only_kept", False)),
        drop_labelled=frozenset(getattr(args, "drop_labelled", None) or ()),
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
        print(skipped_line(path, reason), file=sys.stderr)
    items = [item.result for item in results if item.result is not None]
    invalid = [(item.session_id, item.invalid) for item in items if item.invalid]
    skipped: list[tuple[str, str]] = []
    lines: list[str] = []
    origins: list[dict[str, str | None]] = []
    seen: set[str] = set()
    ways_in: Counter[str] = Counter()
    left_out: Counter[str] = Counter(item.left_out for item in items if item.left_out)
    left_out[REJECTED_BY_GATE] = len(invalid)
    for item in items:
        if item.invalid or item.left_out:
            continue
        if item.skipped:
            skipped.append((item.session_id, item.skipped))
        elif item.session_id in seen:
            skipped.append((item.session_id, "duplicate session id; exported once already"))
        elif item.line is not None:
            seen.add(item.session_id)
            ways_in[item.way_in] += 1
            lines.append(item.line)
            origins += [item.origin or {"session": item.session_id, "domain": None, "db": None}] * item.records
    with atomic_writer(out) as stream:
        stream.writelines(lines)
    with atomic_writer(sources_path(out)) as stream:
        json.dump({"format": args.fmt, "records": origins}, stream, ensure_ascii=False, indent=1)
        stream.write("\n")
    skipped[:0] = invalid
    print(f"wrote {len(origins)} record(s) to {out} ({args.fmt}){_ways(ways_in, left_out)}; skipped {len(skipped)}")
    for session_id, reason in skipped:
        print(f"  skipped {session_id}: {reason}")
    return 0


def _ways(ways_in: Counter[str], left_out: Counter[str]) -> str:
    """` from N session(s): 2 kept by label, 3 accepted by gate; left out 1 labelled drop, ...` (zeros omitted)."""
    written = sum(ways_in.values())
    text = f" from {written} session(s)"
    parts = [f"{ways_in[way]} {way}" for way in (KEPT_BY_LABEL, ACCEPTED_BY_GATE, NOT_GATED) if ways_in[way]]
    if parts and parts != [f"{written} {NOT_GATED}"]:
        text += ": " + ", ".join(parts)
    order = [f"labelled {kind}" for kind in LABEL_KINDS] + [NOT_LABELLED_KEEP, REJECTED_BY_GATE]
    gone = [f"{left_out[why]} {why}" for why in order if left_out[why]]
    return text + ("; left out " + ", ".join(gone) if gone else "")
