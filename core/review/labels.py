"""The curator's label on a session: keep / drop / needs-fix, with a reason and tags.

`set_label` writes the label into the session file (atomically, folding in any journal) and
updates the session's row in the review index; `label_counts` tallies the rows for the
view's progress line. The label is not part of what a verdict judged (`quality.verdict`'s
digest leaves it out): labelling a session never makes its verdict stale, so a rubric
judge's ruling is not asked for again; a session *fixed* before it is labelled is judged
again here, and the new verdict is saved with the label. Exports and statistics read the
label from the session (`Session.label`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from turnloom.core.errors import SessionFileError
from turnloom.core.models import SessionLabel
from turnloom.core.quality.checks import MAX_MESSAGES
from turnloom.core.quality.verdict import verdict_for
from turnloom.core.review.index import (
    ReviewRow,
    file_stamp,
    relative,
    row_for,
    session_path,
    update_index,
    with_messages_span,
)
from turnloom.core.storage.journal import compact, journal_path, open_session

LABEL_KINDS = ("keep", "drop", "needs-fix")


def set_label(folder: Path, relpath: str, label: SessionLabel | None, *, max_messages: int = MAX_MESSAGES) -> ReviewRow:
    """Label the session at `relpath` inside `folder` (None removes its label) and save it.

    Not for a session whose journal is open for writing (the workbench editing it): its
    journal is folded into the snapshot and removed.

    Args:
        folder: the reviewed folder.
        relpath: the session file, relative to `folder`.
        label: the label, or None.
        max_messages: the checks' transcript-length limit (the config's `quality_max_messages`).

    Returns:
        The session's new row (also written to the index).

    Raises:
        SessionFileError: no such session inside `folder`, it cannot be read, or it cannot be written.
    """
    folder = Path(folder)
    path = session_path(folder, relpath)
    if not path.exists() and not journal_path(path).exists():
        raise SessionFileError(f"{path}: no such session file")
    session, _warnings = open_session(path)
    session.label = label
    verdict_for(session, max_messages=max_messages)  # a session fixed since its verdict is judged again
    compact(path, session)
    rel = relative(folder, path)
    row = with_messages_span(row_for(rel, session, file_stamp(path), max_messages), path)
    update_index(folder, rel, row, max_messages)
    return row


def label_counts(rows: Iterable[ReviewRow]) -> dict[str, int]:
    """Rows per label kind, and `unlabelled`, `labelled` and `total` (unreadable files count in none but total)."""
    counts: Counter[str | None] = Counter()
    total = 0
    for row in rows:
        total += 1
        if row.problem is None:
            counts[row.label] += 1
    result = {kind: counts[kind] for kind in LABEL_KINDS}
    result["unlabelled"] = counts[None]
    result["labelled"] = sum(result[kind] for kind in LABEL_KINDS)
    result["total"] = total
    return result
