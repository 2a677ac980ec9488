"""A session's life in one object: its engine (roles, endpoints, tool environment), its journal, its file.

`LiveSession` is what `run`, the batch job and the TUI hold while a dialogue is worked on. It
builds the engine over the session with the session's roles and the endpoints they are mapped
to, journals every commit beside the session's file, runs or steps the engine, saves the
snapshot and closes what it opened. Whatever changes the session goes through it (the engine's
operator actions, rule and tool switches, a proposal held back for breaking a rule), so every
change reaches the journal. Its three ways to start differ only in when the journal opens:

    LiveSession.open_lazily(session, path, config)    the TUI: on the first change, so merely
                                                       opening a session writes nothing
    LiveSession.open_journaled(session, path, ...)    `run`: now, before the first message
    await LiveSession.open_for_batch(session, ...)    a batch dialogue: now, its file work kept
                                                       off a crowded event loop

How a dialogue is planned, printed or shown is left to its callers; building the engine is
`dialogue.open_engine`'s, the files are `storage`'s.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from turnloom.core.config import TurnloomConfig
from turnloom.core.engine.engine import DialogueEngine, MessageCommitted, Proposal
from turnloom.core.lifecycle.branches import cut_branch, last_undoable, override_branch, restore_branch
from turnloom.core.lifecycle.dialogue import create_session, fork_session, open_engine
from turnloom.core.lifecycle.tool_call_edit import read_tool_call_document, tool_call_document
from turnloom.core.models import (
    DIALOGUE_ROLES,
    ChatMessage,
    DroppedBranch,
    FinishReason,
    Mode,
    Role,
    RoleName,
    Rule,
    Session,
    Task,
    ToolExecution,
    WriteRecord,
)
from turnloom.core.players.setup import OFFLINE, BackendSetup, uses_backends
from turnloom.core.storage.journal import Journal, compact, journal_path, open_session
from turnloom.core.storage.session_folder import file_name_part

if TYPE_CHECKING:
    from turnloom.core.engine.events import SessionRecorder

T = TypeVar("T")
# runs a blocking file operation: inline, or in a worker thread for a loop shared by many dialogues
Offload = Callable[..., Awaitable[Any]]

SNAPSHOT_SUFFIX = ".session.json"


def default_path(folder: Path, session: Session) -> Path:
    """`<folder>/<domain>-seed<N>-<id>.session.json`, each part made a safe file-name part (it comes from data)."""
    stem = f"{file_name_part(session.domain)}-seed{session.config.seed}-{file_name_part(session.id)}"
    return folder / f"{stem}{SNAPSHOT_SUFFIX}"


async def inline(function: Callable[..., T], *args: Any) -> T:
    """Run a file operation on the caller's loop (no other dialogue is waiting on it)."""
    return function(*args)


class LazyJournal:
    """The engine's recorder for a session opened to look at: opens the journal on the first record."""

    def __init__(self, path: Path, session: Session) -> None:
        self.path = path
        self._session = session
        self.journal: Journal | None = None
        self.changes = 0  # records since the last save

    def _open(self) -> Journal:
        if self.journal is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.journal = Journal.open(self.path, self._session)
        self.changes += 1
        return self.journal

    def record_message(
        self,
        index: int,
        message: ChatMessage,
        *,
        tasks: Sequence[Task] = (),
        write: WriteRecord | None = None,
        finish: FinishReason | None = None,
    ) -> None:
        self._open().record_message(index, message, tasks=tasks, write=write, finish=finish)

    def record_truncate(self, at: int) -> None:
        self._open().record_truncate(at)

    def record_finish(self, reason: FinishReason | None, detail: str | None = None) -> None:
        self._open().record_finish(reason, detail)

    def record_session(self, session: Session) -> None:
        self._open().record_session(session)

    def compact(self, session: Session) -> None:
        """Write the snapshot and restart the journal from it."""
        self._open().compact(session)
        self.changes = 0

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
            self.journal = None


