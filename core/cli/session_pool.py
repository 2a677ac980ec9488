"""Reading many session files on every core for a command, with a progress line on a terminal.

The pool itself is `storage.parallel_read` (the review index reads through it too); this
module adds what a command needs around it: the files named on the command line (a usage
error when there are none), a progress line on stderr, and the unreadable files reported.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from turnloom.core.errors import SessionFileError, UsageError
from turnloom.core.models import Session
from turnloom.core.storage import parallel_read
from turnloom.core.storage.parallel_read import INLINE_BELOW, SessionResult
from turnloom.core.storage.session_folder import FoundSessions, find_sessions

__all__ = [
    "ProgressLine",
    "SessionResult",
    "found_sessions",
    "found_subset",
    "map_sessions",
    "readable",
    "skipped_line",
]

T = TypeVar("T")


def found_sessions(paths: list[str]) -> FoundSessions:
    """The session files `paths` name (folders searched), the unusable entries reported on stderr.

    Raises:
        UsageError: a path that does not exist, or no session files at all.
    """
    try:
        found = find_sessions(paths)
    except SessionFileError as exc:
        raise UsageError(str(exc)) from None
    if not found.paths:
        raise UsageError(f"no *.session.json or *.session.toml files in {', '.join(paths)}")
    for path, reason in found.skipped:
        print(skipped_line(path, reason), file=sys.stderr)
    return found


def skipped_line(path: Path | str, reason: str) -> str:
    """`skipped PATH: REASON`, naming the file once when the reason names it already (a file's read errors do)."""
    return f"skipped {reason}" if reason.startswith(f"{path}: ") else f"skipped {path}: {reason}"


def found_subset(found: FoundSessions, paths: list[Path]) -> FoundSessions:
    """`found` narrowed to `paths` (to read a few of them again)."""
    return FoundSessions(paths=list(paths), journal_only=found.journal_only & set(paths))


def map_sessions(
    found: FoundSessions, work: Callable[[Path, Session], T], label: str = "reading sessions"
) -> Iterator[SessionResult[T]]:
    """`work(path, session)` for every found session, on every core (`parallel_read.map_sessions`);
    results in the files' order, a progress line on stderr when it is a terminal."""
    progress = ProgressLine(label, len(found.paths))
    try:
        yield from parallel_read.map_sessions(found, work, progress.advance)
    finally:
        progress.stop()


class ProgressLine:
    """`label: done/total` redrawn on a terminal (stderr), at most ten times a second; nothing elsewhere."""

    def __init__(self, label: str, total: int) -> None:
        from turnloom.core.cli.render import LiveLine, console, is_terminal

        self.label, self.total, self.done = label, total, 0
        self._line = LiveLine(console(sys.stderr)) if is_terminal(sys.stderr) and total >= INLINE_BELOW else None
        self._drawn = 0.0

    def advance(self, count: int) -> None:
        self.done += count
        if self._line is not None and (time.monotonic() - self._drawn > 0.1 or self.done == self.total):
            self._drawn = time.monotonic()
            self._line.show(f"{self.label}: {self.done:,}/{self.total:,}")

    def stop(self) -> None:
        if self._line is not None:
            self._line.stop()


def readable(results: Sequence[SessionResult[T]]) -> tuple[list[SessionResult[T]], list[tuple[str, str]]]:
    """The results that were read, and (path, problem) for those that were not; warnings go to stderr.

    Raises:
        SessionFileError: none could be read (naming the first problem).
    """
    good, skipped = [], []
    for item in results:
        for warning in item.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if item.problem is None:
            good.append(item)
        else:
            skipped.append((str(item.path), item.problem))
    if not good:
        problems = [reason if reason.startswith(path) else f"{path}: {reason}" for path, reason in skipped]
        more = f" (and {len(problems) - 1} more file(s) that cannot be read)" if len(problems) > 1 else ""
        raise SessionFileError((problems[0] if problems else "no session could be read") + more)
    return good, skipped
