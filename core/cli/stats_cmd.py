"""`turnloom stats`: the paper's Table 1 (and the quality metrics beside it) for a set of sessions.

Reads session files and folders of them (recovering journals), takes measured
wall times from a batch folder's manifest when there is one, and prints
`dataset_stats.render`, or its JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from turnloom.core.batch.manifest import load_manifest
from turnloom.core.cli.export_cmd import session_files
from turnloom.core.config import load_config
from turnloom.core.models import Session
from turnloom.core.quality.dataset_stats import collect, render
from turnloom.core.storage.journal import open_session


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
    for path in session_files(paths):
        session, warnings = open_session(path)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        sessions.append(session)
        wall = by_file.get(path.resolve())
        if wall is not None:
            walls[session.id] = wall
    return sessions, walls


def handle(args: argparse.Namespace) -> int:
    sessions, walls = load_sessions(args.paths)
    prices = load_config(getattr(args, "config", None)).prices
    stats = collect(sessions, walls, prices)
    if args.json:
        print(json.dumps(stats.to_dict(), indent=2))
    else:
        print(render(stats))
    return 0
