"""Reading many session files on every core: a process pool, a chunk of files per task.

Opening a session (parse, migrate, validate, check) costs milliseconds of CPU, so the
commands and indexes that open thousands of them (`stats`, `export`, the review index)
open them in worker processes, and each worker hands back only what its caller needs of
a session (`work`'s small result), not the session. Results come back in the files' order.
A few files are read in this process (starting workers would cost more than it saves).
Drawing progress is the caller's (`advance` is told how many files were done).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from turnloom.core.models import Session
from turnloom.core.storage.session_folder import FoundSessions, read_sessions
from turnloom.core.storage.tool_lists import ToolListCache

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


def _work_on_chunk(
    paths: list[Path],
    journal_only: set[Path],
    work: Callable[[Path, Session], T],
    tool_lists: ToolListCache | None = None,
) -> list[SessionResult[T]]:
    found = FoundSessions(paths=list(paths), journal_only=set(journal_only) & set(paths))
    results: list[SessionResult[T]] = []
    # the files of a chunk mostly list one domain's tools: each distinct list is validated once
    for read in read_sessions(found, tool_lists or ToolListCache()):
        if read.session is None:
            results.append(SessionResult(read.path, problem=read.problem or "cannot be read"))
        else:
            try:
                result = work(read.path, read.session)
            except RecursionError:  # JSON in a message (a tool result) nested deeper than Python parses
                results.append(SessionResult(read.path, problem="a message holds JSON nested too deeply to read"))
                continue
            results.append(SessionResult(read.path, result, warnings=list(read.warnings)))
    return results


def map_sessions(
    found: FoundSessions,
    work: Callable[[Path, Session], T],
    advance: Callable[[int], None] | None = None,
) -> Iterator[SessionResult[T]]:
    """`work(path, session)` for every found session, on every core; results in the files' order.

    Args:
        found: the session files (`session_folder.find_sessions`).
        work: a module-level function (or a `functools.partial` of one): it runs in worker
            processes and its result is pickled back.
        advance: told how many more files are done, as they are (for a progress line).
    """
    paths = found.paths
    workers = min(os.cpu_count() or 1, max(1, len(paths) // CHUNK))
    if len(paths) < INLINE_BELOW or workers == 1:
        tool_lists = ToolListCache()
        for path in paths:
            yield from _work_on_chunk([path], found.journal_only, work, tool_lists)
            if advance is not None:
                advance(1)
        return
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for results in pool.map(_work_on_chunk, chunks, [found.journal_only] * len(chunks), [work] * len(chunks)):
            yield from results
            if advance is not None:
                advance(len(results))
