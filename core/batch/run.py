"""Batch generation: N dialogues into a folder, concurrently, resumably, with live progress.

`generate` plans the batch against the folder's manifest (refusing a changed
config unless forced), skips what is finished, hands the rest to an executor
(`executors`), keeps the manifest and the progress report up to date, and stops
cleanly on Ctrl-C: the first interrupt lets dialogues in flight finish their
current message and saves them as they stand; a second aborts at once (the
journals still hold every committed message). Re-running the same command
resumes. What one dialogue does is `job`'s business.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from turnloom.core.batch.executors import Executor
from turnloom.core.batch.folder_lock import FolderLock, FolderReadOnly
from turnloom.core.batch.job import DialogueJob, DialogueOutcome, FileStop
from turnloom.core.batch.manifest import (
    MANIFEST_NAME,
    BatchConfig,
    DialogueEntry,
    DialogueStatus,
    Manifest,
    check_resumable,
    load_manifest,
    save_manifest,
    session_file_name,
)
from turnloom.core.batch.progress import BatchProgress, ProgressReport
from turnloom.core.errors import SessionFileError
from turnloom.core.storage.journal import journal_path
from turnloom.core.untrusted import redact_secrets

STOP_FILE = ".stop"
MANIFEST_EVERY_S = 2.0


@dataclass
class BatchReport:
    """What a `generate` call came to."""

    total: int
    done: int = 0
    failed: int = 0
    partial: int = 0
    pending: int = 0
    skipped: int = 0
    ran: int = 0  # dialogues run (or continued) in this call
    wall_s: float = 0.0
    interrupted: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said once, before the summary (a lock taken over, ...)

    @property
    def complete(self) -> bool:
        return self.done == self.total


def plan(config: BatchConfig, out: Path, n: int, existing: Manifest | None) -> Manifest:
    """The manifest for this run: the existing entries, extended to seeds `seed_start .. seed_start+n-1`.

    An entry marked done whose snapshot is missing, or which still has a journal
    beside it, is reset to pending so its files decide what happens.
    """
    known = {entry.seed: entry for entry in existing.dialogues} if existing else {}
    entries: list[DialogueEntry] = []
    for index in range(n):
        seed = config.seed_start + index
        entry = known.pop(seed, None) or DialogueEntry(
            index=index, seed=seed, file=session_file_name(seed, config.format)
        )
        entry.index = index
        path = out / entry.file
        if entry.status is DialogueStatus.DONE and (not path.exists() or journal_path(path).exists()):
            entry.status = DialogueStatus.PENDING
        elif entry.status is DialogueStatus.RUNNING:
            entry.status = (
                DialogueStatus.PARTIAL if path.exists() or journal_path(path).exists() else DialogueStatus.PENDING
            )
        entries.append(entry)
    # dialogues of an earlier, larger --n stay listed (and on disk) but are not run now
    entries += sorted(known.values(), key=lambda e: e.seed)
    return Manifest(config=config, config_hash=config.hash(), dialogues=entries)


def remove_leftovers(folder: Path) -> None:
    """Delete temp files of atomic writes that a killed run left half-written (never renamed in)."""
    for pattern in (".seed-*.tmp", f".{MANIFEST_NAME}.*.tmp"):
        for path in folder.glob(pattern):
            with contextlib.suppress(OSError):
                path.unlink()


async def generate(
    config: BatchConfig,
    out: str | os.PathLike[str],
    n: int,
    executor: Executor,
    *,
    force: bool = False,
    progress: ProgressReport | None = None,
    handle_signals: bool = True,
) -> BatchReport:
    """Generate (or resume) a batch of `n` dialogues into `out`.

    Args:
        config: what shapes every dialogue (hashed into the manifest).
        out: the output folder (created if missing).
        n: how many dialogues the batch holds.
        executor: where the dialogues run.
        force: resume even though `config` differs from the folder's manifest.
        progress: where the counts are reported as they change (None: nowhere).
        handle_signals: install Ctrl-C / SIGTERM handlers for a clean stop.

    Returns:
        The report; `interrupted` is set when a stop was requested.

    Raises:
        UsageError: the folder holds a batch with another config (the message shows the diff).
        SessionFileError: the manifest cannot be read or written, the folder cannot be made, another
            `generate` runs in it (named), or it is read-only with dialogues still to run.
    """
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SessionFileError(f"{folder}: cannot create the output folder: {exc.strerror or exc}") from None
    lock = FolderLock(folder)
    try:
        note = lock.acquire()
    except FolderReadOnly as exc:
        return read_only_report(config, folder, n, force, str(exc))
    try:
        report = await _run_locked(config, folder, n, executor, force, progress, handle_signals)
    finally:
        lock.release()
    if note:
        report.notes.insert(0, note)
    return report


def read_only_report(config: BatchConfig, folder: Path, n: int, force: bool, why: str) -> BatchReport:
    """A batch in a folder that cannot be written: its report when every dialogue is done, else why not.

    Nothing is written: a finished batch can be reopened (and read by `stats` and `export`)
    where it lies; one with dialogues still to run needs a folder it can write to.

    Raises:
        SessionFileError: dialogues remain to run (with what to do).
        UsageError: the folder holds a batch with another config.
    """
    existing = load_manifest(folder)
    if existing is not None:
        check_resumable(existing, config, force)
    manifest = plan(config, folder, n, existing)
    left = [entry for entry in manifest.dialogues[:n] if entry.status is not DialogueStatus.DONE]
    if left:
        raise SessionFileError(
            f"{why}; {len(left)} of {n} dialogue(s) still to run need a folder turnloom can write to: "
            "make it writable, or copy it and run in the copy"
        )
    report = BatchReport(total=n, done=n, skipped=n)
    report.notes.append(f"{folder}: read-only; every dialogue is done, nothing was written")
    return report


async def _run_locked(
    config: BatchConfig,
    folder: Path,
    n: int,
    executor: Executor,
    force: bool,
    progress: ProgressReport | None,
    handle_signals: bool,
) -> BatchReport:
    """`generate` once the folder lock is held."""
    existing = load_manifest(folder)
    if existing is not None:
        check_resumable(existing, config, force)
    manifest = plan(config, folder, n, existing)
    by_seed = {entry.seed: entry for entry in manifest.dialogues}
    stop = FileStop(folder / STOP_FILE)
    stop.clear()
    remove_leftovers(folder)
    report = BatchReport(total=n)
    state = BatchProgress(total=n)
    todo: list[DialogueEntry] = []
    for entry in manifest.dialogues[:n]:
        if entry.status is DialogueStatus.DONE:
            state.done += 1
            state.skipped += 1
            state.tokens += entry.tokens
            state.add_cost(entry.cost)
        else:
            todo.append(entry)
    save_manifest(folder, manifest)

    def jobs() -> Iterator[DialogueJob]:
        for entry in todo:
            yield DialogueJob(entry.index, entry.seed, str(folder / entry.file))

    def on_start(started: list[DialogueJob]) -> None:
        for job in started:
            by_seed[job.seed].status = DialogueStatus.RUNNING
        state.running += len(started)

    def on_outcome(outcome: DialogueOutcome) -> None:
        entry = by_seed[outcome.seed]
        state.running -= 1
        if outcome.status is DialogueStatus.PENDING:  # stopped before it began
            entry.status = DialogueStatus.PENDING
            return
        report.ran += 0 if outcome.skipped else 1
        if outcome.skipped:  # the manifest was stale (a killed run): the files say it is done
            state.skipped += 1
        entry.status = outcome.status
        entry.finish_reason = outcome.finish_reason
        entry.messages = outcome.messages
        entry.tokens = outcome.tokens
        entry.cost = outcome.cost
        entry.error = None if outcome.error is None else redact_secrets(outcome.error)  # no key lands on disk
        if not outcome.skipped:
            earlier = (entry.wall_s or 0.0) if outcome.resumed else 0.0
            entry.wall_s = round(earlier + outcome.wall_s, 4)
        if outcome.status is DialogueStatus.DONE:
            state.done += 1
            state.finished_this_run += 0 if outcome.skipped else 1
        elif outcome.status is DialogueStatus.FAILED:
            state.failed += 1
            state.finished_this_run += 1
            report.errors.append((outcome.seed, entry.error or "failed"))
        else:
            state.partial += 1
        state.tokens += outcome.tokens
        state.add_cost(outcome.cost)

    async def tick() -> None:
        last_save = time.monotonic()
        while True:
            await asyncio.sleep(0.25)
            if progress:
                progress.update(state)
            if time.monotonic() - last_save >= MANIFEST_EVERY_S:
                save_manifest(folder, manifest)
                last_save = time.monotonic()

    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    interrupts = 0

    def interrupt() -> None:
        nonlocal interrupts
        interrupts += 1
        report.interrupted = True
        if interrupts == 1:
            stop.set()
            if progress:
                progress.message(
                    "stopping: dialogues in flight are saved after their current message "
                    "(Ctrl-C again to abort now; re-run the same command to resume)"
                )
        elif main is not None:
            main.cancel()

    installed: list[signal.Signals] = []
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, interrupt)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
    ticker = asyncio.create_task(tick())
    try:
        await executor.run(config, jobs(), stop, on_start, on_outcome)
    except asyncio.CancelledError:
        if interrupts < 2 or main is None:
            raise
        main.uncancel()  # our own abort: report it rather than propagate it
    finally:
        ticker.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)
        for entry in manifest.dialogues:
            if entry.status is DialogueStatus.RUNNING:
                entry.status = DialogueStatus.PARTIAL
        save_manifest(folder, manifest)
        stop.clear()
        if progress:
            progress.close(state)
    first_n = manifest.dialogues[:n]
    report.done = sum(1 for e in first_n if e.status is DialogueStatus.DONE)
    report.failed = sum(1 for e in first_n if e.status is DialogueStatus.FAILED)
    report.partial = sum(1 for e in first_n if e.status is DialogueStatus.PARTIAL)
    report.pending = sum(1 for e in first_n if e.status is DialogueStatus.PENDING)
    report.skipped = state.skipped
    report.wall_s = state.elapsed
    return report
