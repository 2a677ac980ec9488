"""`turnloom ablation`: the paper's Table 3 datasets, size-matched, with their statistics side by side.

Three batches of N dialogues on the same seeds and the same domain or databases, each a
`turnloom generate` run into its own folder (so each resumes on its own):

- `task-oriented/`: the first user turn states the whole task; synthetic tools, simulated execution;
- `user-oriented/`: the user simulator with rules and descriptive tasks; simulated execution;
- `user-oriented-sql/`: the same, with the tools executed on the SQLite database.

Then the statistics of each in the paper's Table 1 layout (Step per request and per
dialogue, Turn, Task as mean (max); samples; acceptance) printed together and saved to
`OUT/ablation.json`. Leaves to others: the batches (`generate_cmd`), the statistics
(`quality.dataset_stats`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from turnloom.core.cli import generate_cmd
from turnloom.core.cli.options import non_negative_int, positive_int, seed_type
from turnloom.core.errors import UsageError
from turnloom.core.quality.dataset_stats import PAPER_ROWS

# (folder, label, mode, execution) — the rows of the paper's Table 3
VARIANTS = (
    ("task-oriented", "task-oriented", "task-oriented", "simulated"),
    ("user-oriented", "user-oriented", "user-oriented", "simulated"),
    ("user-oriented-sql", "user-oriented + tool execution", "user-oriented", "sql"),
)
SUMMARY_FILE = "ablation.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ablation",
        help="the paper's Table 3: three size-matched datasets and their statistics side by side",
        description=(
            "Generate the three datasets of the paper's ablation (Table 3) — task-oriented, user-oriented, "
            "user-oriented with SQL tool execution — N dialogues each on the same seeds, into OUT/<variant>/, "
            "then print their statistics side by side in the Table 1 layout (also OUT/ablation.json). "
            "Re-running the same command resumes every batch."
        ),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--domain", help="built-in domain pack (default: retail)")
    source.add_argument("--db", metavar="FILE.sqlite", help="your own SQLite database")
    source.add_argument("--db-dir", metavar="DIR", help="every *.sqlite in DIR (N dialogues in all, spread over them)")
    parser.add_argument("--n", type=positive_int, required=True, help="dialogues in each of the three datasets")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (one sub-folder per variant)")
    parser.add_argument("--tasks", type=non_negative_int, default=3, help="tasks per dialogue (default 3)")
    parser.add_argument("--seed-start", type=seed_type, default=0, metavar="S", help="first seed (default 0)")
    parser.add_argument("--rules", default="paper", metavar="SET", help="user-oriented rule set (default: paper)")
    parser.add_argument("--workers", type=positive_int, help="processes for offline dialogues (default: CPU count)")
    parser.add_argument("--concurrency", type=positive_int, help="requests in flight to a model endpoint")
    parser.add_argument("--quiet", action="store_true", help="only the table")
    group = parser.add_argument_group("backends")
    group.add_argument("--profile", metavar="NAME", help="play every role on this [profiles.NAME] of turnloom.toml")
    group.add_argument("--role", action="append", default=[], metavar="ROLE=PROFILE", help="one role on a profile")
    parser.set_defaults(handler=handle)


def generate_args(args: argparse.Namespace, folder: str, mode: str, execution: str) -> list[str]:
    """The `turnloom generate` command line of one variant."""
    argv = ["generate", "--n", str(args.n), "--out", str(Path(args.out) / folder), "--mode", mode]
    argv += ["--execution", execution, "--tasks", str(args.tasks), "--seed-start", str(args.seed_start)]
    if mode == "user-oriented":
        argv += ["--rules", args.rules]
    if args.db_dir:
        argv += ["--db-dir", args.db_dir, "--n-per", "batch"]
    elif args.db:
        argv += ["--db", args.db]
    else:
        argv += ["--domain", args.domain or "retail"]
    for flag, value in (("--workers", args.workers), ("--concurrency", args.concurrency), ("--profile", args.profile)):
        if value is not None:
            argv += [flag, str(value)]
    for role in args.role:
        argv += ["--role", role]
    if args.quiet:
        argv.append("--quiet")
    if getattr(args, "config", None):
        argv = ["--config", args.config, *argv]
    return argv


def run_generate(argv: list[str]) -> int:
    """Run `turnloom generate` with the command line `argv` (after `generate`); its exit code."""
    parser = argparse.ArgumentParser(prog="turnloom")
    parser.add_argument("--config")
    generate_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


def handle(args: argparse.Namespace) -> int:
    from turnloom.core.domains import get_pack

    if args.domain is not None:
        get_pack(args.domain)  # an unknown domain is named before three batches fail on it
    code = 0
    for folder, label, mode, execution in VARIANTS:
        if not args.quiet:
            print(f"# {label}: {args.n} dialogue(s) into {Path(args.out) / folder}", file=sys.stderr)
        argv = generate_args(args, folder, mode, execution)
        # the two simulated datasets share one forged toolset: only the pipeline differs between them
        shared = Path(args.out) / VARIANTS[0][0] / "toolset.json"
        if folder == "user-oriented" and shared.exists() and not args.db_dir:
            argv += ["--tools", str(shared)]
        result = run_generate(argv)
        if result in (2, 130):
            return result  # a usage error or an interrupt: the next variants would meet it too
        code = code or result
    rows = table(args)
    (Path(args.out) / SUMMARY_FILE).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(render(rows))
    return code


def table(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One Table 1 row per variant, read from its folder."""
    from turnloom.core.cli.stats_cmd import load_sessions
    from turnloom.core.config import load_config
    from turnloom.core.quality.dataset_stats import collect

    config = load_config(getattr(args, "config", None))
    rows = []
    for folder, label, _mode, _execution in VARIANTS:
        path = Path(args.out) / folder
        if not path.is_dir():
            raise UsageError(f"{path}: missing; the {label} batch did not run")
        found = any(path.rglob("*.session.json")) or any(path.rglob("*.session.toml"))
        sessions, walls = load_sessions([str(path)]) if found else ([], {})
        stats = collect(sessions, walls, config.prices, config.quality_max_messages)
        overall = stats.rows[-1] if stats.rows else None
        rows.append(
            {
                "variant": label,
                "folder": folder,
                "samples": stats.samples,
                "accepted": stats.accepted,
                "step_per_request": overall["step_per_request"] if overall else None,
                "step_per_dialogue": overall["step_per_dialogue"] if overall else None,
                "turn": overall["turn"] if overall else None,
                "task": overall["task"] if overall else None,
                "tokens": stats.tokens["total"],
            }
        )
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    """The three rows in the Table 1 layout: mean (max)."""

    def cell(value: dict[str, float] | None) -> str:
        return "-" if not value else f"{value['mean']:.2f} ({value['max']:.4g})"

    lines = [
        "Table 3 datasets in the Table 1 layout — mean (max)",
        f"  {'Pipeline':<32}{'Step/req':>13}{'Step/dlg':>14}{'Turn':>15}{'Task':>12}{'Samples':>9}{'Accepted':>10}",
    ]
    for row in rows:
        lines.append(
            f"  {row['variant']:<32}{cell(row['step_per_request']):>13}{cell(row['step_per_dialogue']):>14}"
            f"{cell(row['turn']):>15}{cell(row['task']):>12}{row['samples']:>9}{row['accepted']:>10}"
        )
    lines.append("  the paper's Table 1 (its data, made by a real model; Step is per request or per dialogue there):")
    for name, source, step, turn, task, samples in PAPER_ROWS:
        paper = {"mean": step[0], "max": step[1]}
        lines.append(
            f"  {name + ' (' + source + ')':<32}{cell(paper):>13}{'':>14}"
            f"{cell({'mean': turn[0], 'max': turn[1]}):>15}{cell({'mean': task[0], 'max': task[1]}):>12}{samples:>9,}"
        )
    return "\n".join(lines)
