"""Where a batch's dialogues run: asyncio tasks, a process pool, or Ray tasks.

Every executor takes the same jobs and reports the same outcomes through two
callbacks (`on_start`, `on_outcome`); each dialogue is `job.run_dialogue`,
so files, journals and resume semantics are identical whichever runs them.

- `AsyncExecutor`: asyncio tasks. Right for dialogues that wait on a model
  endpoint: `concurrency` is then the requests kept in flight, and a quarter more
  dialogues are kept open, so the request slot one dialogue frees while it works
  between requests (reading the reply, running tools, journaling, starting or
  saving) goes at once to another's request. Each request still costs the client
  CPU (HTTP, JSON, the engine, journaling), so at high concurrency one event loop
  saturates one core: from `PER_PROCESS_MIN` requests in flight per core, the seeds
  are spread over one event loop per core (a worker process each, forked from this
  one where the platform forks; the open dialogues and the request slots split
  evenly). This process hands out jobs as dialogues end and gets every outcome back
  over a pipe.
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
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Protocol

from turnloom.core.batch.event_loops import (
    MemoizedStop,
    OnOutcome,
    OnStart,
    batch_collector,
    run_on_loops,
)
from turnloom.core.batch.job import DialogueJob, FileStop, SessionFactory, run_chunk, run_dialogue
from turnloom.core.batch.manifest import BatchConfig
from turnloom.core.batch.pool_worker import worker_init
from turnloom.core.errors import UsageError

if TYPE_CHECKING:
    from turnloom.core.players.setup import BackendSetup


class Executor(Protocol):
    name: str

    async def run(
        self, config: BatchConfig, jobs: Iterable[DialogueJob], stop: FileStop, on_start: OnStart, on_outcome: OnOutcome
    ) -> None:
        """Run `jobs` until done or `stop` is set."""
        ...


PER_PROCESS_MIN = 16  # requests in flight below which a second event loop costs more than it gives
OPEN_PER_EXTRA = 4  # with endpoints: one dialogue open beyond the request slots per this many slots


class AsyncExecutor:
    """Dialogues as asyncio tasks; with endpoints, `concurrency` requests in flight, one event loop per core when it pays.

    Args:
        concurrency: with `backends`, requests in flight at most, over all processes
            and for each profile (whose own `max_concurrency` still applies when lower);
            `open_dialogues` is a quarter more. Offline: dialogues at once.
        backends: shared endpoints for the mapped roles (None: offline dialogues);
            their profiles are limited to `concurrency` requests in flight.
        prices: model -> Price, to cost the tokens used.
        processes: event loops (processes) to spread the dialogues over; None picks one
            per core when `backends` is given and `concurrency` allows `PER_PROCESS_MIN`
            requests in flight per loop, else 1 (this process).

    Why a quarter more dialogues than request slots: `bench/README.md`, batch generation.
    """

    name = "local"

    def __init__(
        self,
        concurrency: int,
        backends: BackendSetup | None = None,
        prices: dict | None = None,
        processes: int | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.backends = backends
        self.prices = prices
        self.open_dialogues = concurrency
        if backends is not None:
            backends.limit_requests(concurrency)
            self.open_dialogues += max(1, concurrency // OPEN_PER_EXTRA)
        if processes is None:
            processes = min(os.cpu_count() or 1, concurrency // PER_PROCESS_MIN) if backends is not None else 1
        self.processes = max(1, min(processes, concurrency))

    async def run(
        self, config: BatchConfig, jobs: Iterable[DialogueJob], stop: FileStop, on_start: OnStart, on_outcome: OnOutcome
    ) -> None:
        if self.processes > 1:
            assert self.backends is not None  # more than one loop only with endpoints
            setup = self.backends.spec(share=self.processes)
            await run_on_loops(
                setup, self.processes, self.open_dialogues, self.prices, config, jobs, stop, on_start, on_outcome
            )
            return
        with batch_collector():
            await self._run_here(config, jobs, stop, on_start, on_outcome)

    async def _run_here(
        self, config: BatchConfig, jobs: Iterable[DialogueJob], stop: FileStop, on_start: OnStart, on_outcome: OnOutcome
    ) -> None:
        """Every dialogue on this process's event loop."""
        factory = SessionFactory(config)
        gate = asyncio.Semaphore(self.open_dialogues)
        flight: set[asyncio.Task] = set()
        memory_stop = MemoizedStop(stop)

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
                # let it start (up to its first request) before the next one is made: starting
                # hundreds in one turn of the loop holds every reply for as long, and their
                # requests, sent together, come back together, so the loop works in convoys
                await asyncio.sleep(0)
            if flight:
                await asyncio.gather(*flight)
        except asyncio.CancelledError:
            for task in flight:
                task.cancel()
            raise


def _chunks(jobs: Iterable[DialogueJob], size: int) -> Iterator[list[DialogueJob]]:
    iterator = iter(jobs)
    while chunk := list(islice(iterator, size)):
        yield chunk


class ProcessExecutor:
    """Offline dialogues in a pool of worker processes, `chunk` dialogues per submission."""

    name = "process"

    def __init__(self, workers: int, chunk: int = 4, keep_open: bool = False) -> None:
        self.workers = workers
        self.chunk = chunk
        # `keep_open`: one pool for several batches in a row (`generate --db-dir`), closed by `close()`;
        # spawning the workers (each imports the core) costs about a second per batch otherwise
        self.keep_open = keep_open
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return concurrent.futures.ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=worker_init, initargs=(os.getpid(),)
        )

    async def run(
        self, config: BatchConfig, jobs: Iterable[DialogueJob], stop: FileStop, on_start: OnStart, on_outcome: OnOutcome
    ) -> None:
        loop = asyncio.get_running_loop()
        config_json = config.model_dump_json()
        if self.keep_open and self._pool is None:
            self._pool = self._new_pool()
        with contextlib.nullcontext(self._pool) if self.keep_open else self._new_pool() as pool:
            assert pool is not None

            def submit(chunk: list[DialogueJob]) -> asyncio.Future:
                return loop.run_in_executor(pool, run_chunk, config_json, chunk, stop.path)

            await _pump(_chunks(jobs, self.chunk), submit, self.workers * 2, stop, on_start, on_outcome)

    def close(self) -> None:
        """Shut a kept-open pool down (nothing to do otherwise)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


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
