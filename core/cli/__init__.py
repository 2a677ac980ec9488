"""The `turnloom` command line: the headless subcommands, parsed and dispatched.

Owns: one module per subcommand (`*_cmd.py`), each exposing `register(subparsers) -> None`,
which adds its parser and sets `handler` (a function taking the parsed namespace and returning
an exit code); what they print (`render`: tables, transcripts and live progress, drawn with
rich; the only part of core allowed to import it); reading the files they are given (`loading`).
Leaves to others: what a command does (every layer below), and `turnloom` with no command
and `turnloom review DIR` (the review view), which the TUI's launcher (`turnloom.tui.launch`)
handles by passing `no_command` and `open_review` to `main`: the core never names the TUI. `python -m turnloom.core COMMAND` runs a command without it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from turnloom.core.cli.usage import CommandParser, add_global_options, apply_color
from turnloom.core.errors import TurnloomError, UsageError

# each command: its module and the line `turnloom --help` shows for it, in the order listed there.
# A module (and all it imports) loads only when its command runs or shows its own help, so
# `turnloom --help` starts in a tenth of the time; a test keeps these lines equal to the modules' own.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run_cmd", "generate one dialogue headless and save it"),
    "domains": ("domains_cmd", "list the built-in domains"),
    "forge": ("forge_cmd", "make a toolset file (tools for a domain or database) for run/generate --tools"),
    "replay": ("replay_cmd", "print a saved dialogue with provenance; --verify re-runs its tool calls"),
    "fork": ("fork_cmd", "save the first N messages of a session as a new session"),
    "export": (
        "export_cmd",
        "export sessions as training JSONL (openai, hf, sharegpt, hermes; dpo: the curator's preference pairs)",
    ),
    "stats": ("stats_cmd", "Table 1 statistics (Step, Turn, Task, Samples) and quality metrics of sessions"),
    "generate": ("generate_cmd", "generate a batch of dialogues into a folder (concurrent, resumable)"),
    "import-db": ("import_db_cmd", "convert τ2-style JSON databases (tables as lists of records) to SQLite"),
    "rules": ("rules_cmd", "list user-behaviour rules and rule sets; show or check one"),
    "compare": ("compare_cmd", "run two rule sets on the same seeds and compare the dialogues"),
    "ablation": ("ablation_cmd", "the paper's Table 3: three size-matched datasets and their statistics side by side"),
    "check": ("check_cmd", "probe what an endpoint supports"),
    "review": (
        "review_cmd",
        "review a folder of sessions: list them with verdicts and labels, label them, or open the review view",
    ),
}
_EVERY_COMMAND = "*"

# what `turnloom` does with no command: given the parsed options, returns an exit code
NoCommand = Callable[[argparse.Namespace], int]


def build_parser(command: str | None = _EVERY_COMMAND) -> argparse.ArgumentParser:
    """The command line's parser.

    Args:
        command: the subcommand whose module is loaded to parse its options; the others get
            a placeholder with their `--help` line. By default every command is loaded.
    """
    parser = CommandParser(
        prog="turnloom",
        description=(
            "A terminal workbench for multi-turn, tool-using dialogue data. "
            "With no subcommand, opens the TUI on a new offline session."
        ),
    )
    parser.add_argument(
        "--config", metavar="FILE", help="config file (default: ./turnloom.toml, then the user config dir)"
    )
    add_global_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        if command in (name, _EVERY_COMMAND):
            importlib.import_module(f"{__name__}.{module}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def _command_named(argv: list[str]) -> str | None:
    """The subcommand `argv` names (the first word that is not an option or a global option's value)."""
    words = iter(argv)
    for word in words:
        if word in ("--config", "--color"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main(
    argv: list[str] | None = None,
    no_command: NoCommand | None = None,
    open_review: Callable[[Path], int] | None = None,
) -> int:
    """Run the command line `argv` (default: this process's arguments).

    Args:
        argv: the arguments after the program name.
        no_command: what to do when no subcommand is given (the TUI's launcher opens the
            workbench); None makes it a usage error.
        open_review: what `turnloom review DIR` (with neither --list nor --label) calls with
            the folder (the TUI's launcher opens the review view); None makes it a usage error.
    """
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(_command_named(argv))
    args = parser.parse_args(argv)
    apply_color(args.color)
    args.open_review = open_review
    try:
        if args.command is None:
            if no_command is None:
                raise UsageError("name a COMMAND (`turnloom --help` lists them); `turnloom` alone opens the TUI")
            return int(no_command(args) or 0)
        return int(args.handler(args) or 0)
    except TurnloomError as exc:
        print(f"turnloom: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("turnloom: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`turnloom replay x | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
