"""--seed-tools and --questions-file: what the forge's first stages start from, in `forge`, `run` and `generate`.

Both feed the simulated-execution pipeline (questions -> tools -> expansion -> output
schemas) on the forge role's profile: seed tools are the examples question generation
starts from, a question list replaces the question stage. The checks run before any
token is spent and name the option, the file and, for a broken file, its line.
"""

from __future__ import annotations

import argparse

from turnloom.core.errors import UsageError
from turnloom.core.models import ToolExecution
from turnloom.core.tools.question_list import load_questions
from turnloom.core.tools.seed_tools import load_seed_tools

SEED_TOOLS_HELP = (
    "simulated execution: the example tools question generation starts from, OpenAI function-calling "
    "JSON or JSONL (one tool, or one record with a `tools` list, per line); default: the database's first "
    "search tools"
)
QUESTIONS_FILE_HELP = (
    "simulated execution: make tools for these questions instead of generating them — the "
    "TOOLS.questions.json a forge writes after its question stage, a JSON array, or one question per line"
)


def add_forge_input_options(parser: argparse.ArgumentParser, *, needs_profile: bool) -> None:
    """--seed-tools FILE and --questions-file FILE; `needs_profile` says so in the help (run, generate)."""
    on_profile = "with the forge role on a profile, " if needs_profile else ""
    parser.add_argument("--seed-tools", metavar="FILE", help=on_profile + SEED_TOOLS_HELP)
    parser.add_argument("--questions-file", metavar="FILE", help=on_profile + QUESTIONS_FILE_HELP)


def named(args: argparse.Namespace) -> list[str]:
    """The forge inputs given, as their options: ["--seed-tools", ...]."""
    return [
        option
        for option, value in (("--seed-tools", args.seed_tools), ("--questions-file", args.questions_file))
        if value
    ]


def refuse_with_tools(args: argparse.Namespace) -> None:
    """Refuse forge inputs beside --tools (a toolset given is not forged).

    Raises:
        UsageError: both given.
    """
    options = named(args)
    if options and getattr(args, "tools", None):
        said = " and ".join(options)
        raise UsageError(
            f"{said} {'feed' if len(options) > 1 else 'feeds'} the forge that makes the toolset and --tools "
            "gives one; pass only one of them"
        )


def check_forge_inputs(args: argparse.Namespace, forge_profile: str | None, execution: ToolExecution) -> None:
    """Refuse forge inputs that would not be used, and broken files, before any request.

    Args:
        args: the command's arguments (`seed_tools`, `questions_file`, and `tools` where the
            command has it).
        forge_profile: the profile the forge role plays on; None or "offline" when it has none.
        execution: the tool execution the tools are made for.

    Raises:
        UsageError: with --tools, with the forge role offline, or in sql execution.
        ToolsetError: a file that is missing or malformed, naming its line or index.
    """
    refuse_with_tools(args)
    options = named(args)
    if not options:
        return
    said = " and ".join(options)
    feeds = "feed" if len(options) > 1 else "feeds"
    if forge_profile is None or forge_profile == "offline":
        raise UsageError(
            f"{said} {feeds} the forge: play the forge role on a profile (--profile NAME or --role forge=PROFILE)"
        )
    if execution is ToolExecution.SQL:
        stage = "question generation" if options == ["--seed-tools"] else "tool generation"
        raise UsageError(f"{said} {feeds} {stage}, which runs in simulated execution; add --execution simulated")
    if args.seed_tools:
        load_seed_tools(args.seed_tools)
    if args.questions_file:
        load_questions(args.questions_file)
