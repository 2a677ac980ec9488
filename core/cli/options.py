"""Argument types and option groups shared by several subcommands."""

from __future__ import annotations

import argparse

from ..models import Mode, ToolExecution


class DefaultInt(int):
    """An int option's default value, told apart from the same number typed by the user.

    `run --from` keeps a saved session's own seed, tasks and limits unless the user
    gives them; `given(args.tasks)` says whether they did.
    """


def given(value: object) -> bool:
    """Whether an option's value came from the command line rather than its default."""
    return value is not None and not isinstance(value, DefaultInt)


def seed_type(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a whole number, not {text!r}") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, not {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, not {value}")
    return value


def add_generation_options(parser: argparse.ArgumentParser) -> None:
    """--domain/--db, --mode, --execution, --seed, --tasks, --max-messages, --rules."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--domain", default=None, help="built-in domain pack (see `turnloom domains`; default: retail)")
    source.add_argument("--db", metavar="FILE.sqlite", help="use your own SQLite database instead of a built-in domain")
    parser.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.USER_ORIENTED.value,
        help="user-oriented: a simulator reveals the task piece by piece (default); "
        "task-oriented: the first user turn states the whole task",
    )
    parser.add_argument(
        "--execution",
        choices=[e.value for e in ToolExecution],
        default=ToolExecution.SQL.value,
        help="sql: tools run on a real SQLite copy (default); simulated: results fit each tool's output schema",
    )
    parser.add_argument("--seed", type=seed_type, default=DefaultInt(0), help="random seed; the same seed reproduces the dialogue (default 0)")
    parser.add_argument("--tasks", type=non_negative_int, default=DefaultInt(3), help="tasks chained in the dialogue (default 3)")
    parser.add_argument("--max-messages", type=positive_int, default=DefaultInt(400), help="pause after this many messages (default 400)")
    parser.add_argument("--rules", default="paper", metavar="SET", help="user-behaviour rule set (default: paper; `none` for no rules)")
