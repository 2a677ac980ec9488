"""Crash-safe autosave: an append-only journal beside a session snapshot.

`foo.session.json` (or `.toml`) gets `foo.session.journal`: JSON lines, one per committed event,
appended and flushed one at a time (O(1) per message, nothing is rewritten). The first line is
a header naming the session and the snapshot it continues (message count and SHA-256), or
holding a full session dump when there is no matching snapshot yet. Events:

    {"ev": "message", "index": i, "message": {...}}    append (or replace) message i; an engine
        commit also carries the "tasks" it introduced, the "write" its tool result made and
        the "finish" reason it brought, so a crash keeps the whole commit or none of it
    {"ev": "write", "record": {...}}                  a committed database write (on its own)
    {"ev": "task", "task": {...}}                     a task joined the queue (on its own)
    {"ev": "truncate", "at": n}                       an edit/regenerate dropped messages >= n
    {"ev": "finish", "reason": "user_done" | null,   finished (or reopened); "detail" says why
        "detail": "..."}                              in words (a backend error's cause), when given
    {"ev": "session", "session": {...}}               full replacement (tools/config changed)
    {"ev": "compact", "sha256": ..., "messages": n}   the snapshot was just rewritten

`recover` replays the journal onto its snapshot; `compact` folds it into the snapshot. The
engine decides when to record; this module only keeps the record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from turnloom.core.errors import SessionFileError
from turnloom.core.models import ChatMessage, FinishReason, Session, Task, WriteRecord
from turnloom.core.storage.session_json import dumps_session
from turnloom.core.storage.snapshot import (
    atomic_writer,
    dumps,
    format_for,
    load_session,
    loads,
    read_text,
    save_session,
    session_from_dict,
)
from turnloom.core.untrusted import redact_secrets

_WHAT_TO_DO = (
    "To open the snapshot as saved, move the journal aside; to keep the journal's changes, "
    "put back the snapshot it was written against."
)


def journal_path(snapshot_path: str | os.PathLike[str]) -> Path:
    """The journal file that belongs to a snapshot (`x.session.json` -> `x.session.journal`)."""
    path = Path(snapshot_path)
    return path.with_suffix(".journal")


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SessionFileError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _refuse_foreign_journal(jpath: Path, session: Session) -> None:
    """Raise unless the journal at `jpath` is absent or belongs to `session` (the caller continues it)."""
    try:
        with open(jpath, "rb") as handle:
            first = handle.readline()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SessionFileError(f"{jpath}: cannot read: {exc.strerror or exc}") from None
    header = _parse_line(first.rstrip(b"\n")) if first else None
    if header is not None and header.get("ev") == "header" and header.get("session_id") == session.id:
        return
    if not first.strip():
        return  # an empty file holds nothing to lose
    owner = f"session {header.get('session_id')!r}" if header is not None else "something that is not this session"
    raise SessionFileError(
        f"{jpath}: a journal of {owner} is already there, and may hold the only copy of its committed "
        f"messages; continue it (turnloom run --from {jpath.with_suffix('.json')}), or move it aside, "
        "then run again"
    )


def _line(event: dict[str, Any], models: dict[str, BaseModel | Sequence[BaseModel]] | None = None) -> str:
    """One journal line; each of `models` goes under its key, serialised by pydantic (fast)."""
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    if models:
        parts = [text[:-1]]
        for key, value in models.items():
            if isinstance(value, Session):  # a header or a replaced session: its tool list encoded once
                dumped = dumps_session(value)
            elif isinstance(value, BaseModel):
                dumped = value.model_dump_json()
            else:
                dumped = "[" + ",".join(item.model_dump_json() for item in value) + "]"
            parts.append(f',"{key}":{dumped}')
        text = "".join(parts) + "}"
    return text + "\n"


class Journal:
    """An open journal; call `record_*` after each commit, `compact` on save, `close` at the end."""

    def __init__(self, snapshot_path: Path, handle: IO[str], fsync: bool, light_header: bool) -> None:
        self.snapshot_path = snapshot_path
        self.path = journal_path(snapshot_path)
        self._handle: IO[str] | None = handle
        self._fsync = fsync
        self._light_header = light_header
        self._events = 0

    @classmethod
    def open(cls, snapshot_path: str | os.PathLike[str], session: Session, *, fsync: bool = False) -> Journal:
        """Start a fresh journal for `session` (replacing any old one, atomically).

        Call `open_session` first if a journal may exist: its changes are only kept if they
        are already part of `session`. A journal of another session is never replaced: it may
        hold the only copy of that session's committed messages (a crashed `run --out` re-run).

        Args:
            snapshot_path: the snapshot file the journal belongs to (need not exist yet).
            session: the session as it stands now.
            fsync: also fsync after every line (survives power loss, not just a crash).

        Returns:
            The open journal.

        Raises:
            SessionFileError: the journal cannot be written, or one of another session is there.
        """
        snapshot = Path(snapshot_path)
        format_for(snapshot)  # reject an unknown suffix before writing anything
        _refuse_foreign_journal(journal_path(snapshot), session)
        header: dict[str, Any] = {"ev": "header", "session_id": session.id}
        digest = _sha256(snapshot)
        light = False
        if digest is not None:
            try:
                light = load_session(snapshot) == session
            except SessionFileError:
                light = False
        if light:
            header |= {"snapshot_messages": len(session.messages), "snapshot_sha256": digest}
        return cls._start(snapshot, header, fsync, light, None if light else session)

    @classmethod
    def _start(
        cls, snapshot: Path, header: dict[str, Any], fsync: bool, light: bool, session: Session | None = None
    ) -> Journal:
        path = journal_path(snapshot)
        # the header is as durable as the lines after it: fsynced only when they are
        # (the rename still keeps a killed process from leaving half a header)
        with atomic_writer(path, durable=fsync) as out:
            out.write(_line(header, None if session is None else {"session": session}))
        try:
            handle = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115 - held open
        except OSError as exc:
            raise SessionFileError(f"{path}: cannot open: {exc.strerror or exc}") from None
        return cls(snapshot, handle, fsync, light)

    def _append(self, event: dict[str, Any], models: dict[str, BaseModel | Sequence[BaseModel]] | None = None) -> None:
        if self._handle is None:
            raise SessionFileError(f"{self.path}: journal is closed")
        try:
            self._handle.write(_line(event, models))
            self._handle.flush()
            if self._fsync:
                os.fsync(self._handle.fileno())
        except OSError as exc:
            raise SessionFileError(f"{self.path}: cannot append: {exc.strerror or exc}") from None
        self._events += 1

    def record_message(
        self,
        index: int,
        message: ChatMessage,
        *,
        tasks: Sequence[Task] = (),
        write: WriteRecord | None = None,
        finish: FinishReason | None = None,
    ) -> None:
        """Message `index` was committed (appended, or replaced in place), in one line with what came with it.

        Args:
            index: the message's position in the transcript.
            message: the message.
            tasks: tasks that joined the queue with it (the turn that introduced them).
            write: the database write its tool result made.
            finish: why the dialogue finished with this message, if it did.

        Raises:
            SessionFileError: the journal cannot be appended to.
        """
        event: dict[str, Any] = {"ev": "message", "index": index}
        if finish is not None:
            event["finish"] = str(finish)
        models: dict[str, BaseModel | Sequence[BaseModel]] = {"message": message}
        if tasks:
            models["tasks"] = tasks
        if write is not None:
            models["write"] = write
        self._append(event, models)

    def record_write(self, record: WriteRecord) -> None:
        """A database write was committed (without a message; a tool result's goes with it)."""
        self._append({"ev": "write"}, {"record": record})

    def record_task(self, task: Task) -> None:
        """A task joined the session's queue (without a message; a turn's go with it)."""
        self._append({"ev": "task"}, {"task": task})

    def record_truncate(self, at: int) -> None:
        """Messages from `at` on were dropped (with their writes and later tasks)."""
        self._append({"ev": "truncate", "at": at})

    def record_finish(self, reason: FinishReason | str | None, detail: str | None = None) -> None:
        """The dialogue finished for `reason` (`detail` saying why, in words), or was reopened (None)."""
        event: dict[str, Any] = {"ev": "finish", "reason": None if reason is None else str(reason)}
        if detail is not None:
            event["detail"] = redact_secrets(detail)  # a backend error may quote a base_url's password
        self._append(event)

    def record_session(self, session: Session) -> None:
        """The whole session was replaced (tools or config changed, ...)."""
        self._append({"ev": "session"}, {"session": session})

    def compact(self, session: Session) -> None:
        """Save `session` as the snapshot and restart the journal from it.

        Args:
            session: the current session (what the journal replays to).

        Raises:
            SessionFileError: the snapshot or journal cannot be written; if the snapshot
                failed, the old snapshot and this journal are intact.
        """
        text = dumps(session, format_for(self.snapshot_path), self.snapshot_path.parent)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        # if we crash between the snapshot rename and the journal restart, this marker
        # tells `recover` that the old journal is already inside the new snapshot
        self._append({"ev": "compact", "sha256": digest, "messages": len(session.messages)})
        with atomic_writer(self.snapshot_path) as out:
            out.write(text)
        self._close_handle()
        header = {
            "ev": "header",
            "session_id": session.id,
            "snapshot_messages": len(session.messages),
            "snapshot_sha256": digest,
        }
        fresh = Journal._start(self.snapshot_path, header, self._fsync, light=True)
        self._handle, self._light_header, self._events = fresh._handle, True, 0

    def close(self) -> None:
        """Close the journal; remove it if it adds nothing to the snapshot."""
        self._close_handle()
        if self._light_header and self._events == 0:
            with contextlib.suppress(OSError):
                self.path.unlink()

    def _close_handle(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def compact(snapshot_path: str | os.PathLike[str], session: Session, sync_folder: bool = True) -> None:
    """Save `session` atomically as the snapshot, then remove its (now folded-in) journal.

    Use `Journal.compact` instead while a journal is open for writing.

    Args:
        snapshot_path: the snapshot file.
        session: the current session.
        sync_folder: fsync the folder after the rename; a batch leaves it to its next
            manifest save, which fsyncs the same folder (see `atomic_writer`).

    Raises:
        SessionFileError: the snapshot cannot be written (the journal is then kept).
    """
    save_session(session, snapshot_path, sync_folder=sync_folder)
    with contextlib.suppress(FileNotFoundError):
        journal_path(snapshot_path).unlink()


def open_session(path: str | os.PathLike[str]) -> tuple[Session, list[str]]:
    """Open a session the way a user expects: recovering from its journal if there is one.

    Args:
        path: the snapshot file.

    Returns:
        The session and any recovery warnings.

    Raises:
        SessionFileError: as `load_session` and `recover`.
    """
    if journal_path(path).exists():
        return recover(path)
    return load_session(path), []


def recover(snapshot_path: str | os.PathLike[str]) -> tuple[Session, list[str]]:
    """Rebuild the latest committed state: the snapshot plus its journal replayed.

    Args:
        snapshot_path: the snapshot file (it may not exist if the journal has a full header).

    Returns:
        The session and warnings (a torn last line dropped, a stale journal ignored, ...).

    Raises:
        SessionFileError: no snapshot and no usable journal, a journal that belongs to another
            session or snapshot (with what to do), or a corrupt line before the last.
    """
    snapshot = Path(snapshot_path)
    jpath = journal_path(snapshot)
    events, warnings = _read_events(jpath)
    if not events:
        warnings.append(f"{jpath}: journal is empty; opened the snapshot as saved")
        return load_session(snapshot), warnings
    header, body = events[0], events[1:]
    if header.get("ev") != "header":
        raise SessionFileError(f"{jpath}: line 1 is not a journal header. {_WHAT_TO_DO}")
    digest = _sha256(snapshot)
    if "session" in header:
        session = session_from_dict(header["session"], f"{jpath} (header)")
        if digest is not None:
            on_disk = loads(read_text(snapshot), format_for(snapshot), snapshot)
            _check_same_id(on_disk, header, jpath)
    else:
        if digest is None:
            raise SessionFileError(
                f"{snapshot}: no such file, and its journal {jpath.name} only continues it; "
                "restore the snapshot, or delete the journal"
            )
        session = load_session(snapshot)
        _check_same_id(session, header, jpath)
        if digest != header.get("snapshot_sha256"):
            last = body[-1] if body else {}
            if last.get("ev") == "compact" and last.get("sha256") == digest:
                warnings.append(f"{jpath}: already folded into the snapshot; ignored")
                return session, warnings
            expected = header.get("snapshot_messages")
            if expected != len(session.messages):
                raise SessionFileError(
                    f"{jpath}: journal continues a snapshot of {expected} messages, but "
                    f"{snapshot.name} has {len(session.messages)}; it belongs to another version "
                    f"of the session. {_WHAT_TO_DO}"
                )
            if body:
                warnings.append(f"{snapshot}: changed since the journal was started; replayed the journal onto it")
    return _replay(session, body, jpath, warnings), warnings


def _check_same_id(session: Session, header: dict[str, Any], jpath: Path) -> None:
    if header.get("session_id") != session.id:
        raise SessionFileError(
            f"{jpath}: journal belongs to session {header.get('session_id')!r}, but the snapshot "
            f"beside it is session {session.id!r}. {_WHAT_TO_DO}"
        )


def _read_events(jpath: Path) -> tuple[list[dict[str, Any]], list[str]]:
    try:
        raw = jpath.read_bytes()
    except FileNotFoundError:
        raise SessionFileError(f"{jpath}: no such journal") from None
    except OSError as exc:
        raise SessionFileError(f"{jpath}: cannot read: {exc.strerror or exc}") from None
    warnings: list[str] = []
    lines = raw.split(b"\n")
    tail = lines.pop()  # b"" when the file ends in a newline, else a torn line
    events: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        event = _parse_line(line)
        if event is None:
            if number == len(lines) and not tail:
                warnings.append(f"{jpath}: line {number} is torn (cut off mid-write); dropped it")
                break
            raise SessionFileError(
                f"{jpath}: line {number} is corrupt, and more lines follow it; the journal "
                f"cannot be replayed safely. {_WHAT_TO_DO}"
            )
        events.append(event)
    if tail:
        warnings.append(f"{jpath}: line {len(lines) + 1} is torn (no newline); dropped it")
    return events, warnings


def _parse_line(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or a number of thousands of digits
        return None
    return event if isinstance(event, dict) and "ev" in event else None


def _replay(session: Session, events: list[dict[str, Any]], jpath: Path, warnings: list[str]) -> Session:
    data = session.model_dump(mode="json")
    previous: dict[str, Any] | None = None
    for number, event in enumerate(events, start=2):
        kind = event.get("ev")
        if event == previous and kind in ("message", "write", "task"):
            warnings.append(f"{jpath}: line {number} repeats line {number - 1}; skipped it")
            continue
        previous = event
        try:
            if kind == "message":
                index, messages = event["index"], data["messages"]
                if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= len(messages):
                    warnings.append(
                        f"{jpath}: line {number} writes message {index!r} but only {len(messages)} "
                        "exist; stopped replaying there"
                    )
                    break
                ChatMessage.model_validate(event["message"])
                # what came with the message in one commit: its tasks, its write, its finish
                tasks = [Task.model_validate(task).model_dump(mode="json") for task in event.get("tasks", [])]
                write = event.get("write")
                writes = [] if write is None else [WriteRecord.model_validate(write).model_dump(mode="json")]
                finish = None if event.get("finish") is None else FinishReason(event["finish"])
                messages[index : index + 1] = [event["message"]]
                _add_new(data["tasks"], tasks)
                _add_new(data["write_log"], writes)
                if finish is not None:
                    data["finish_reason"], data["finish_detail"] = finish, None
            elif kind == "write":
                record = WriteRecord.model_validate(event["record"]).model_dump(mode="json")
                if not _add_new(data["write_log"], [record]):
                    warnings.append(f"{jpath}: line {number} logs a write already logged; skipped it")
            elif kind == "task":
                task = Task.model_validate(event["task"]).model_dump(mode="json")
                if not _add_new(data["tasks"], [task]):
                    warnings.append(f"{jpath}: line {number} adds a task already in the queue; skipped it")
            elif kind == "truncate":
                at = event["at"]
                if not isinstance(at, int) or isinstance(at, bool) or at < 0:
                    raise ValueError(f"cannot cut at {at!r}")
                cut = Session.model_validate(data)
                cut.cut(at)
                # a truncate alone does not reopen: "finish" events do
                reason, detail = data.get("finish_reason"), data.get("finish_detail")
                data = cut.model_dump(mode="json")
                data["finish_reason"], data["finish_detail"] = reason, detail
            elif kind == "finish":
                data["finish_reason"] = None if event["reason"] is None else FinishReason(event["reason"])
                detail = event.get("detail")
                data["finish_detail"] = detail if isinstance(detail, str) and data["finish_reason"] else None
            elif kind == "session":
                data = session_from_dict(event["session"], f"{jpath} line {number}").model_dump(mode="json")
            elif kind == "compact":
                pass
            else:
                warnings.append(f"{jpath}: line {number}: unknown event {kind!r}; skipped")
        except SessionFileError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise SessionFileError(f"{jpath}: line {number}: malformed {kind!r} event: {exc}") from None
    data["finish_reason"] = None if data["finish_reason"] is None else str(data["finish_reason"])
    return session_from_dict(data, f"{jpath} (replayed)")


def _add_new(target: list[dict[str, Any]], items: list[dict[str, Any]]) -> bool:
    """Append each of `items` not already in `target` (a replayed line never adds a duplicate); any added?"""
    added = False
    for item in items:
        if item not in target:
            target.append(item)
            added = True
    return added
