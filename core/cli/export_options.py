"""The `export` command's shaping options, and the `ExportOptions` they make.

Kept apart from `export_cmd` so that command stays about reading sessions and reporting.
"""

from __future__ import annotations

import argparse

from turnloom.core.errors import UsageError
from turnloom.core.export import ExportOptions, ParallelCalls, ToolSelection, check_options


def tool_selection(text: str) -> ToolSelection:
    """`--tools` as argparse reads it."""
    try:
        return ToolSelection.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """--json-strings, --parallel-calls, --tools, --system, --keep-reasoning."""
    parser.add_argument(
        "--json-strings",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write tools (and hf tool-call arguments) as JSON strings, which every `datasets` release "
        "loads as written (default: on for hf, off for openai, whose API takes objects)",
    )
    parser.add_argument(
        "--parallel-calls",
        choices=[str(p) for p in ParallelCalls],
        default=str(ParallelCalls.KEEP),
        help="keep a step's parallel calls together, or split them into call -> result pairs in the order "
        "they ran (for Llama-3.1 and glm4 templates; default: keep)",
    )
    parser.add_argument(
        "--tools",
        type=tool_selection,
        default=ToolSelection(),
        metavar="all|used|used+N",
        help="tool schemas listed per record: all, the ones the dialogue used, or those plus N others "
        "drawn per session (seeded) (default: all)",
    )
    parser.add_argument(
        "--system",
        action="store_true",
        help="open each record with the assistant's system prompt when the dialogue has none",
    )
    parser.add_argument(
        "--keep-reasoning",
        action="store_true",
        help="keep reasoning models' traces (hf: reasoning_content; sharegpt, hermes: <think>...</think>)",
    )


def export_options_from(args: argparse.Namespace) -> ExportOptions:
    """The options parsed by `add_export_options`, checked against `--format`.

    Raises:
        UsageError: an option the format cannot honour (e.g. --keep-reasoning with openai).
    """
    options = ExportOptions(
        json_strings=args.json_strings,
        parallel_calls=ParallelCalls(args.parallel_calls),
        tools=args.tools,
        system=args.system,
        keep_reasoning=args.keep_reasoning,
    )
    try:
        check_options(args.fmt, options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return options
