"""`generate --db-dir DIR`: one batch per SQLite database of a folder, with per-database stats.

Every `*.sqlite` in DIR gets its own batch folder `OUT/<stem>/` (its own manifest, so each
resumes on its own) and its own toolset, made once before its dialogues — derived from the
schema, or forged on the forge role's profile — saved as `OUT/<stem>/toolset.json` and pinned
by hash in that batch's config. `--n` is per database, or with `--n-per batch` split over the
databases in all. When every batch has run, `OUT/databases.json` holds the per-database and
overall figures (forge seconds, dialogues per second, Table 1 cells, acceptance) printed at
the end.

Leaves to others: running one batch (`generate_cmd`, `batch.run`), the statistics
themselves (`quality.dataset_stats`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from turnloom.core.batch.executors import Executor, ProcessExecutor
from turnloom.core.batch.manifest import BatchConfig
from turnloom.core.batch.run import BatchReport
from turnloom.core.config import TurnloomConfig
from turnloom.core.errors import TurnloomError, UsageError
from turnloom.core.models import ToolExecution

SUMMARY_FILE = "databases.json"


@dataclass(frozen=True)
class BatchSteps:
    """How `generate` runs one batch, handed in by `generate_cmd` (which this module does not import)."""

    config: Callable[[argparse.Namespace, TurnloomConfig], BatchConfig]
    """The batch config the options describe."""
    forged: Callable[[argparse.Namespace, BatchConfig, TurnloomConfig], BatchConfig]
    """The config with a toolset forged on the forge role's profile (into `OUT/<toolset_file>`)."""
    check: Callable[[BatchConfig], None]
    """Refuse a toolset that cannot serve the batch's database."""
    executor: Callable[[argparse.Namespace, BatchConfig, TurnloomConfig], Executor]
    """The executor the options and config call for."""
    run: Callable[[BatchConfig, argparse.Namespace, Executor, Any], Coroutine[Any, Any, BatchReport]]
    """Run the batch (no progress line: None)."""
    toolset_file: str
    """The name of a batch's own toolset file in its folder."""


@dataclass
class DatabaseRun:
    """What one database's batch came to."""

    database: str
    folder: str
    n: int
    done: int = 0
    failed: int = 0
    forge_s: float = 0.0
    wall_s: float = 0.0
    ran: int = 0
    tools: int = 0
    table1: dict[str, Any] | None = None
    accepted: int = 0

    @property
    def dialogues_per_s(self) -> float:
        return self.ran / self.wall_s if self.wall_s > 0 else 0.0


def databases_in(folder: str) -> list[Path]:
    """The `*.sqlite` files of `folder`, sorted by name.

    Raises:
        UsageError: the folder is missing or holds no `*.sqlite` file.
    """
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise UsageError(f"--db-dir {folder}: no such folder")
    files = sorted(p for p in path.glob("*.sqlite") if p.is_file())
    if not files:
        raise UsageError(f"--db-dir {folder}: no *.sqlite file in it (JSON databases: `turnloom import-db`)")
    return files


