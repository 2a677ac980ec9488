"""One dialogue of a batch: create it (or pick it up from its files), run it, save it.

`run_dialogue` is the unit every executor runs, in this process, in a worker
process or as a Ray task. It looks at the dialogue's files first, so running
the same job twice never duplicates work: a finished dialogue is skipped, a
half-finished one continues mid-conversation from its journal, a failed one
(backend error) is reopened and retried. Every committed message is journaled
as it happens; the snapshot is written atomically when the dialogue stops.
Planning jobs, concurrency and progress are left to `batch` and `executors`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from turnloom.core.batch.manifest import BatchConfig, DialogueStatus
from turnloom.core.errors import TurnloomError
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.lifecycle.live_session import LiveSession, inline
from turnloom.core.models import FinishReason, Mode, Session, Task, ToolExecution, Usage, new_session_id
from turnloom.core.players.offline.tasks import task_count
from turnloom.core.players.task_list import tasks_for
from turnloom.core.quality.metrics import session_cost
from turnloom.core.quality.verdict import settle_verdict
from turnloom.core.rules.catalog import RuleCatalog, load_catalog, rule_config
from turnloom.core.storage.journal import compact, journal_path, open_session

T = TypeVar("T")
# tasks each dialogue takes from a task list (`--task-file`) when --tasks does not say
TASK_FILE_SHARE = 3


class StopSignal(Protocol):
    """Tells running dialogues to stop after the message in flight."""

    def is_set(self) -> bool: ...


class FileStop:
    """A stop signal any process can see: a file exists (works across processes and Ray)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)

    def is_set(self) -> bool:
        return os.path.exists(self.path)

    def set(self) -> None:
        # never through a symbolic link planted at the name: the link goes, a plain file is made
        if os.path.islink(self.path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644))

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class NeverStop:
    def is_set(self) -> bool:
        return False


@dataclass(frozen=True)
class DialogueJob:
    """Which dialogue to run: its position in the batch, its seed, its session file."""

    index: int
    seed: int
    path: str


@dataclass
class DialogueOutcome:
    """What running a job came to."""

    index: int
    seed: int
    status: DialogueStatus
    finish_reason: str | None = None
    messages: int = 0
    new_messages: int = 0
    wall_s: float = 0.0
    tokens: int = 0
    cost: float | None = None
    skipped: bool = False  # already finished before this run
    resumed: bool = False  # picked up mid-conversation
    error: str | None = None


if TYPE_CHECKING:
    from turnloom.core.players.setup import BackendSetup


@dataclass
class SessionFactory:
    """New sessions for a batch config, sharing one derived toolset.

    Deriving tools from a database is most of the cost of starting an offline
    dialogue, and it is the same for every seed; the template is built once per
    process and copied with the seed's own id, config and reference time.
    """

    config: BatchConfig
    _template: Session | None = field(default=None, repr=False)
    _catalog: RuleCatalog | None = field(default=None, repr=False)
    _task_list: list[Task] | None = field(default=None, repr=False)

    def new(self, seed: int) -> Session:
        """A fresh session for `seed`, equal to `create_session(..., seed=seed)` but for id and time."""
        if self._template is None:
            self._template = self._create(self.config.seed_start)
            self._catalog = load_catalog()  # read once per batch worker, not per dialogue
            self._task_list = self.config.task_list()
        template = self._template
        # the rules are drawn per seed (a rule set may draw a persona), as `create_session` draws them
        user_oriented = template.config.mode is Mode.USER_ORIENTED
        drawn = rule_config(template.config.rule_set, seed, self._catalog) if user_oriented else {}
        share = self.config.tasks if self.config.tasks is not None else TASK_FILE_SHARE
        planned = tasks_for(self._task_list or [], seed - self.config.seed_start, share)
        if planned:  # a task list (`--task-file`): the seed's share of it, in turn
            drawn = {**drawn, "planned_tasks": planned, "tasks": len(planned)}
        elif self.config.tasks is None:  # no --tasks: each dialogue draws its number, as `create_session` does
            drawn = {**drawn, "tasks": task_count(seed)}
        config = template.config.model_copy(update={"seed": seed, "roles": dict(self.config.roles), **drawn})
        return template.model_copy(
            update={
                "id": new_session_id(),
                "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
                "config": config,
                "reference_time": reference_time(seed),
                "tasks": [],
                "messages": [],
                "write_log": [],
                "usage": Usage(),
                "finish_reason": None,
            }
        )

    def _create(self, seed: int) -> Session:
        c = self.config
        return create_session(
            domain=c.domain,
            db_path=c.db,
            mode=Mode(c.mode),
            execution=ToolExecution(c.execution),
            seed=seed,
            tasks=c.tasks,
            max_messages=c.max_messages,
            rule_set=c.rule_set,
            toolset=c.toolset(),
        )


def reference_time(seed: int) -> str:
    """The fixed 'now' of a dialogue, drawn from its seed as `create_session` draws it."""
    rng = random.Random(f"{seed}:reference-time")
    moment = datetime(2025, 1, 1, 9, 0, tzinfo=UTC) + timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 600))
    return moment.isoformat()


def existing_session(path: str | os.PathLike[str]) -> Session | None:
    """The dialogue saved at `path` (its journal replayed), or None if nothing was saved yet.

    Raises:
        SessionFileError: files that exist but cannot be recovered.
    """
    if not Path(path).exists() and not journal_path(path).exists():
        return None
    session, _warnings = open_session(path)
    return session


def is_finished(session: Session) -> bool:
    """Finished for good: any finish reason but a backend error (which is retried)."""
    return session.finish_reason is not None and session.finish_reason is not FinishReason.BACKEND_ERROR


