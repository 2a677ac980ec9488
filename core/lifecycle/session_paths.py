"""One rule for what a session path may be, for every command and the TUI.

A session is named by its snapshot (`FILE.session.json` or `FILE.session.toml`; plain `.json`
and `.toml` are read too) or by its journal (`FILE.session.journal`, which stands for the
snapshot beside it, or for itself alone after a crash before the first save). A plain
OpenAI-style transcript (`.json`/`.jsonl`) is not a session: `run --from` imports it. Anything
else — a folder, a missing file, another suffix — is refused here with what to give instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from turnloom.core.errors import SessionFileError

SNAPSHOT_SUFFIXES = (".json", ".toml")
JOURNAL_SUFFIX = ".journal"
WHAT_TO_GIVE = "give FILE.session.json, FILE.session.toml or its FILE.session.journal"


def session_file(path: str | os.PathLike[str]) -> Path:
    """The snapshot path a session path names (a journal's snapshot beside it, which may not exist yet).

    Raises:
        SessionFileError: a folder, a missing file, or a file that is not a session, each
            saying what to give instead.
    """
    given = Path(path)
    if given.is_dir():
        raise SessionFileError(f"{given} is a folder; {WHAT_TO_GIVE} (the sessions in a folder: ls {given})")
    name = given.name.lower()
    if name.endswith(JOURNAL_SUFFIX):
        if not given.exists():
            raise SessionFileError(f"{given}: no such file")
        for suffix in SNAPSHOT_SUFFIXES:
            snapshot = given.with_suffix(suffix)
            if snapshot.exists():
                return snapshot
        return given.with_suffix(".json")  # a journal alone: it holds the whole session
    if name.endswith(SNAPSHOT_SUFFIXES):
        if not given.exists() and not given.with_suffix(JOURNAL_SUFFIX).exists():
            raise SessionFileError(f"{given}: no such file")
        return given
    if name.endswith(".jsonl"):
        raise SessionFileError(f"{given}: a transcript, not a session; import it with `turnloom run --from {given}`")
    raise SessionFileError(f"{given}: not a session file; {WHAT_TO_GIVE}")
