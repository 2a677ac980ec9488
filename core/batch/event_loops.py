"""One event loop per core: `AsyncExecutor`'s worker processes and how it feeds them.

The parent starts one worker per loop, sends it jobs over a pipe as its slots free
up and gets every `DialogueOutcome` back the same way; a worker that dies fails
only the dialogues it held. Where the platform can, workers are forked from the
parent, which has imported the core already (`worker_context`). Each worker builds its own endpoints from a
`BackendSpec` and runs `job.run_dialogue`, so files, journals and resume
semantics are those of a single loop. Which executor to use, and when more than
one loop pays, is `executors`' business.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from turnloom.core.batch.job import DialogueJob, DialogueOutcome, FileStop, SessionFactory, file_threads, run_dialogue
from turnloom.core.batch.manifest import BatchConfig, DialogueStatus
from turnloom.core.batch.pool_worker import worker_init

if TYPE_CHECKING:
    from multiprocessing.context import ForkContext, SpawnContext

    from turnloom.core.players.setup import BackendSpec

OnStart = Callable[[list[DialogueJob]], None]
OnOutcome = Callable[[DialogueOutcome], None]


@dataclass
class _Loop:
    """A worker process running dialogues on its own event loop, and what it holds now."""

    process: multiprocessing.process.BaseProcess
    conn: Connection
    slots: int
    flight: dict[int, DialogueJob] = field(default_factory=dict)
    closed: bool = False  # told that no more jobs come
    alive: bool = True


async def run_on_loops(
    setup: BackendSpec,
    count: int,
    opened: int,
    prices: dict | None,
    config: BatchConfig,
    jobs: Iterable[DialogueJob],
    stop: FileStop,
    on_start: OnStart,
    on_outcome: OnOutcome,
) -> None:
    """`AsyncExecutor.run` over `count` worker event loops holding `opened` dialogues between them.

    Each worker builds its endpoints from `setup` (the executor's backends, shared `count` ways).
    """
    loop = asyncio.get_running_loop()
    context = worker_context()
    forked = context.get_start_method() == "fork"
    if forked:
        preload()
    sizes = [opened // count + (1 if i < opened % count else 0) for i in range(count)]
    config_json = config.model_dump_json()
    pending = iter(jobs)
    exhausted = False
    memory_stop = MemoizedStop(stop)
    done: asyncio.Future[None] = loop.create_future()
    workers: list[_Loop] = []

    def feed(worker: _Loop) -> None:
        nonlocal exhausted
        while worker.alive and not worker.closed and len(worker.flight) < worker.slots:
            job = None if exhausted or memory_stop.is_set() else next(pending, None)
            if job is None:
                exhausted = exhausted or not memory_stop.is_set()
                worker.closed = True
            else:
                on_start([job])
                worker.flight[job.seed] = job
            try:
                worker.conn.send(job)
            except OSError:  # the worker is gone; its reader sees the end and reports what it held
                worker.closed = True
            if worker.closed:
                return

    def lost(worker: _Loop) -> None:
        loop.remove_reader(worker.conn.fileno())
        worker.alive = False
        if worker.flight:  # it died with dialogues in flight: they failed where they stood
            worker.process.join(5)
            error = f"the worker process running it exited (code {worker.process.exitcode}); re-run to resume"
            for job in worker.flight.values():
                on_outcome(DialogueOutcome(job.index, job.seed, DialogueStatus.FAILED, error=error))
            worker.flight.clear()
        if not any(w.alive for w in workers) and not done.done():
            done.set_result(None)

    def readable(worker: _Loop) -> None:
        try:
            try:
                while worker.conn.poll():
                    outcome: DialogueOutcome = worker.conn.recv()
                    worker.flight.pop(outcome.seed, None)
                    on_outcome(outcome)
            except (EOFError, OSError):
                lost(worker)
                return
            feed(worker)
        except BaseException as exc:  # noqa: BLE001 - a callback's error must reach `run`, not the loop's log
            if not done.done():
                done.set_exception(exc)

    try:
        for slots in sizes:
            ours, theirs = context.Pipe(duplex=True)
            # a forked worker holds copies of the parent's ends of every pipe made so far: it closes them
            inherited = tuple(w.conn.fileno() for w in workers) + (ours.fileno(),) if forked else ()
            process = context.Process(
                target=_loop_worker,
                args=(theirs, os.getpid(), config_json, setup, prices, stop.path, inherited),
                name="turnloom-loop",
                daemon=True,
            )
            process.start()
            theirs.close()
            worker = _Loop(process, ours, slots)
            workers.append(worker)
            loop.add_reader(ours.fileno(), readable, worker)
        for worker in workers:
            feed(worker)
        await done
    except BaseException:
        for worker in workers:
            if worker.alive:
                worker.process.terminate()  # a second Ctrl-C: journals hold every committed message
        raise
    finally:
        for worker in workers:
            if worker.alive:
                with contextlib.suppress(ValueError, OSError):
                    loop.remove_reader(worker.conn.fileno())
            worker.process.join(5)
            worker.conn.close()


def worker_context() -> ForkContext | SpawnContext:
    """How event-loop workers start: forked where the platform forks (Linux), spawned elsewhere.

    A spawned worker imports the core, aiohttp and uvloop before its first request
    (~0.8 s of CPU each, and as long before the batch's first requests go out); a
    forked one starts from the parent, which has them already. The parent runs no
    dialogue and holds no client, and the worker drops what it must not share
    (`_forget_parent`). `TURNLOOM_WORKER_START=spawn` spawns anyway.
    """
    wanted = os.environ.get("TURNLOOM_WORKER_START", "").strip().lower()
    if wanted != "spawn" and sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def preload() -> None:
    """Import in the parent what every forked worker would otherwise import itself (the HTTP client, uvloop)."""
    import turnloom.core.endpoint.wire  # noqa: F401 - aiohttp, for every worker's endpoints

    fast_loop_factory()


def _forget_parent(inherited: tuple[int, ...]) -> None:
    """In a forked worker: let go of what belongs to the parent.

    The parent's event loop had its signal handlers write to its own wake-up socket,
    which the fork shares: a signal to the worker would wake the parent as if it
    were the parent's. The parent's ends of the job pipes would keep the worker's
    own pipe (and the other workers') from seeing the parent go. A thread pool the
    parent made has no threads here, and a lock one of the parent's other threads held
    at the fork (its progress line writing to stdout, say) stays held in the copies of
    stdout and stderr, so the worker writes through new ones on the same descriptors.
    """
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (a test's capture): left as it is
            continue
        fresh = open(fd, "w", buffering=1, encoding=stream.encoding, errors=stream.errors, closefd=False)  # noqa: SIM115
        setattr(sys, name, fresh)
    signal.set_wakeup_fd(-1)
    for number in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            handler = signal.getsignal(number)
            if callable(handler) and handler is not signal.default_int_handler:
                signal.signal(number, signal.SIG_DFL)
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    file_threads.cache_clear()


def _loop_worker(
    conn: Connection,
    parent: int,
    config_json: str,
    setup: BackendSpec,
    prices: dict | None,
    stop_path: str,
    inherited: tuple[int, ...] = (),
) -> None:
    """A worker process: run the dialogues `conn` sends on one event loop; send back each outcome.

    `inherited`: descriptors of the parent's a forked worker closes first (none when spawned).

    When the loop is done, every file it wrote is closed (snapshots fsynced, journal and
    exchange-log lines written unbuffered) and the parent has every outcome, so the worker
    leaves at once: tearing down the interpreter took ~0.1 s after a 128-in-flight batch
    (0.6 s while dialogues were still left for the cyclic collector), which the parent
    spent waiting in `join` before `generate` could return.
    """
    if inherited:
        _forget_parent(inherited)
    worker_init(parent)
    with batch_collector(), asyncio.Runner(loop_factory=fast_loop_factory()) as runner:
        runner.run(_serve(conn, BatchConfig.model_validate_json(config_json), setup, prices, stop_path))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


async def _serve(conn: Connection, config: BatchConfig, spec: BackendSpec, prices: dict | None, stop_path: str) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[DialogueJob | None] = asyncio.Queue()
    backends = spec.build()
    factory = SessionFactory(config)
    stop = MemoizedStop(FileStop(stop_path))
    flight: set[asyncio.Task] = set()

    def readable() -> None:
        try:
            while conn.poll():
                inbox.put_nowait(conn.recv())
        except (EOFError, OSError):  # the parent is gone: finish what is in flight
            loop.remove_reader(conn.fileno())
            inbox.put_nowait(None)

    async def one(job: DialogueJob) -> None:
        outcome = await run_dialogue(job, factory, stop, backends, prices)
        with contextlib.suppress(OSError):
            conn.send(outcome)

    loop.add_reader(conn.fileno(), readable)
    try:
        while (job := await inbox.get()) is not None:
            task = asyncio.create_task(one(job))
            flight.add(task)
            task.add_done_callback(flight.discard)
            await asyncio.sleep(0)  # one dialogue starts per turn of the loop: see `AsyncExecutor`
        if flight:
            await asyncio.gather(*flight)
    finally:
        with contextlib.suppress(ValueError, OSError):
            loop.remove_reader(conn.fileno())
        await backends.aclose()
        conn.close()


def fast_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop for a batch worker when it is installed (`pip install turnloom[fast]`), else None.

    A batch loop spends much of its CPU in the event loop and its socket transports
    (hundreds of replies a second); uvloop runs them in C. `TURNLOOM_UVLOOP=0` keeps
    asyncio's own loop. Only batch workers use it: they run no code of a user's.

    Returns:
        A loop factory for `asyncio.Runner`, or None for asyncio's default loop.
    """
    if os.environ.get("TURNLOOM_UVLOOP", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


@contextlib.contextmanager
def batch_collector() -> Iterator[None]:
    """The garbage collector tuned for an event loop running hundreds of dialogues; restored after.

    With the default thresholds, collections took ~5% of a loop's time at 128
    dialogues in flight, in pauses of up to 70 ms that hold up every reply waiting
    to be read. Freezing what exists at the start (modules, the session template)
    and collecting the young generation every 50,000 allocations instead of 700
    brings that under 1% (`bench/README.md`, batch generation).
    """
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


class MemoizedStop:
    """A stop file checked at most every 50 ms (hundreds of dialogues ask after every message)."""

    def __init__(self, stop: FileStop) -> None:
        self.stop = stop
        self._checked = 0.0
        self._set = False

    def is_set(self) -> bool:
        if not self._set:
            now = asyncio.get_running_loop().time()
            if now - self._checked > 0.05:
                self._checked = now
                self._set = self.stop.is_set()
        return self._set
