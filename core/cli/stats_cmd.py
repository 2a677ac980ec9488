"""`turnloom stats`: the paper's Table 1 (and the quality metrics beside it) for a set of sessions.

Reads session files and folders of them (recovering journals), takes measured
wall times from a batch folder's manifest when there is one, and prints
`dataset_stats.render`, or its JSON with --json; counts per quality check, and with
--failures every failing dialogue. The rubric judge runs first where mapped (`cli.verdicts`).
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

from turnloom.core.batch.manifest import load_manifest
from turnloom.core.cli.session_pool import found_sessions, found_subset, map_sessions, readable, skipped_line
from turnloom.core.cli.verdicts import add_judge_option, judge_pending, judge_profile
from turnloom.core.config import load_config
from turnloom.core.models import Session
from turnloom.core.quality.dataset_stats import (
    DatasetStats,
    DialogueRecord,
    collect_records,
    dialogue_record,
    render,
    render_failures,
)
from turnloom.core.storage.session_folder import read_sessions


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="Table 1 statistics (Step, Turn, Task, Samples) and quality metrics of sessions",
        description="Print the paper's Table 1 layout — Step (per request and per dialogue), Turn, "
        "Task, Samples; mean and max — plus user turns, subtasks per turn, finish reasons, "
        "acceptance, tool-call health, read/write mix, rule violations, tokens, cost, wall time "
        "and histograms of turns and tasks.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="DIR_OR_FILES",
        help="session files, or folders searched for *.session.json / *.session.toml",
    )
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")
    parser.add_argument(
        "--failures",
        action="store_true",
        help="also list every rejected dialogue with each failed check, the messages it points at and why",
    )
    add_judge_option(parser)
    parser.set_defaults(handler=handle)


def manifest_wall_times(paths: list[str]) -> dict[Path, float]:
    """Measured wall seconds per session file, from the batch manifests among `paths`."""
    by_file: dict[Path, float] = {}
    for raw in paths:
        folder = Path(raw)
        if folder.is_dir():
            manifest = load_manifest(folder)
            if manifest is not None:
                for entry in manifest.dialogues:
                    if entry.wall_s is not None:
                        by_file[(folder / entry.file).resolve()] = entry.wall_s
    return by_file


def load_sessions(paths: list[str]) -> tuple[list[Session], dict[str, float]]:
    """The sessions `paths` names, read in this process, and their measured wall times by session id
    (for commands that need the sessions themselves: `ablation`, `generate --db-dir`)."""
    walls_by_file = manifest_wall_times(paths)
    sessions: list[Session] = []
    walls: dict[str, float] = {}
    for read in read_sessions(found_sessions(paths)):
        if read.session is None:
            print(skipped_line(read.path, read.problem or "cannot be read"), file=sys.stderr)
            continue
        sessions.append(read.session)
        wall = walls_by_file.get(read.path.resolve())
        if wall is not None:
            walls[read.session.id] = wall
    return sessions, walls


def stats_item(
    path: Path, session: Session, *, prices: dict, max_messages: int, judge: str | None
) -> DialogueRecord | str:
    """One session's record for `collect_records`, or the judge profile it must see first (run in a worker)."""
    profile = judge_profile(session, judge)
    if profile is not None:
        return profile
    return dialogue_record(session, None, prices, max_messages)


def collect_paths(args: argparse.Namespace) -> DatasetStats:
    """Read the sessions `args.paths` names on every core, judge those that need it, and aggregate."""
    config = load_config(getattr(args, "config", None))
    found = found_sessions(args.paths)
    work = partial(
        stats_item,
        prices=dict(config.prices),
        max_messages=config.quality_max_messages,
        judge=getattr(args, "judge", None),
    )
    results, skipped = readable(list(map_sessions(found, work, "reading sessions")))
    to_judge = [item.path for item in results if isinstance(item.result, str)]
    if to_judge:
        judge_pending(args, to_judge)
        again = {item.path: item for item in map_sessions(found_subset(found, to_judge), work)}
        results = [again.get(item.path, item) if isinstance(item.result, str) else item for item in results]
    for path, reason in skipped:
        print(skipped_line(path, reason), file=sys.stderr)
    walls = manifest_wall_times(args.paths)  # measured by the batch: better than the summed latencies
    records = [item.result for item in results if isinstance(item.result, DialogueRecord)]
    for item in results:
        wall = walls.get(item.path.resolve()) if walls else None
        if wall is not None and isinstance(item.result, DialogueRecord):
            item.result.stats["wall_s"] = wall
    return collect_records(records)


def handle(args: argparse.Namespace) -> int:
    stats = collect_paths(args)
    if args.json:
        print(json.dumps(stats.to_dict(), indent=2))
    else:
        print(render(stats))
        if getattr(args, "failures", False):
            print("\nFailing dialogues\n" + render_failures(stats))
    return 0
