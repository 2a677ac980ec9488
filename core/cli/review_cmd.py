"""`turnloom review DIR`: a generated folder's sessions, listed, filtered and labelled.

`--list` prints the review index's rows (`review.index`) through the filters and sort of
`review.filters` (text, or JSON with `--json`), so the review view is scriptable; `--label`
and `--unlabel` set a session's label (`review.labels`). With neither, the folder opens in
the workbench's review screen: the TUI's launcher passes `open_review` to `cli.main` (the
core never names the TUI); a headless caller gets a usage error saying what to run instead.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from turnloom.core.errors import SessionFileError, UsageError
from turnloom.core.models import SessionLabel
from turnloom.core.quality.verdict import ALL_CHECKS
from turnloom.core.review.filters import SORT_KEYS, ReviewFilter, apply, search_text, sort_rows
from turnloom.core.review.index import ReviewRow, index_path, load_index
from turnloom.core.review.labels import LABEL_KINDS, label_counts, set_label

# what `turnloom review DIR` with neither --list nor --label calls with the folder (the TUI's review screen)
OpenReview = Callable[[Path], int]
_ID_PREFIX_MIN = 4  # a session id prefix this long or longer may name a session, when only one has it


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `review` subcommand."""
    parser = subparsers.add_parser(
        "review",
        help="review a folder of sessions: list them with verdicts and labels, label them, or open the review view",
        description="With --list, print every session of DIR with its domain, mode, length, tasks done, "
        "verdict, failed checks and label (filtered and sorted); with --label, label one session keep, "
        "drop or needs-fix. With neither, open the review view in the workbench. An index "
        "(DIR/review-index.json) keeps this fast on large folders; it is rebuilt for the files that changed.",
    )
    parser.add_argument("folder", metavar="DIR", help="a folder of session files (a `turnloom generate` folder)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="print the sessions (filtered and sorted) and exit")
    action.add_argument(
        "--label",
        nargs=2,
        metavar=("SESSION", "KIND"),
        help="label SESSION (its id, a unique id prefix, or its file) KIND: keep, drop or needs-fix",
    )
    action.add_argument("--unlabel", metavar="SESSION", help="remove SESSION's label")
    parser.add_argument("--reason", default="", metavar="TEXT", help="with --label: why")
    parser.add_argument("--tag", action="append", default=[], metavar="T", help="with --label: a tag (repeatable)")
    listing = parser.add_argument_group("with --list")
    listing.add_argument("--rejected", action="store_true", help="only sessions the verdict rejects")
    listing.add_argument("--check", choices=ALL_CHECKS, metavar="NAME", help="only sessions that failed check NAME")
    listing.add_argument("--unlabelled", action="store_true", help="only sessions with no label yet")
    listing.add_argument("--labelled", choices=LABEL_KINDS, metavar="KIND", help="only sessions labelled KIND")
    listing.add_argument("--domain", metavar="D", help="only sessions of domain D")
    listing.add_argument("--search", default="", metavar="TEXT", help="only sessions whose messages contain TEXT")
    listing.add_argument(
        "--sort", choices=list(SORT_KEYS), default="path", metavar="KEY", help=f"order by: {', '.join(SORT_KEYS)}"
    )
    listing.add_argument("--reverse", action="store_true", help="reverse the order")
    listing.add_argument("--json", action="store_true", help="print the rows and counts as JSON")
    parser.set_defaults(handler=handle)


_LIST_ONLY = ("rejected", "check", "unlabelled", "labelled", "domain", "search", "reverse", "json")


def handle(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; give a folder of session files (a `turnloom generate --out` DIR)")
    given = [f"--{name}" for name in _LIST_ONLY if getattr(args, name)] + (["--sort"] if args.sort != "path" else [])
    if given and not args.list:
        raise UsageError(f"{', '.join(given)} only go with --list")
    if (args.reason or args.tag) and not args.label:
        raise UsageError("--reason and --tag only go with --label")
    if args.list:
        return _print_list(folder, args)
    if args.label or args.unlabel:
        return _set_label(folder, args)
    open_review: OpenReview | None = getattr(args, "open_review", None)
    if open_review is None:
        raise UsageError(
            "the review view opens in the workbench: run `turnloom review DIR` from the `turnloom` command "
            "(not `python -m turnloom.core`), or use --list / --label"
        )
    return int(open_review(folder) or 0)


def _rows(folder: Path, args: argparse.Namespace) -> list[ReviewRow]:
    from turnloom.core.cli.session_pool import ProgressLine
    from turnloom.core.config import load_config

    max_messages = load_config(getattr(args, "config", None)).quality_max_messages
    line: ProgressLine | None = None

    def progress(done: int, total: int) -> None:
        nonlocal line
        if line is None:
            line = ProgressLine("indexing sessions", total)
        line.advance(done - line.done)

    try:
        rows = load_index(folder, max_messages=max_messages, progress=progress)
    except SessionFileError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if line is not None:
            line.stop()
    if not rows:
        raise UsageError(f"no *.session.json or *.session.toml files in {folder}")
    return rows


def _print_list(folder: Path, args: argparse.Namespace) -> int:
    rows = _rows(folder, args)
    flt = ReviewFilter(
        rejected_only=args.rejected,
        check=args.check,
        unlabelled=args.unlabelled,
        label=args.labelled,
        domain=args.domain,
    )
    shown = apply(rows, flt)
    if args.search.strip():
        flt.text = args.search
        shown = apply(shown, flt, search_text(folder, shown, args.search))
    shown = sort_rows(shown, args.sort, args.reverse)
    counts = label_counts(rows)
    if args.json:
        body = {"folder": str(folder), "shown": len(shown), "counts": counts, "rows": [asdict(r) for r in shown]}
        print(json.dumps(body, indent=1, ensure_ascii=False))
        return 0
    for row in shown:
        print(_line(row))
    labels = ", ".join(f"{kind} {counts[kind]}" for kind in LABEL_KINDS)
    print(
        f"{len(shown)} of {counts['total']} session(s) shown · labelled {counts['labelled']}/{counts['total']} ({labels})"
    )
    return 0


def _line(row: ReviewRow) -> str:
    verdict = {True: "accepted", False: "REJECTED", None: "unreadable"}[row.accepted]
    checks = f" [{', '.join(row.failed_checks)}]" if row.failed_checks else ""
    label = row.label or "-"
    if row.reason:
        label += f" ({row.reason})"
    return (
        f"{row.path}  {row.session_id}  {row.domain or '-'} {row.mode or '-'} {row.execution or '-'}  "
        f"{row.messages} msgs  tasks {row.tasks_done}/{row.tasks}  {verdict}{checks}  label {label}  {row.title}"
    )


def _set_label(folder: Path, args: argparse.Namespace) -> int:
    from turnloom.core.config import load_config

    if args.label:
        named, kind = args.label
        if kind not in LABEL_KINDS:
            raise UsageError(f"--label {named} {kind}: KIND is one of {', '.join(LABEL_KINDS)}")
        label: SessionLabel | None = SessionLabel(kind=kind, reason=args.reason, tags=list(args.tag))
    else:
        named, label = args.unlabel, None
    # a file is found without the index (whose first build reads every session); an id needs the rows
    relpath = _named_file(folder, named) or _named_row(folder, _rows(folder, args), named).path
    max_messages = load_config(getattr(args, "config", None)).quality_max_messages
    try:
        row = set_label(folder, relpath, label, max_messages=max_messages)
    except SessionFileError as exc:
        raise UsageError(str(exc)) from None
    done = f"labelled {row.label}" if row.label else "unlabelled"
    progress = ""
    if index_path(folder).exists():
        counts = label_counts(load_index(folder, max_messages=max_messages))
        progress = f" · {counts['labelled']}/{counts['total']} session(s) labelled"
    print(f"{row.path} ({row.session_id}): {done}{progress}")
    return 0


def _named_file(folder: Path, named: str) -> str | None:
    """`named` as a session file inside `folder` (given relative to it, or as a path), relative to it; else None."""
    inside = folder.resolve()
    for candidate in (folder / named, Path(named)):
        if candidate.name.endswith((".session.json", ".session.toml")) and candidate.is_file():
            resolved = candidate.resolve()
            if resolved.is_relative_to(inside):
                return resolved.relative_to(inside).as_posix()
    return None


def _named_row(folder: Path, rows: list[ReviewRow], named: str) -> ReviewRow:
    """The row `named` names: a session id, a file (relative to DIR, or a path to it), or a unique id prefix."""
    for row in rows:
        if named in (row.session_id, row.path):
            return row
    candidate = Path(named).resolve()
    for row in rows:
        if (folder / row.path).resolve() == candidate:
            return row
    prefixed = [row for row in rows if len(named) >= _ID_PREFIX_MIN and row.session_id.startswith(named)]
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1:
        raise UsageError(f"{named!r} starts {len(prefixed)} session ids in {folder}; give more of the id")
    raise UsageError(f"no session {named!r} in {folder}; give its id or file (`turnloom review {folder} --list`)")
