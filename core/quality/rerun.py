"""Re-run a session from its recorded seed and compare it with the recording.

Offline generation is deterministic: every role draws from a generator seeded by
the session seed, the role and the transcript length (`roles.role_rng`), so the
same recorded config, tools and seed give the same dialogue, and a fork at N
regenerated with the same seed gives the same suffix.

What may differ between two runs, and is left out of comparisons (`VOLATILE`):
the session `id` and `created_at` (pass them to `create_session` to pin them) and
each message's `meta.latency_ms` (wall-clock time spent proposing it). With those
normalised, the files of two runs are equal byte for byte.
"""

from __future__ import annotations

from typing import Any

from turnloom.core.lifecycle.dialogue import fork_session, run_to_end
from turnloom.core.models import Session
from turnloom.core.storage.snapshot import dumps

# fields two runs of the same seed may differ in (see the module docstring)
VOLATILE = ("id", "created_at", "messages[].meta.latency_ms")


def normalised(session: Session) -> dict[str, Any]:
    """The session in the JSON shape with the volatile fields blanked.

    Returns:
        A dict as `model_dump(mode="json")` gives, with `id`/`created_at` set to ""
        and every message's `meta.latency_ms` to None.
    """
    data = session.model_dump(mode="json")
    data["id"] = data["created_at"] = ""
    for message in data["messages"]:
        message["meta"]["latency_ms"] = None
    return data


def normalised_text(session: Session, fmt: str = "json") -> str:
    """The session file text (`storage.snapshot.dumps`) with the volatile fields blanked."""
    return dumps(Session.model_validate(normalised(session)), fmt)  # type: ignore[arg-type]


def rerun_session(session: Session, upto: int | None = None) -> Session:
    """Generate `session` again from its recorded config, tools and seed, offline.

    The re-run keeps the recording's id, created_at, title and parent, so its file
    differs from the recording only in message latencies. It stops where the recording
    stops (a fork or a paused dialogue is not run past its last message). Only sessions
    generated in one go reproduce: operator turns, edits, imported history and
    continuations with extra tasks are not replayed.

    Args:
        session: the recorded session (not changed).
        upto: generate at most this many messages (default: as many as the recording has).

    Returns:
        The regenerated session.

    Raises:
        DatabaseError, DomainError: the session's database cannot be rebuilt.
    """
    fresh = fork_session(session, 0)
    for key in ("id", "created_at", "title", "parent"):
        setattr(fresh, key, getattr(session, key))
    limit = len(session.messages) if upto is None else min(upto, len(session.messages))
    return run_to_end(fresh, max_messages=limit)


def first_difference(recorded: Session, regenerated: Session, upto: int | None = None) -> str | None:
    """Where two sessions first differ, ignoring the volatile fields; None if they do not.

    Args:
        recorded: the recording.
        regenerated: its re-run.
        upto: compare only the first `upto` messages (the rest of the session — tasks,
            writes, finish — is compared only when `upto` covers the whole recording).

    Returns:
        What follows "differs " in a sentence: "at message 12 (content)",
        "in length: the recording has 5 messages, the re-run 7", "in write_log".
    """
    a, b = normalised(recorded), normalised(regenerated)
    wanted = len(a["messages"]) if upto is None else min(upto, len(a["messages"]))
    whole = wanted == len(a["messages"])
    for index, (left, right) in enumerate(zip(a["messages"][:wanted], b["messages"][:wanted])):
        if left != right:
            fields = [k for k in left if left.get(k) != right.get(k)]
            return f"at message {index} ({', '.join(fields)})"
    short = len(b["messages"]) < wanted
    if short or (whole and len(b["messages"]) != wanted):
        return f"in length: the recording has {len(a['messages'])} messages, the re-run {len(b['messages'])}"
    if not whole:
        return None
    for key in a:
        if a[key] != b[key]:
            return f"in {key}"
    return None
