"""Reading many session files on every core, with a progress line on a terminal.

`stats` and `export` open thousands of sessions; opening one (parse, migrate, validate,
check) costs milliseconds of CPU, so they are opened in a process pool, a chunk of files
per task, and each worker hands back only what the command needs of a session (`work`'s
small result), not the session. Results come back in the files' order. A few files are
read in this process (starting workers would cost more than it saves).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from turnloom.core.errors import SessionFileError, UsageError
from turnloom.core.models import Session
from turnloom.core.storage.session_folder import FoundSessions, find_sessions, read_sessions

T = TypeVar("T")
CHUNK = 48  # files per task: big enough to amortise the hand-off, small enough to spread the load
INLINE_BELOW = 64  # fewer files than this are read in this process


@dataclass
class SessionResult(Generic[T]):
    """One file's outcome: `work`'s result, or the problem that kept the file from being read."""

    path: Path
    result: T | None = None
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)


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
        print(f"skipped {path}: {reason}", file=sys.stderr)
    return found


def found_subset(found: FoundSessions, paths: list[Path]) -> FoundSessions:
    """`found` narrowed to `paths` (to read a few of them again)."""
    return FoundSessions(paths=list(paths), journal_only=found.journal_only & set(paths))


def _work_on_chunk(
    paths: list[Path], journal_only: set[Path], work: Callable[[Path, Session], T]
) -> list[SessionResult[T]]:
    found = FoundSessions(paths=list(paths), journal_only=set(journal_only) & set(paths))
    results: list[SessionResult[T]] = []
    for read in read_sessions(found):
        if read.session is None:
            results.append(SessionResult(read.path, problem=read.problem or "cannot be read"))
        else:
            results.append(SessionResult(read.path, work(read.path, read.session), warnings=list(read.warnings)))
    return results


def map_sessions(
    found: FoundSessions, work: Callable[[Path, Session], T], label: str = "reading sessions"
) -> Iterator[SessionResult[T]]:
    """`work(path, session)` for every found session, on every core; results in the files' order.

    `work` must be a module-level function (or a `functools.partial` of one): it runs in
    worker processes. A progress line is drawn on stderr when it is a terminal.
    """
    paths = found.paths
    workers = min(os.cpu_count() or 1, max(1, len(paths) // CHUNK))
    progress = _Progress(label, len(paths))
    try:
        if len(paths) < INLINE_BELOW or workers == 1:
            for path in paths:
                yield from _work_on_chunk([path], found.journal_only, work)
                progress.advance(1)
            return
        chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for results in pool.map(_work_on_chunk, chunks, [found.journal_only] * len(chunks), [work] * len(chunks)):
                yield from results
                progress.advance(len(results))
    finally:
        progress.stop()


class _Progress:
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
