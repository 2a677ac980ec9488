"""Where a batch's dialogues run: asyncio tasks, a process pool, or Ray tasks.

Every executor takes the same jobs and reports the same outcomes through two
callbacks (`on_start`, `on_outcome`); each dialogue is `batchjob.run_dialogue`,
so files, journals and resume semantics are identical whichever runs them.

- `AsyncExecutor`: asyncio tasks in this process, at most `concurrency` at once
  (a semaphore). Right for dialogues that wait on a model endpoint.
- `ProcessExecutor`: offline dialogues are CPU-bound, so they run in a pool of
  worker processes, a few dialogues per submission.
- `RayExecutor`: the same chunks as Ray tasks, on a local Ray instance or an
  existing cluster (`ray` is imported here, lazily, and nowhere else). Workers
  write into the output folder, so on a multi-node cluster it must be shared.

Stopping: executors stop submitting once the stop signal is set; dialogues in
flight pause after their current message and are saved as they stand.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Protocol

from .batchjob import DialogueJob, DialogueOutcome, FileStop, SessionFactory, run_chunk, run_dialogue
from .errors import UsageError
from .manifest import BatchConfig

if TYPE_CHECKING:
    from .backends.setup import BackendSetup

_PR_SET_PDEATHSIG = 1  # prctl option: a signal to receive when the parent dies
OnStart = Callable[[list[DialogueJob]], None]
OnOutcome = Callable[[DialogueOutcome], None]


class Executor(Protocol):
    name: str

    async def run(
        self, config: BatchConfig, jobs: Iterable[DialogueJob], stop: FileStop, on_start: OnStart, on_outcome: OnOutcome
    ) -> None:
        """Run `jobs` until done or `stop` is set."""
        ...


class AsyncExecutor:
    """Dialogues as asyncio tasks in this process, bounded by a semaphore."""

    name = "local"

    def __init__(self, concurrency: int, backends: BackendSetup | None = None, prices: dict | None = None) -> None:
        self.concurrency = concurrency
        self.backends = backends
        self.prices = prices

    async def run(
        self, config: BatchConfig, jobs: Iterable[DialogueJob], stop: FileStop, on_start: OnStart, on_outcome: OnOutcome
    ) -> None:
        factory = SessionFactory(config)
        gate = asyncio.Semaphore(self.concurrency)
        flight: set[asyncio.Task] = set()
        memory_stop = _MemoizedStop(stop)

        def finished(task: asyncio.Task) -> None:
            flight.discard(task)
            gate.release()
            if not task.cancelled() and task.exception() is None:
                on_outcome(task.result())

        try:
            for job in jobs:
                await gate.acquire()
                if memory_stop.is_set():
                    gate.release()
                    break
                on_start([job])
                task = asyncio.create_task(run_dialogue(job, factory, memory_stop, self.backends, self.prices))
                flight.add(task)
                task.add_done_callback(finished)
            if flight:
                await asyncio.gather(*flight)
        except asyncio.CancelledError:
            for task in flight:
                task.cancel()
            raise


class _MemoizedStop:
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


def _worker_init() -> None:
    """Set up a pool worker: Ctrl-C belongs to the parent, and the worker dies with it."""
    # the parent owns Ctrl-C and tells workers to stop through the stop file
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        # a killed parent must not leave workers writing files a resumed run is writing too
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _chunks(jobs: Iterable[DialogueJob], size: int) -> Iterator[list[DialogueJob]]:
    iterator = iter(jobs)
    while chunk := list(islice(iterator, size)):
        yield chunk


class ProcessExecutor:
    """Offline dialogues in a pool of worker processes, `chunk` dialogues per submission."""

    name = "process"

    def __init__(self, workers: int, chunk: int = 4) -> None:
        self.workers = workers
        self.chunk = chunk

    async def run(
        self, config: BatchConfig, jobs: Iterable[DialogueJob], stop: FileStop, on_start: OnStart, on_outcome: OnOutcome
    ) -> None:
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        config_json = config.model_dump_json()
        with concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_init) as pool:

            def submit(chunk: list[DialogueJob]) -> asyncio.Future:
                return loop.run_in_executor(pool, run_chunk, config_json, chunk, stop.path)

            await _pump(_chunks(jobs, self.chunk), submit, self.workers * 2, stop, on_start, on_outcome)


async def _pump(
    chunks: Iterator[list[DialogueJob]],
    submit: Callable[[list[DialogueJob]], asyncio.Future],
    in_flight: int,
    stop: FileStop,
    on_start: OnStart,
    on_outcome: OnOutcome,
) -> None:
    """Keep `in_flight` chunks submitted until the jobs run out or `stop` is set."""
    pending: set[asyncio.Future] = set()
    try:
        while True:
            while len(pending) < in_flight and not stop.is_set():
                chunk = next(chunks, None)
                if chunk is None:
                    break
                on_start(chunk)
                pending.add(asyncio.ensure_future(submit(chunk)))
            if not pending:
                return
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                for outcome in future.result():
                    on_outcome(outcome)
    except asyncio.CancelledError:
        for future in pending:
            future.cancel()
        raise


class RayExecutor:
    """Dialogue chunks as Ray tasks: a local Ray instance, or the cluster at `address`."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, chunk: int = 4) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.chunk = chunk

    async def run(
        self, config: BatchConfig, jobs: Iterable[DialogueJob], stop: FileStop, on_start: OnStart, on_outcome: OnOutcome
    ) -> None:
        ray = import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
            else:
                ray.init(num_cpus=self.num_cpus or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
        try:
            remote = ray.remote(num_cpus=1, max_retries=0)(run_chunk)
            cpus = int(ray.cluster_resources().get("CPU", 1))
            config_ref = ray.put(config.model_dump_json())
            refs: list = []

            def submit(chunk: list[DialogueJob]) -> asyncio.Future:
                ref = remote.remote(config_ref, chunk, stop.path)
                refs.append(ref)
                return asyncio.wrap_future(ref.future())

            try:
                await _pump(_chunks(jobs, self.chunk), submit, max(2, cpus * 2), stop, on_start, on_outcome)
            except asyncio.CancelledError:
                for ref in refs:
                    ray.cancel(ref, force=True)
                raise
        finally:
            if started_here:
                ray.shutdown()


def import_ray():  # noqa: ANN201 - the ray module
    """The `ray` module, or a UsageError saying how to install it."""
    try:
        import ray
    except ModuleNotFoundError:
        raise UsageError("--executor ray needs Ray: pip install 'turnloom[ray]'") from None
    return ray
