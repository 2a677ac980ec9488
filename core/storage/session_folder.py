"""Every session in a set of files and folders: journal-only ones too, a bad file skipped with its reason.

`find_sessions` turns what a user named (session files, folders searched recursively) into
snapshot paths: `x.session.json`/`.toml`, and `x.session.json` for a journal whose snapshot was
never written (a session that crashed before its first save; opening that path recovers it).
Entries of a folder that are symbolic links are not followed (a file is only read through a link
the user named); they are reported as skipped. `file_name_part` makes session data (a domain,
an id) safe to build a file name from. `read_sessions` opens each one (recovering its
journal) and yields the session or, for a file that cannot be read, why: one truncated file
never stops the rest. What to do with the sessions (export, statistics, listing) is the caller's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from turnloom.core.errors import SessionFileError
from turnloom.core.models import Session
from turnloom.core.storage.journal import journal_path, open_session
from turnloom.core.storage.snapshot import load_session
from turnloom.core.storage.tool_lists import ToolListCache

SNAPSHOT_SUFFIXES = (".session.json", ".session.toml")
JOURNAL_SUFFIX = ".session.journal"
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


def file_name_part(text: str, limit: int = 64) -> str:
    """`text` as one safe part of a file name: letters, digits, `_`, `.` and `-` only, no leading dot.

    Session data (a domain, an id) can hold `/`, `..` or control characters; a name built
    from it must still name a file inside the folder it is joined to.
    """
    part = _UNSAFE_NAME_CHARS.sub("-", text).strip(".-")[:limit]
    return part or "session"


@dataclass
class SessionRead:
    """One session file's outcome: the session and its recovery warnings, or the problem that skipped it."""

    path: Path
    session: Session | None = None
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None
    journal_only: bool = False


@dataclass
class FoundSessions:
    """Snapshot paths in a stable order, the ones with only a journal, and entries skipped with a reason."""

    paths: list[Path] = field(default_factory=list)
    journal_only: set[Path] = field(default_factory=set)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def find_sessions(paths: Iterable[str | os.PathLike[str]]) -> FoundSessions:
    """The sessions `paths` name: files as given, folders searched recursively.

    Raises:
        SessionFileError: a path that does not exist.
    """
    found = FoundSessions()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _scan_folder(path, found)
        elif path.is_file():
            found.paths.append(path)
        elif path.name.endswith(SNAPSHOT_SUFFIXES) and path.with_suffix(".journal").is_file():
            found.paths.append(path)
            found.journal_only.add(path)
        else:
            raise SessionFileError(f"{raw}: no such file or folder")
    found.paths = list(dict.fromkeys(found.paths))
    return found


def _scan_folder(folder: Path, found: FoundSessions) -> None:
    snapshots: set[Path] = set()
    journals: set[Path] = set()
    for root, dirs, files in os.walk(folder):  # os.walk does not descend into linked folders
        base = Path(root)
        dirs.sort()
        for name in files:
            entry = base / name
            if not name.endswith((*SNAPSHOT_SUFFIXES, JOURNAL_SUFFIX)):
                continue
            if entry.is_symlink():
                found.skipped.append((entry, "a symbolic link inside the folder; name its target to read it"))
            elif name.endswith(JOURNAL_SUFFIX):
                journals.add(entry)
            else:
                snapshots.add(entry)
    for journal in journals:
        if not journal.with_suffix(".json").exists() and not journal.with_suffix(".toml").exists():
            snapshot = journal.with_suffix(".json")
            snapshots.add(snapshot)
            found.journal_only.add(snapshot)
    found.paths += sorted(snapshots)


def read_sessions(found: FoundSessions, tool_lists: ToolListCache | None = None) -> Iterator[SessionRead]:
    """Open each found session (recovering its journal); a file that cannot be read is yielded with its problem.

    Args:
        found: the session files (`find_sessions`).
        tool_lists: validated tool lists to share between the sessions read (`tool_lists`; their
            `ToolSpec`s are then shared: read them, copy before changing them).
    """
    for path in found.paths:
        journal_only = path in found.journal_only
        try:
            if tool_lists is not None and not journal_only and not journal_path(path).exists():
                session, warnings = load_session(path, tool_lists), list[str]()  # open_session without a journal
            else:
                session, warnings = open_session(path)
        except SessionFileError as exc:
            yield SessionRead(path, problem=str(exc), journal_only=journal_only)
            continue
        yield SessionRead(path, session, warnings, journal_only=journal_only)
