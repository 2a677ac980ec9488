"""The `turnloom` command: the TUI by default, headless subcommands otherwise.

Each subcommand lives in its own module in this package and exposes
`register(subparsers) -> None`, which adds its parser and sets `handler`
(a function taking the parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from turnloom.core.errors import TurnloomError

# module names in this package, in the order `--help` lists them
SUBCOMMAND_MODULES = (
    "run_cmd",
    "domains_cmd",
    "forge_cmd",
    "replay_cmd",
    "fork_cmd",
    "export_cmd",
    "stats_cmd",
    "generate_cmd",
    "rules_cmd",
    "compare_cmd",
    "check_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="turnloom",
        description=(
            "A terminal workbench for multi-turn, tool-using dialogue data. "
            "With no subcommand, opens the TUI on a new offline session."
        ),
    )
    parser.add_argument(
        "--config", metavar="FILE", help="config file (default: ./turnloom.toml, then the user config dir)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # subcommand not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `turnloom` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _open_tui(args)
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


def _open_tui(args: argparse.Namespace) -> int:
    try:
        tui = importlib.import_module("turnloom.tui.app")
    except ModuleNotFoundError:
        # until the TUI lands, the default is a headless offline dialogue
        from turnloom.core.cli import run_cmd

        return run_cmd.run_default()
    return int(tui.main(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
