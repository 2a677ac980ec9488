"""Shell completion for `turnloom` (bash, zsh, fish), answered by argcomplete from the parser itself.

`turnloom completion SHELL` prints the script a shell loads (argcomplete's `shellcode`). On each
TAB the shell runs `turnloom` with argcomplete's variables (`_ARGCOMPLETE`, `COMP_LINE`, ...), and
`complete_if_asked` answers before anything else runs: it builds the same parser that parses the
command line (`build_parser`, loading only the command being typed, so a TAB stays quick), so every
subcommand, option and choice completes as soon as it is registered, with no edit here.

What argparse cannot know is attached by the option's name or metavar (`attach_completers`):
built-in domain names (`--domain`), rule-set names and `*.ruleset.toml` files (`--rules`), profile
names from the config (`--profile`, `--role ROLE=PROFILE`), session files and folders (a
positional FILE, `--from`, `turnloom FILE` itself), files of the suffix a metavar names
(`FILE.sqlite`, `TOOLS.json`), folders (`DIR`) and the words of a metavar like `all|used|used+N`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

SHELLS = ("bash", "zsh", "fish")
PROGRAM = "turnloom"
SESSION_SUFFIXES = ("session.json", "session.toml", "session.journal")
# `run --from` also takes plain transcripts and exports (`.json` covers `.session.json`)
FROM_SUFFIXES = ("json", "jsonl", "session.toml", "session.journal")

Completer = Callable[..., Iterable[str]]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `completion` subcommand."""
    parser = subparsers.add_parser(
        "completion",
        help="print the shell completion script (bash, zsh or fish)",
        description=(
            "Print the script that makes TAB complete turnloom's commands, options, domains, rule sets, "
            "profiles and session files. Load it from your shell's start-up file, e.g. "
            '`eval "$(turnloom completion bash)"` in ~/.bashrc (README: Shell completion).'
        ),
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell to print the script for")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the completion script for `args.shell`."""
    from argcomplete import shellcode

    print(shellcode([PROGRAM], shell=args.shell))
    return 0


def complete_if_asked(build: Callable[[str | None], argparse.ArgumentParser]) -> None:
    """When the shell asks for completions (`_ARGCOMPLETE` set), print them and exit; otherwise return.

    Args:
        build: builds the command line's parser, given the subcommand to load.
    """
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    line = os.environ.get("COMP_LINE", "")
    point = int(os.environ.get("COMP_POINT", len(line)))
    try:
        words = argcomplete.split_line(line, point)[3][1:]
    except argcomplete.ArgcompleteException:
        words = []
    parser = build(_command_in(words))
    attach_completers(parser)
    argcomplete.autocomplete(parser, always_complete_options=False, exit_method=_exit)


def _exit(code: int) -> None:
    sys.stdout.flush()
    os._exit(code)  # as argcomplete does: nothing after a completion may print


def _command_in(words: list[str]) -> str | None:
    """The subcommand among the finished words of the line (skipping the global options' values)."""
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("--config", "--color"):
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def attach_completers(parser: argparse.ArgumentParser) -> None:
    """Give each action of `parser` and its loaded subcommands the completer its name or metavar calls for."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.completer = session_files  # type: ignore[attr-defined]  # `turnloom FILE` opens a session
            for sub in action.choices.values():
                attach_completers(sub)
            continue
        completer = _completer_for(action)
        if completer is not None and action.choices is None:
            action.completer = completer  # type: ignore[attr-defined]


def _completer_for(action: argparse.Action) -> Completer | None:
    options = set(action.option_strings)
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if "--domain" in options:
        return domain_names
    if "--rules" in options:
        return rule_sets
    if "--profile" in options:
        return profile_names
    if "--role" in options:
        return role_profiles
    if "--from" in options:
        return session_or_transcript_files
    if "|" in metavar and " " not in metavar:
        return _words(metavar)
    if metavar == "DIR":
        from argcomplete import DirectoriesCompleter

        return DirectoriesCompleter()
    suffix = metavar.rpartition(".")[2] if "." in metavar else ""
    if suffix:
        from argcomplete import FilesCompleter

        return FilesCompleter(allowednames=[suffix])
    if not action.option_strings and any(word in metavar for word in ("FILE", "SESSION", "FOLDER", "DIR")):
        return session_files
    return None


def _words(metavar: str) -> Completer:
    """The words of a metavar like `all|used|used+N` (a trailing placeholder dropped to its stem)."""
    words = [word.rstrip("N") for word in metavar.split("|")]
    return lambda **_: words


def domain_names(**_: Any) -> list[str]:
    """The built-in domains."""
    from turnloom.core.domains import pack_names

    return pack_names()


def rule_sets(prefix: str = "", **_: Any) -> list[str]:
    """Rule-set names (built-in, ./rules, the user config's rules/), `none`, and `*.ruleset.toml` files."""
    from argcomplete import FilesCompleter

    from turnloom.core.rules.catalog import load_catalog

    names = sorted(load_catalog().sets)
    return [*names, "none", *FilesCompleter(allowednames=["ruleset.toml"])(prefix=prefix)]


def profile_names(parsed_args: argparse.Namespace | None = None, **_: Any) -> list[str]:
    """The `[profiles.NAME]` of the config in force (`--config`, ./turnloom.toml, the user config)."""
    from turnloom.core.config import load_config
    from turnloom.core.errors import TurnloomError

    try:
        config = load_config(getattr(parsed_args, "config", None))
    except TurnloomError:
        return []  # a broken config is reported when the command runs, not in the middle of a TAB
    return sorted(config.profiles)


def role_profiles(prefix: str = "", parsed_args: argparse.Namespace | None = None, **_: Any) -> list[str]:
    """`ROLE=` for each role, then `ROLE=PROFILE` (a profile of the config, or `offline`) once a role is typed."""
    from turnloom.core.models import RoleName

    role, equals, _typed = prefix.partition("=")
    if not equals:
        return [f"{name.value}=" for name in RoleName]
    return [f"{role}={name}" for name in [*profile_names(parsed_args), "offline"]]


def session_files(prefix: str = "", **_: Any) -> list[str]:
    """Session snapshots and journals, and folders to look in."""
    from argcomplete import FilesCompleter

    return FilesCompleter(allowednames=SESSION_SUFFIXES)(prefix=prefix)


def session_or_transcript_files(prefix: str = "", **_: Any) -> list[str]:
    """What `run --from` takes: sessions, and plain transcripts or exports (`.json`, `.jsonl`)."""
    from argcomplete import FilesCompleter

    return FilesCompleter(allowednames=FROM_SUFFIXES)(prefix=prefix)
