"""Opening session files for the headless commands (`replay`, `fork`, `run --from`).

Shared by those commands so each opens a session the same way: journal
recovered, warnings on stderr, `--at N` checked against the transcript.
"""

from __future__ import annotations

import sys
from pathlib import Path

from turnloom.core.errors import UsageError
from turnloom.core.lifecycle.session_paths import session_file
from turnloom.core.models import Session
from turnloom.core.storage.journal import open_session


def load_for_command(path: str | Path) -> Session:
    """Open a session file, recovering its journal; recovery warnings go to stderr.

    `path` follows `lifecycle.session_paths`: a snapshot, or its journal.

    Raises:
        SessionFileError: a path that is not a session (a folder, another suffix), or a
            missing, corrupt or mismatched snapshot or journal.
    """
    session, warnings = open_session(session_file(path))
    for warning in warnings:
        print(f"turnloom: warning: {warning}", file=sys.stderr)
    return session


def checked_at(session: Session, at: int | None) -> int | None:
    """`--at N` checked against the transcript (None passes through).

    Raises:
        UsageError: N is past the end of the transcript.
    """
    if at is not None and not 0 <= at <= len(session.messages):
        raise UsageError(f"--at {at} is outside the transcript (0..{len(session.messages)} messages)")
    return at
