"""Dropped branches: what an operator action cut from a transcript, kept and put back (undo).

An edit, a regenerate, an override or a truncation replaces the messages from some index on.
`cut_branch` copies what is about to go — the messages, the writes their tool results made,
the tasks introduced among them, the finish reason — into a `DroppedBranch`, which the
session keeps in `dropped_branches` (saved with it, so the curator can return to it after a
restart, and an export can set a kept turn against its replacement). `restore_branch` puts a
branch back in place of what replaced it, which is kept in turn as an `undone` branch.
`LiveSession` calls these around the engine's own cuts; this module only moves data.
"""

from __future__ import annotations

from typing import Literal

from turnloom.core.models import ChatMessage, DroppedBranch, Session

CutAction = Literal["edit", "regenerate", "override", "truncate", "undone"]


def cut_branch(session: Session, at: int, action: CutAction) -> DroppedBranch:
    """What cutting `session` at message `at` would drop, as a branch (the session is not changed)."""
    return DroppedBranch(
        at=at,
        action=action,
        messages=[m.model_copy(deep=True) for m in session.messages[at:]],
        tasks=[t.model_copy(deep=True) for t in session.tasks if t.introduced_at >= at],
        write_log=[w.model_copy() for w in session.write_log if w.message_index >= at],
        finish_reason=session.finish_reason,
        finish_detail=session.finish_detail,
    )


def override_branch(at: int, replaced: ChatMessage | None) -> DroppedBranch:
    """The branch an override leaves: the simulator's proposal the operator wrote over, if there was one.

    The proposal was never committed, so undoing an override removes the operator's turn
    and puts nothing back; the proposal is kept for the preference data it makes.
    """
    return DroppedBranch(at=at, action="override", messages=[replaced] if replaced is not None else [])


def last_undoable(session: Session) -> DroppedBranch | None:
    """The most recent branch an undo would go back to (undone replacements are kept, not restored)."""
    for branch in reversed(session.dropped_branches):
        if branch.action != "undone":
            return branch
    return None


def restore_branch(session: Session, branch: DroppedBranch) -> None:
    """Put `branch` back at its index, keeping what stood there as an `undone` branch.

    The caller has already cut the transcript at `branch.at` (the engine's truncate, which
    also rebuilds the database) and rebuilds the database again afterwards for the writes
    put back.
    """
    session.dropped_branches.remove(branch)
    if branch.action == "override":
        return
    session.messages.extend(m.model_copy(deep=True) for m in branch.messages)
    session.tasks.extend(t.model_copy(deep=True) for t in branch.tasks)
    session.write_log.extend(w.model_copy() for w in branch.write_log)
    session.finish_reason = branch.finish_reason
    session.finish_detail = branch.finish_detail
