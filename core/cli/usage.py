"""The command line's own manners: one-line usage errors with suggestions, `--version`, `--color`.

`CommandParser` is the `ArgumentParser` of `turnloom` and of every subcommand (argparse gives
subparsers the parser's class): a usage error is one line naming what was wrong, with the
nearest option or command when there is one (`--seeed` -> `--seed`), and exit code 2.
`--color auto|always|never` is passed to what draws (`render.console`) through the
`TURNLOOM_COLOR` variable, so a worker process draws the same way; `NO_COLOR` means never.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from typing import NoReturn

COLOR_ENV = "TURNLOOM_COLOR"
COLOR_CHOICES = ("auto", "always", "never")


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line with a suggestion, then exit 2."""

    def error(self, message: str) -> NoReturn:
        hint = self._suggestion(message)
        help_hint = f"`{self.prog} --help` lists what it takes"
        if message.startswith("unrecognized arguments") and " " not in self.prog:
            help_hint = f"`{self.prog} COMMAND --help` lists a command's options"
        sys.stderr.write(f"{self.prog}: error: {message}{hint}; {help_hint}\n")
        sys.exit(2)

    def _suggestion(self, message: str) -> str:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = re.findall(r"'([^']*)'", choice.group(2)) or [c.strip() for c in choice.group(2).split(",")]
            return _nearest(choice.group(1), options)
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown:
            return _nearest(unknown.group(1).split("=")[0], self._every_option())
        return ""

    def _every_option(self) -> list[str]:
        """This parser's option strings and those of its subcommands (argparse reports them all here)."""
        names: list[str] = []
        for action in self._actions:
            names.extend(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    names.extend(s for a in sub._actions for s in a.option_strings)
        return sorted(set(names))


def _nearest(word: str, candidates: list[str]) -> str:
    starting = [c for c in candidates if c.startswith(word)] if word else []
    close = starting if len(starting) == 1 else difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


class VersionAction(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and exit")

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("turnloom")
        except PackageNotFoundError:
            number = "unknown (not installed)"
        print(f"turnloom {number}")
        parser.exit(0)


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """--version and --color on the top-level parser."""
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default=None,
        help="colour and styles in what commands print: auto (on a terminal, unless NO_COLOR is set; "
        "the default), always, never",
    )


def apply_color(choice: str | None) -> None:
    """Pass `--color` on to whatever draws, in this process and any it starts."""
    if choice is not None:
        os.environ[COLOR_ENV] = choice


def color_mode() -> str:
    """auto, always or never: `--color` if given, else never when `NO_COLOR` is set, else auto."""
    chosen = os.environ.get(COLOR_ENV, "auto")
    if chosen not in COLOR_CHOICES:
        chosen = "auto"
    if chosen == "auto" and os.environ.get("NO_COLOR"):
        return "never"
    return chosen
