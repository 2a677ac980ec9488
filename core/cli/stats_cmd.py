"""`turnloom stats`: the paper's Table 1 (and the quality metrics beside it) for a set of sessions.

Reads session files and folders of them (recovering journals), takes measured
wall times from a batch folder's manifest when there is one, and prints
`dataset_stats.render`, or its JSON with --json; counts per quality check, and with
--failures every failing dialogue. The rubric judge runs first where mapped (`cli.verdicts`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from turnloom.core.batch.manifest import load_manifest
from turnloom.core.cli.export_cmd import read_named_sessions
from turnloom.core.cli.verdicts import add_judge_option, judge_pending
from turnloom.core.config import load_config
from turnloom.core.models import Session
from turnloom.core.quality.dataset_stats import collect, render, render_failures


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


def load_sessions(paths: list[str]) -> tuple[list[Session], dict[str, float]]:
    """The sessions named by `paths`, and wall times from any batch manifests among them."""
    sessions: list[Session] = []
    walls: dict[str, float] = {}
    by_file: dict[Path, float] = {}
    for raw in paths:
        folder = Path(raw)
        if folder.is_dir():
            manifest = load_manifest(folder)
            if manifest is not None:
                for entry in manifest.dialogues:
                    if entry.wall_s is not None:
                        by_file[(folder / entry.file).resolve()] = entry.wall_s
    for path, session in read_named_sessions(paths):
        sessions.append(session)
        wall = by_file.get(path.resolve())
        if wall is not None:
            walls[session.id] = wall
    return sessions, walls


def handle(args: argparse.Namespace) -> int:
    judge_pending(args)
    sessions, walls = load_sessions(args.paths)
    config = load_config(getattr(args, "config", None))
    stats = collect(sessions, walls, config.prices, config.quality_max_messages)
    if args.json:
        print(json.dumps(stats.to_dict(), indent=2))
    else:
        print(render(stats))
        if getattr(args, "failures", False):
            print("\nFailing dialogues\n" + render_failures(stats))
    return 0
