"""The session a curator is working on: its engine, its autosave journal and its file.

`Workbench` ties a `Session` to a `DialogueEngine` whose recorder is the session's
journal, so every committed message is on disk before the UI hears of it. The journal is
opened on the first change, so merely opening or starting a session leaves no file
behind. No Textual here: screens drive a workbench and render what it holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from turnloom.core.config import TurnloomConfig
from turnloom.core.engine.engine import DialogueEngine
from turnloom.core.lifecycle.dialogue import create_session, fork_session, open_engine
from turnloom.core.models import ChatMessage, FinishReason, Mode, Session, Task, ToolExecution, WriteRecord
from turnloom.core.players.setup import BackendSetup, uses_backends
from turnloom.core.storage.journal import Journal, journal_path, open_session

SNAPSHOT_SUFFIX = ".session.json"


def default_path(folder: Path, session: Session) -> Path:
    """`<folder>/<domain>-seed<N>-<id>.session.json`."""
    return folder / f"{session.domain}-seed{session.config.seed}-{session.id}{SNAPSHOT_SUFFIX}"


class LazyJournal:
    """The engine's recorder: opens the journal on the first record, then forwards."""

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

    def record_finish(self, reason: FinishReason | None) -> None:
        self._open().record_finish(reason)

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


ROLE_SLOTS = ("task", "user", "assistant", "tool", "judge")


class Workbench:
    """One open session: `session`, `engine`, `path`, and whether it has unsaved changes.

    A session whose `config.roles` maps roles to profiles is played on those profiles of
    `config` (the loaded turnloom.toml); its model exchanges are recorded beside the
    session file, as `turnloom run` does, so it can be replayed and verified.

    Raises:
        ConfigError: a mapped profile that `config` does not define.
    """

    def __init__(
        self, session: Session, path: Path, warnings: list[str] | None = None, config: TurnloomConfig | None = None
    ) -> None:
        self.session = session
        self.path = path
        self.warnings = warnings or []
        self.config = config or TurnloomConfig()
        self.recorder = LazyJournal(path, session)
        self.backends: BackendSetup | None = None
        if uses_backends(session):
            from turnloom.core.endpoint.exchange_log import exchange_log_path

            self.backends = BackendSetup.create(self.config, record=exchange_log_path(path))
        self.engine: DialogueEngine = open_engine(session, recorder=self.recorder, backends=self.backends)
        # a recovered journal means the snapshot is behind: saving is still owed
        self._recovered = journal_path(path).exists()

    # ------------------------------------------------------------ constructors

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
    ) -> Workbench:
        """A fresh session in `folder` (nothing is written until the first change).

        Args:
            profile: a `[profiles.NAME]` of `config` to play every role on (the
                session stores the name only); None or "offline" for offline.

        Raises:
            TurnloomError: unknown domain, unusable database file, unknown profile.
        """
        session = create_session(domain=domain, db_path=db_path, mode=mode, execution=execution, seed=seed, tasks=tasks)
        if profile and profile != "offline":
            session.config.roles = {role: profile for role in ROLE_SLOTS}
        return cls(session, default_path(folder, session), config=config)

    @classmethod
    def open(cls, path: Path, config: TurnloomConfig | None = None) -> Workbench:
        """Open a snapshot, replaying its journal if a crash left one.

        Raises:
            SessionFileError: a file that cannot be read; the message says why.
            ConfigError: the session maps a role to a profile `config` does not define.
        """
        session, warnings = open_session(path)
        return cls(session, path, warnings, config=config)

    # ------------------------------------------------------------ state

    @property
    def unsaved(self) -> bool:
        return self.recorder.changes > 0 or self._recovered

    @property
    def has_file(self) -> bool:
        return self.path.exists()

    def record_session(self) -> None:
        """Journal the whole session after a change outside the engine (tools, rules)."""
        self.recorder.record_session(self.session)

    def save(self) -> Path:
        """Write the snapshot atomically and fold the journal into it."""
        self.recorder.compact(self.session)
        self._recovered = False
        return self.path

    def fork(self, at: int) -> Workbench:
        """A new workbench on the first `at` messages; the parent session is not changed."""
        parent_path = str(self.path) if self.path.exists() else None
        child = fork_session(self.session, at, parent_path)
        bench = Workbench(child, default_path(self.path.parent, child), config=self.config)
        bench.save()
        return bench

    def set_tool_enabled(self, name: str, enabled: bool) -> None:
        disabled = [t for t in self.session.disabled_tools if t != name]
        if not enabled:
            disabled.append(name)
        self.session.disabled_tools = disabled
        self.record_session()

    @property
    def role_backends(self) -> dict[str, str]:
        """Role -> "offline" or the profile name that plays it."""
        return dict(self.engine.roles.describe)

    def close(self) -> None:
        """Close the journal (a journal that adds nothing is removed) and the database.

        The endpoints' HTTP clients are closed by `aclose`, on the event loop that opened them.
        """
        self.recorder.close()
        with contextlib.suppress(Exception):
            self.engine.environment.close()

    async def aclose(self) -> None:
        """`close`, then close the endpoints' HTTP clients."""
        self.close()
        if self.backends is not None:
            await self.backends.aclose()
