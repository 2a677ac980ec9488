"""The exception tree. Every error a user can see derives from `TurnloomError`.

    TurnloomError
    ├── UsageError            bad command-line input (exit code 2)
    ├── DomainError           unknown domain pack
    ├── DatabaseError         a database file that cannot be used (not SQLite, empty, locked, read-only)
    ├── SessionFileError      a session, journal or transcript file that cannot be read or written
    ├── ConfigError           a config, rule or theme file that cannot be used
    ├── ToolsetError          a toolset file that cannot be read, or tools that cannot serve a dialogue
    └── BackendError          a model endpoint that failed after its retries

Each message says what went wrong and where (file, line, key), and what to do.
Tool failures are not exceptions: they come back to the assistant as error results.
"""

from __future__ import annotations


class TurnloomError(Exception):
    """Root of every error turnloom raises on purpose."""

    exit_code = 1


class UsageError(TurnloomError):
    """The command line asked for something impossible."""

    exit_code = 2


class DomainError(TurnloomError):
    """An unknown domain; the message lists the known ones."""

    exit_code = 2


class DatabaseError(TurnloomError):
    """A database file that is not SQLite, is empty, or cannot be opened."""

    exit_code = 2


class SessionFileError(TurnloomError):
    """A session, journal or transcript file that cannot be read or written."""

    exit_code = 2


class ConfigError(TurnloomError):
    """A config, rule or theme file that cannot be used."""

    exit_code = 2


class ToolsetError(TurnloomError):
    """A toolset file that cannot be read, or tools that do not fit the dialogue's database."""

    exit_code = 2


class BackendError(TurnloomError):
    """A backend call that failed for good (after retries)."""