def split(n: int, count: int, per: str) -> list[int]:
    """Dialogues per database: `n` each, or `n` in all spread as evenly as they go (earlier ones first)."""
    if per == "database":
        return [n] * count
    return [n // count + (1 if index < n % count else 0) for index in range(count)]


def handle(args: argparse.Namespace, settings: TurnloomConfig, steps: BatchSteps) -> int:
    """Run one batch per database of `--db-dir`; print and save the per-database and overall figures."""
    if args.tools:
        raise UsageError("--db-dir makes one toolset per database; drop --tools (or use --db with it)")
    files = databases_in(args.db_dir)
    out = Path(args.out)
    runs: list[DatabaseRun] = []
    interrupted = False
    shared: ProcessExecutor | None = None  # one worker pool for every database's batch
    try:
        for file, n in zip(files, split(args.n, len(files), args.n_per), strict=True):
            if n == 0:
                continue
            one = argparse.Namespace(
                **{**vars(args), "db": str(file), "domain": None, "n": n, "out": str(out / file.stem)}
            )
            run = DatabaseRun(database=str(file.resolve()), folder=file.stem, n=n)
            try:
                config = steps.config(one, settings)
                started = time.perf_counter()
                config = pinned_toolset(one, config, settings, steps)
                run.forge_s = time.perf_counter() - started
                toolset = config.toolset()
                run.tools = len(toolset.tools) if toolset is not None else 0
                steps.check(config)
                executor = shared or steps.executor(one, config, settings)
                if isinstance(executor, ProcessExecutor) and shared is None:
                    executor.keep_open, shared = True, executor
                if not args.quiet:
                    print(
                        f"# {file.name}: {n} dialogue(s) into {one.out} ({run.tools} tools, {run.forge_s:.2f} s to forge)"
                    )
                report = asyncio.run(steps.run(config, one, executor, None))
            except TurnloomError as exc:
                raise type(exc)(f"{file.name} (batch {one.out}): {exc}") from exc
            run.done, run.failed, run.ran, run.wall_s = report.done, report.failed, report.ran, report.wall_s
            runs.append(run)
            if report.interrupted:
                interrupted = True
                break
    finally:
        if shared is not None:
            shared.close()
    figures = summarise(runs, out)
    (out / SUMMARY_FILE).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(render(figures))
    if interrupted:
        print("# interrupted: re-run the same command to resume", file=sys.stderr)
        return 130
    return 1 if any(run.failed for run in runs) else 0


def pinned_toolset(
    args: argparse.Namespace, config: BatchConfig, settings: TurnloomConfig, steps: BatchSteps
) -> BatchConfig:
    """The batch config with its database's toolset: `OUT/<stem>/toolset.json`, made now unless it exists."""
    from turnloom.core.players.forging import ToolSource, offline_toolset
    from turnloom.core.tools.toolset import file_sha256, save_toolset

    if config.roles.get("forge", "offline") != "offline":
        return steps.forged(args, config, settings)
    path = (Path(args.out) / steps.toolset_file).resolve()
    if not path.exists():
        toolset = offline_toolset(ToolSource.resolve(None, config.db), ToolExecution(config.execution))
        path.parent.mkdir(parents=True, exist_ok=True)
        save_toolset(path, toolset)
    return config.model_copy(update={"tools": str(path), "tools_sha256": file_sha256(path)})


def summarise(runs: list[DatabaseRun], out: Path) -> dict[str, Any]:
    """Per-database and overall figures, the Table 1 cells read from each batch folder."""
    from turnloom.core.cli.stats_cmd import load_sessions
    from turnloom.core.quality.dataset_stats import collect

    everything = []
    rows = []
    for run in runs:
        sessions, walls = load_sessions([str(out / run.folder)])
        everything.append((sessions, walls))
        stats = collect(sessions, walls)
        run.table1 = stats.rows[-1] if stats.rows else None
        run.accepted = stats.accepted
        rows.append({**asdict(run), "dialogues_per_s": run.dialogues_per_s})
    sessions = [s for group, _ in everything for s in group]
    walls = {k: v for _, group in everything for k, v in group.items()}
    overall = collect(sessions, walls)
    ran = sum(r.ran for r in runs)
    wall = sum(r.wall_s for r in runs)
    forge = [r.forge_s for r in runs]
    return {
        "databases": rows,
        "overall": {
            "databases": len(runs),
            "dialogues": overall.samples,
            "accepted": overall.accepted,
            "forge_s_total": sum(forge),
            "forge_s_per_database": sum(forge) / len(forge) if forge else 0.0,
            "ran": ran,
            "wall_s": wall,
            "dialogues_per_s": ran / wall if wall > 0 else 0.0,
            "table1": overall.rows,
        },
    }


def render(figures: dict[str, Any]) -> str:
    """The per-database table and the overall line."""

    def cell(row: dict[str, Any] | None, key: str) -> str:
        if not row:
            return "-"
        return f"{row[key]['mean']:.2f} ({row[key]['max']:g})"

    lines = [
        f"  {'Database':<24}{'Samples':>8}{'Accepted':>9}{'Tools':>6}{'Forge s':>9}{'Dlg/s':>8}"
        f"{'Step/req':>13}{'Turn':>15}{'Task':>12}"
    ]
    for row in figures["databases"]:
        t = row["table1"]
        lines.append(
            f"  {row['folder'][:23]:<24}{row['done']:>8}{row['accepted']:>9}{row['tools']:>6}{row['forge_s']:>9.2f}"
            f"{row['dialogues_per_s']:>8.1f}{cell(t, 'step_per_request'):>13}{cell(t, 'turn'):>15}{cell(t, 'task'):>12}"
        )
    o = figures["overall"]
    t = o["table1"][-1] if o["table1"] else None
    lines.append(
        f"  {'all':<24}{o['dialogues']:>8}{o['accepted']:>9}{'':>6}{o['forge_s_per_database']:>9.2f}"
        f"{o['dialogues_per_s']:>8.1f}{cell(t, 'step_per_request'):>13}{cell(t, 'turn'):>15}{cell(t, 'task'):>12}"
    )
    return "\n".join(lines)
