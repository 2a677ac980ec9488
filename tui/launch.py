"""The `turnloom` console script: the workbench with no command, the core's command line otherwise.

The TUI sits above the command line in the layers: this module hands every subcommand to
`turnloom.core.cli` and only opens the app (imported on demand, so a headless command never
loads Textual) when none is given, or when `turnloom review DIR` asks for the review view.
The core never names the TUI.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path

from turnloom.core import cli
from turnloom.core.errors import TurnloomError

# what marks the first word as a session to open rather than a command
SESSION_NAME_ENDINGS = (".json", ".toml", ".journal")


def open_workbench(args: argparse.Namespace, session_path: str | None = None) -> int:
    """`turnloom` with no command: the TUI on a new offline session, or on `session_path`."""
    from turnloom.tui import app

    return app.main(args, session_path)


def open_review(folder: Path, config_path: str | None = None) -> int:
    """`turnloom review DIR`: the TUI on the review list of `folder`."""
    from turnloom.tui import review

    return review.launch(folder, config_path)


def config_argument(argv: list[str]) -> str | None:
    """The value of the global `--config FILE` option in `argv`, if given."""
    for position, word in enumerate(argv):
        if word == "--config" and position + 1 < len(argv):
            return argv[position + 1]
        if word.startswith("--config="):
            return word.split("=", 1)[1]
    return None


def session_argument(argv: list[str]) -> tuple[str | None, list[str]]:
    """`turnloom [OPTIONS] FILE.session.json`: the session to open and the other arguments.

    The first word that is not an option (or an option's value) is a session when it reads as
    a path — a session suffix, a folder separator, or an existing file (no command name is
    any of these); anything else is left to the command line's parser.
    """
    skip_next = False
    for position, word in enumerate(argv):
        if skip_next:
            skip_next = False
            continue
        if word in ("--config", "--color"):
            skip_next = True
            continue
        if word.startswith("-"):
            continue
        if word.lower().endswith(SESSION_NAME_ENDINGS) or os.sep in word or os.path.isfile(word):
            return word, argv[:position] + argv[position + 1 :]
        return None, argv
    return None, argv


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `turnloom` console script (and of `python -m turnloom`)."""
    argv = sys.argv[1:] if argv is None else argv
    path, rest = session_argument(argv)
    if path is not None:
        from turnloom.core.lifecycle.session_paths import session_file

        try:
            session_file(path)  # a bad path is one line and exit 2, before the TUI starts
        except TurnloomError as exc:
            print(f"turnloom: error: {exc}", file=sys.stderr)
            return exc.exit_code
    return cli.main(
        rest,
        no_command=partial(open_workbench, session_path=path),
        open_review=partial(open_review, config_path=config_argument(rest)),
    )
