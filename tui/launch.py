"""The `turnloom` console script: the workbench with no command, the core's command line otherwise.

The TUI sits above the command line in the layers: this module hands every subcommand to
`turnloom.core.cli` and only opens the app (imported on demand, so a headless command never
loads Textual) when none is given. The core never names the TUI.
"""

from __future__ import annotations

import argparse

from turnloom.core import cli


def open_workbench(args: argparse.Namespace) -> int:
    """`turnloom` with no command: the TUI on a new offline session."""
    from turnloom.tui import app

    return app.main(args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `turnloom` console script (and of `python -m turnloom.tui`)."""
    return cli.main(argv, no_command=open_workbench)
