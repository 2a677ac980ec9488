"""The `turnloom` command line: the headless subcommands, parsed and dispatched.

Owns: one module per subcommand (`*_cmd.py`), each exposing `register(subparsers) -> None`,
which adds its parser and sets `handler` (a function taking the parsed namespace and returning
an exit code); what they print (`render`: tables, transcripts and live progress, drawn with
rich; the only part of core allowed to import it); reading the files they are given (`loading`).
Leaves to others: what a command does (every layer below), and `turnloom` with no command,
which the TUI's launcher (`turnloom.tui.launch`) handles before deferring here: the core never
names the TUI. `python -m turnloom.core COMMAND` runs a command without it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from turnloom.core.cli import (
    ablation_cmd,
    check_cmd,
    compare_cmd,
    domains_cmd,
    export_cmd,
    forge_cmd,
    fork_cmd,
    generate_cmd,
    import_db_cmd,
    replay_cmd,
    rules_cmd,
    run_cmd,
    stats_cmd,
)
from turnloom.core.cli.usage import CommandParser, add_global_options, apply_color
from turnloom.core.errors import TurnloomError, UsageError

# in the order `--help` lists them
SUBCOMMANDS = (
    run_cmd,
    domains_cmd,
    forge_cmd,
    replay_cmd,
    fork_cmd,
    export_cmd,
    stats_cmd,
    generate_cmd,
    import_db_cmd,
    rules_cmd,
    compare_cmd,
    ablation_cmd,
    check_cmd,
)

# what `turnloom` does with no command: given the parsed options, returns an exit code
NoCommand = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
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
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None, no_command: NoCommand | None = None) -> int:
    """Run the command line `argv` (default: this process's arguments).

    Args:
        argv: the arguments after the program name.
        no_command: what to do when no subcommand is given (the TUI's launcher opens the
            workbench); None makes it a usage error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_color(args.color)
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