class LiveSession:
    """One session being worked on: `session`, `engine`, `path`, its journal and its endpoints.

    Attributes:
        session: the session (the engine changes it; read it, ask this object to change it).
        engine: the dialogue engine over it (subscribe to its events, read whose turn it is).
        path: the snapshot file; the journal is beside it.
        backends: the endpoints the session's mapped roles use, or None when every role is offline.
        config: where the profiles come from (a fork or a new session uses the same).
        warnings: what opening the session had to say (a replayed journal, a missing profile).
    """

    def __init__(
        self,
        session: Session,
        path: Path,
        recorder: Journal | LazyJournal,
        *,
        backends: BackendSetup | None = None,
        owns_backends: bool = False,
        watched: bool = True,
        warnings: list[str] | None = None,
        config: TurnloomConfig | None = None,
    ) -> None:
        """Build the engine over `session` with `recorder` as its journal (see the constructors).

        Raises:
            ConfigError: a mapped profile that the backends' config does not define.
            DatabaseError: the session's database is missing or unusable.
        """
        self.session = session
        self.path = path
        self.recorder = recorder
        self.backends = backends
        self._owns_backends = owns_backends
        self.warnings = warnings or []
        self.config = config if config is not None else (backends.config if backends is not None else None)
        self._fresh = False  # no snapshot when a batch dialogue started (see `save_for_batch`)
        self.engine: DialogueEngine = open_engine(session, recorder=recorder, backends=backends)
        self.engine.watched = watched
        # a journal already beside the snapshot means the snapshot is behind: saving is owed
        self._recovered = journal_path(path).exists() if isinstance(recorder, LazyJournal) else False
        # message index -> the last regeneration draw used there (see `propose_regeneration`)
        self._draws: dict[int, int] = {}

    # ------------------------------------------------------------ starting

    @classmethod
    def open_lazily(
        cls, session: Session, path: Path, config: TurnloomConfig | None = None, warnings: list[str] | None = None
    ) -> LiveSession:
        """A session to look at and work on (the TUI): the journal opens on the first change.

        A session whose roles are mapped to profiles gets its own endpoints on `config`, and its
        model exchanges are recorded beside its file, as `run` records them. A role mapped to a
        profile `config` does not define still opens: the session can be read, forked and
        exported, and a turn of that role fails naming the profile (a warning says so).
        """
        config = config or TurnloomConfig()
        warnings = list(warnings or [])
        backends = None
        if uses_backends(session):
            from turnloom.core.endpoint.exchange_log import exchange_log_path

            backends = BackendSetup.create(config, record=exchange_log_path(path))
            backends.defer_missing_profiles = True
            missing = sorted(
                f"{role} → {name}"
                for role, name in session.config.roles.items()
                if name != OFFLINE and name not in config.profiles
            )
            if missing:
                where = config.source or "no turnloom.toml found"
                warnings.append(
                    f"This session plays {', '.join(missing)}, which the config ({where}) does not define; "
                    "add the profile to generate with it. The transcript can still be read, edited, forked "
                    "and exported."
                )
        recorder = LazyJournal(path, session)
        return cls(session, path, recorder, backends=backends, owns_backends=True, warnings=warnings, config=config)

    @classmethod
    def open_journaled(cls, session: Session, path: Path, backends: BackendSetup | None = None) -> LiveSession:
        """A session to drive to its end (`run`): the journal starts now, beside `path`.

        Raises:
            SessionFileError: the journal cannot be written. ConfigError, DatabaseError: as the engine.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        journal = Journal.open(path, session)
        try:
            return cls(session, path, journal, backends=backends, owns_backends=True)
        except BaseException:
            journal.close()
            raise

    @classmethod
    async def open_for_batch(
        cls, session: Session, path: Path, backends: BackendSetup | None, offload: Offload = inline
    ) -> LiveSession:
        """A batch dialogue, not watched live; `offload` runs the file work that waits on the disk.

        A dialogue with no snapshot yet starts its journal on the loop: the journal's header
        then holds the whole session, which reads nothing and fsyncs nothing, while a trip
        through a thread costs more and waits behind other dialogues' snapshots.
        """
        fresh = not path.exists()
        journal = Journal.open(path, session) if fresh else await offload(Journal.open, path, session)
        try:
            live = cls(session, path, journal, backends=backends, watched=False)
        except BaseException:
            journal.close()
            raise
        live._fresh = fresh
        return live

    @classmethod
    def new(
        cls,
        folder: Path,
        domain: str | None = "retail",
        db_path: str | None = None,
        mode: Mode = Mode.USER_ORIENTED,
        execution: ToolExecution = ToolExecution.SQL,
        seed: int = 0,
        tasks: int = 3,
        profile: str | None = None,
        config: TurnloomConfig | None = None,
    ) -> LiveSession:
        """A fresh session in `folder`, opened lazily (nothing is written until the first change).

        Args:
            profile: a `[profiles.NAME]` of `config` to play every dialogue role on (the session
                stores the name only); None or "offline" for offline.

        Raises:
            TurnloomError: unknown domain, unusable database file, unknown profile.
        """
        session = create_session(domain=domain, db_path=db_path, mode=mode, execution=execution, seed=seed, tasks=tasks)
        if profile and profile != OFFLINE:
            session.config.roles = {role: profile for role in (*DIALOGUE_ROLES, RoleName.JUDGE)}
        return cls.open_lazily(session, default_path(folder, session), config)

    @classmethod
    def open(cls, path: Path, config: TurnloomConfig | None = None) -> LiveSession:
        """Open a snapshot, replaying its journal if a crash left one.

        Raises:
            SessionFileError: a file that cannot be read; the message says why.
        """
        session, warnings = open_session(path)
        return cls.open_lazily(session, path, config, warnings)

    # ------------------------------------------------------------ state

    @property
    def unsaved(self) -> bool:
        changes = self.recorder.changes if isinstance(self.recorder, LazyJournal) else 1
        return changes > 0 or self._recovered

    @property
    def has_file(self) -> bool:
        return self.path.exists()

    @property
    def role_backends(self) -> dict[str, str]:
        """Role -> "offline" or the profile name that plays it."""
        return dict(self.engine.roles.describe)

    @property
    def held(self) -> Proposal | None:
        """A user turn auto-run held back for breaking a rule (the "pause" policy), if any."""
        return self.engine.pending_violation

    # ------------------------------------------------------------ driving

    async def run(
        self, max_steps: int | None = None, pause_when: Callable[[], bool] | None = None
    ) -> FinishReason | None:
        """Run the engine until the dialogue finishes, pauses, or `max_steps` pass.

        Args:
            pause_when: asked after every committed message; True pauses after it (a batch's stop).

        Returns:
            The finish reason, or None when paused first. A backend failure finishes the
            dialogue with `backend_error` and its cause in `session.finish_detail`.
        """
        if pause_when is None:
            return await self.engine.run(max_steps)
        engine = self.engine

        def on_event(event: object) -> None:
            if isinstance(event, MessageCommitted) and pause_when():
                engine.pause()

        unsubscribe = engine.subscribe(on_event)  # undone at the end: on_event and the engine refer to each other
        try:
            return await engine.run(max_steps)
        finally:
            unsubscribe()

    async def step(self) -> ChatMessage | None:
        """Propose and commit one message; None if the dialogue has finished."""
        return await self.engine.step()

    def pause(self) -> None:
        """Stop a running `run` after the message in flight."""
        self.engine.pause()

    async def propose(self) -> Proposal:
        """The next message, not committed (an override starts from it)."""
        return await self.engine.propose()

    async def commit(self, proposal: Proposal, edited_text: str | None = None) -> ChatMessage:
        """Commit `proposal`, or the operator's text in its place (an override, which undo can take back)."""
        at = len(self.session.messages)
        message = await self.engine.commit(proposal, edited_text=edited_text)
        if edited_text is not None and edited_text != proposal.message.content:
            self._keep(override_branch(at, proposal.message))
        return message

    async def commit_user_text(self, text: str) -> ChatMessage:
        """Commit the operator's own user turn (no proposal to start from); undo can take it back."""
        at = len(self.session.messages)
        message = await self.engine.commit_user_text(text)
        self._keep(override_branch(at, None))
        return message

    def edit(self, index: int, text: str) -> ChatMessage:
        """Replace the text of message `index`; later messages are dropped and kept as a branch.

        An assistant turn with tool calls is edited as its `tool_call_edit` document (text and
        calls); the calls run again with the edited arguments when the dialogue steps on.

        Raises:
            TurnloomError: a tool result, or an edit that does not make a valid message.
        """
        original = self.session.messages[index]
        calls = None
        if original.role is Role.ASSISTANT and original.tool_calls:
            text, calls = read_tool_call_document(text, original, self.session)
        branch = cut_branch(self.session, index, "edit")
        message = self.engine.edit(index, text, tool_calls=calls)
        self._keep(branch)
        return message

    def editable_text(self, index: int) -> str:
        """What the editor opens with for message `index`: its text, or an assistant turn's call document."""
        message = self.session.messages[index]
        if message.role is Role.ASSISTANT and message.tool_calls:
            return tool_call_document(message)
        return message.text

    def truncate(self, at: int) -> None:
        """Drop the messages from `at` on, keeping them as a branch."""
        branch = cut_branch(self.session, at, "truncate")
        self.engine.truncate(at)
        self._keep(branch)

    async def propose_regeneration(self, index: int) -> Proposal:
        """Drop message `index` and what follows (kept as a branch), then draw that message anew.

        Each regeneration at an index draws with a salt the earlier ones did not use, so it
        differs from the message it replaces (offline) or is a new sample (on an endpoint).
        Commit the proposal with `commit`, or `undo` to put the old messages back.
        """
        kept = sum(1 for b in self.session.dropped_branches if b.at == index and b.action == "regenerate")
        attempt = max(kept, self._draws.get(index, 0)) + 1  # a draw put back by undo still counts
        self._draws[index] = attempt
        branch = cut_branch(self.session, index, "regenerate")
        self.engine.truncate(index)
        self._keep(branch)
        return await self.engine.propose_again(attempt)

    async def regenerate(self, index: int) -> ChatMessage | None:
        """Drop message `index` and what follows (kept as a branch), then commit a new draw of it."""
        proposal = await self.propose_regeneration(index)
        return await self.engine.commit(proposal)

    def add_task(self) -> None:
        """One more task for the dialogue, finished or not: the simulator introduces it when the current work is done.

        A finished dialogue is reopened; one that stopped at its message limit gets room for
        as many messages again.
        """
        session = self.session
        room = session.config.max_messages if len(session.messages) >= session.config.max_messages else 0
        self.engine.resume(extra_tasks=1, extra_messages=room)
        self._record_session()

    def undo(self) -> DroppedBranch | None:
        """Go back to before the last edit, regenerate, override or truncation; None if there is none.

        What stood in the branch's place is kept as an `undone` branch, so nothing is lost.
        """
        branch = last_undoable(self.session)
        if branch is None:
            return None
        replacement = cut_branch(self.session, branch.at, "undone")
        self.engine.truncate(branch.at)
        restore_branch(self.session, branch)
        if replacement.messages:
            self.session.dropped_branches.append(replacement)
        self.engine.environment.reset_to(self.session)
        self._record_session()
        return branch

    def _keep(self, branch: DroppedBranch) -> None:
        """Add a dropped branch to the session, journaled."""
        self.session.dropped_branches.append(branch)
        self._record_session()

    async def redraw_held(self, attempt: int) -> Proposal:
        """Draw the held user turn again (`attempt` varies the draw); the new draw stays held for review."""
        proposal = await self.engine.propose_again(attempt)
        self.engine.hold(proposal)
        return proposal

    def set_rule(self, rule: Rule) -> None:
        """Put `rule` in force from the next user turn (replacing the rule with its id), journaled."""
        rules = self.session.config.rules
        for i, existing in enumerate(rules):
            if existing.id == rule.id:
                rules[i] = rule
                break
        else:
            rules.append(rule)
        self._record_session()

    def set_tool_enabled(self, name: str, enabled: bool) -> None:
        """Offer tool `name` to the assistant from its next turn, or stop offering it; journaled."""
        disabled = [t for t in self.session.disabled_tools if t != name]
        if not enabled:
            disabled.append(name)
        self.session.disabled_tools = disabled
        self._record_session()

    def _record_session(self) -> None:
        """Journal the whole session after a change outside the engine (tools, rules)."""
        recorder: SessionRecorder | LazyJournal | Journal = self.recorder
        recorder.record_session(self.session)  # type: ignore[union-attr]

    # ------------------------------------------------------------ saving and closing

    def save(self) -> Path:
        """Write the snapshot atomically and fold the journal into it."""
        self.recorder.compact(self.session)
        self._recovered = False
        return self.path

    async def save_for_batch(self, offload: Offload = inline) -> None:
        """Write the snapshot at a batch dialogue's end, the disk work through `offload`.

        A dialogue that had no snapshot when it started is saved and its journal dropped
        (killed in between, the journal replays to this same state); one that had continues
        its journal from the new snapshot.
        """
        if self._fresh:
            self.recorder.close()
            # the snapshot's data is fsynced; its rename becomes durable with the batch's next
            # manifest save (an fsync of the same folder), which is what records it as done
            await offload(functools.partial(compact, sync_folder=False), self.path, self.session)
        else:
            await offload(self.recorder.compact, self.session)

    def fork(self, at: int) -> LiveSession:
        """A new live session on the first `at` messages, saved beside this one; this session is not changed."""
        parent_path = str(self.path) if self.path.exists() else None
        child = fork_session(self.session, at, parent_path)
        forked = LiveSession.open_lazily(child, default_path(self.path.parent, child), self.config)
        forked.save()
        return forked

    def close(self) -> None:
        """Close the journal (a journal that adds nothing is removed) and the database.

        The endpoints' HTTP clients are closed by `aclose`, on the event loop that opened them.
        """
        self.recorder.close()
        with contextlib.suppress(Exception):
            self.engine.environment.close()

    async def close_backends(self) -> None:
        """Close the endpoints' HTTP clients and exchange log, if this session opened them."""
        if self.backends is not None and self._owns_backends:
            await self.backends.aclose()

    async def aclose(self) -> None:
        """`close`, then `close_backends`."""
        self.close()
        await self.close_backends()
