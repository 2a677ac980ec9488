"""Argument types and option groups shared by several subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from turnloom.core.models import DEFAULT_MAX_MESSAGES, Mode, Session, ToolExecution

if TYPE_CHECKING:
    from turnloom.core.players.setup import BackendSetup


class DefaultInt(int):
    """An int option's default value, told apart from the same number typed by the user.

    `run --from` keeps a saved session's own seed, tasks and limits unless the user
    gives them; `given(args.tasks)` says whether they did.
    """


class DefaultStr(str):
    """A text option's default value, told apart from the same text typed by the user."""


def given(value: object) -> bool:
    """Whether an option's value came from the command line rather than its default."""
    return value is not None and not isinstance(value, (DefaultInt, DefaultStr))


def seed_type(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a whole number, not {text!r}") from None


def _whole_number_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number of at least {minimum}, not {value}")
        return value

    return parse


positive_int = _whole_number_at_least(1)
non_negative_int = _whole_number_at_least(0)


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
        default=DefaultStr(ToolExecution.SQL.value),
        help="sql: tools run on a real SQLite copy (default, or the --tools file's); "
        "simulated: results fit each tool's output schema",
    )
    parser.add_argument(
        "--seed",
        type=seed_type,
        default=DefaultInt(0),
        help="random seed; the same seed reproduces the dialogue (default 0)",
    )
    parser.add_argument(
        "--tasks",
        type=non_negative_int,
        default=None,
        help="tasks chained in a new dialogue (default: drawn from the seed, mostly 1-5 with a tail of "
        "long dialogues); with run --from, tasks to add to it",
    )
    parser.add_argument(
        "--max-messages",
        type=positive_int,
        default=DefaultInt(DEFAULT_MAX_MESSAGES),
        help=f"pause after this many messages (default {DEFAULT_MAX_MESSAGES:,})",
    )
    parser.add_argument(
        "--rules", default="paper", metavar="SET", help="user-behaviour rule set (default: paper; `none` for no rules)"
    )


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """--profile NAME, --role ROLE=PROFILE (repeatable), --cache FILE (repeatable)."""
    group = parser.add_argument_group("backends")
    group.add_argument("--profile", metavar="NAME", help="play every role on this [profiles.NAME] of turnloom.toml")
    group.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="ROLE=PROFILE",
        help="play one role (task, forge, user, assistant, tool, judge) on a profile; repeatable; PROFILE may be `offline`",
    )
    group.add_argument(
        "--cache",
        action="append",
        default=[],
        metavar="FILE",
        help="answer model requests from this exchange log (*.llm.jsonl, written beside every session) before "
        "calling the endpoint; a re-run with the same seed then costs zero tokens; repeatable",
    )


def add_tools_option(parser: argparse.ArgumentParser) -> None:
    """--tools TOOLS.json."""
    parser.add_argument(
        "--tools",
        metavar="TOOLS.json",
        help="use the tools of this toolset file (made by `turnloom forge`) instead of deriving them; "
        "checked against the database first. Its domain and execution are the defaults",
    )


def add_task_file_option(parser: argparse.ArgumentParser) -> None:
    """--task-file FILE."""
    parser.add_argument(
        "--task-file",
        metavar="FILE",
        help="take the dialogues' tasks from this task list (the tasks.jsonl `generate` writes, or your own: "
        "goal, subtasks, difficulty, rubric per task) instead of the task generator; a batch's dialogues take "
        "--tasks of them each, in turn",
    )


def backend_setup(args: argparse.Namespace, session: Session, out: Path) -> BackendSetup | None:
    """Apply --profile/--role (over the config's [roles]) to `session`; the shared setup, or None if all offline.

    Exchanges are recorded beside `out` (see `endpoint.exchange_log.exchange_log_path`).

    Raises:
        UsageError: a malformed --role or an unknown profile. ConfigError: a bad config file.
    """
    from turnloom.core.config import load_config

    config = load_config(getattr(args, "config", None))
    if args.profile or args.role or not session.config.roles:
        from turnloom.core.players.setup import resolve_role_map

        session.config.roles = resolve_role_map(config, args.profile, args.role)
    if not any(name != "offline" for name in session.config.roles.values()):
        if args.cache:
            from turnloom.core.errors import UsageError

            raise UsageError("--cache needs a role on a profile (--profile NAME or --role ROLE=PROFILE)")
        return None
    from turnloom.core.endpoint.exchange_log import exchange_log_path
    from turnloom.core.players.setup import BackendSetup

    # a new dialogue replaces the exchanges of whatever was saved at `out` before; a continued one adds to them
    fresh = not getattr(args, "from_file", None)
    return BackendSetup.create(config, record=exchange_log_path(out), cache=args.cache or None, replace_record=fresh)