async def run_dialogue(
    job: DialogueJob,
    factory: SessionFactory,
    stop: StopSignal | None = None,
    backends: BackendSetup | None = None,
    prices: dict | None = None,
) -> DialogueOutcome:
    """Run one dialogue of a batch to its end (or until `stop` is set), journaling every commit.

    Args:
        job: the dialogue.
        factory: makes the session when the dialogue has not started yet.
        stop: checked after every committed message; when set, the dialogue is saved
            as it stands (status PARTIAL) and continues on the next run.
        backends: shared endpoints for the roles the config maps to profiles
            (`session.config.roles`); unmapped roles are offline.
        prices: model -> Price, to cost the tokens used.

    Returns:
        The outcome. Errors are caught and reported as FAILED, never raised,
        so one broken dialogue cannot stop a batch.
    """
    started = time.perf_counter()
    stop = stop or NeverStop()
    outcome = DialogueOutcome(job.index, job.seed, DialogueStatus.PENDING)
    try:
        session = existing_session(job.path)
        if session is not None and is_finished(session):
            if journal_path(job.path).exists():
                compact(job.path, session)  # killed after finishing but before the snapshot
            return _fill(outcome, session, DialogueStatus.DONE, prices, skipped=True)
        if stop.is_set():
            return outcome
        if session is None:
            session = factory.new(job.seed)
        else:
            outcome.resumed = True
            session.finish_reason = None  # a failed dialogue is retried where it stopped
        before = len(session.messages)
        outcome.error = await _drive(session, job.path, stop, backends)
    except Exception as exc:  # noqa: BLE001 - one dialogue's crash is its own outcome
        outcome.status = DialogueStatus.FAILED
        outcome.error = f"{type(exc).__name__}: {exc}"
        outcome.wall_s = time.perf_counter() - started
        return outcome
    if session.finish_reason is None:
        status = DialogueStatus.PARTIAL
    elif session.finish_reason is FinishReason.BACKEND_ERROR:
        status = DialogueStatus.FAILED
    else:
        status = DialogueStatus.DONE
    _fill(outcome, session, status, prices)
    outcome.new_messages = len(session.messages) - before
    outcome.wall_s = time.perf_counter() - started
    return outcome


async def _drive(session: Session, path: str, stop: StopSignal, backends: BackendSetup | None) -> str | None:
    """Run the dialogue's live session to its end or the stop; the backend failure's cause, if any.

    With endpoints, the journal's start and the final snapshot (each an fsynced atomic
    write) run in a worker thread: hundreds of dialogues share this event loop, and a
    blocking fsync would hold up every reply waiting to be read.
    """
    offload = _in_thread if backends is not None else inline
    live = await LiveSession.open_for_batch(session, Path(path), backends, offload)
    try:
        try:
            if not stop.is_set():
                await live.run(pause_when=stop.is_set)
        finally:
            live.engine.environment.close()
        judge_errors = await _settle_verdict(session, backends) if session.finish_reason is not None else []
        await live.save_for_batch(offload)
    finally:
        live.recorder.close()
    if session.finish_reason is FinishReason.BACKEND_ERROR:
        return session.finish_detail
    return judge_errors[-1] if judge_errors else None


async def _settle_verdict(session: Session, backends: BackendSetup | None) -> list[str]:
    """Judge the dialogue that just ended (checks, and the rubric judge when mapped); the judge's error, if any.

    A judge that fails leaves the checks' verdict in place; `stats` and `export --only-valid` ask it again.
    """
    try:
        await settle_verdict(session, backends)
    except TurnloomError as exc:
        return [f"judge: {exc}"]
    return []


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(file_threads(), functools.partial(function, *args))


@functools.lru_cache(maxsize=1)
def file_threads() -> concurrent.futures.ThreadPoolExecutor:
    """Threads for snapshot writes, enough for a batch's dialogues to end together.

    A snapshot waits mostly on two fsyncs; asyncio's default pool (a handful of
    threads) queues hundreds of dialogues ending within a few milliseconds behind
    each other, and each waits to free its slot. The filesystem commits concurrent
    fsyncs together, so more threads wait less each.
    """
    return concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="turnloom-files")


def _fill(
    outcome: DialogueOutcome, session: Session, status: DialogueStatus, prices: dict | None, skipped: bool = False
) -> DialogueOutcome:
    outcome.status = status
    outcome.skipped = skipped
    outcome.finish_reason = str(session.finish_reason) if session.finish_reason else None
    outcome.messages = len(session.messages)
    outcome.tokens = session.usage.total
    outcome.cost = session_cost(session, prices or {})
    if status is DialogueStatus.FAILED and outcome.error is None:
        outcome.error = f"finished with {outcome.finish_reason}"
    if status is not DialogueStatus.FAILED:
        outcome.error = None
    return outcome


@functools.lru_cache(maxsize=8)
def _factory_for(config_json: str) -> SessionFactory:
    """One session factory per config per worker process (the template is built once)."""
    return SessionFactory(BatchConfig.model_validate_json(config_json))


def run_chunk(config_json: str, jobs: list[DialogueJob], stop_path: str | None) -> list[DialogueOutcome]:
    """Run several offline dialogues one after another; what process and Ray workers call.

    Args:
        config_json: the batch config as JSON (cheap to ship to a worker).
        jobs: the dialogues to run.
        stop_path: a file whose existence means stop (see `FileStop`).

    Returns:
        One outcome per job, in order (PENDING for jobs not started because of a stop).
    """
    factory = _factory_for(config_json)
    stop: StopSignal = FileStop(stop_path) if stop_path else NeverStop()

    async def go() -> list[DialogueOutcome]:
        return [await run_dialogue(job, factory, stop) for job in jobs]

    return asyncio.run(go())
