"""A SIGKILLed `turnloom generate` leaves no worker process behind.

A worker that outlived its parent went on running the dialogues already queued to it,
writing session files a resumed run writes too, then waited for ever. The kernel's
parent-death signal covers a parent killed once the worker is set up; a parent killed
while the worker was still starting (importing, unpickling its job) is covered by the
worker checking, once set up, that its parent is still the one that started it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from turnloom.core.batch.pool_worker import worker_init

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's reaper may take a moment to collect it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _generate(out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "turnloom.core", "generate", "--n", "400", "--tasks", "1", "--workers", "2"]
    return subprocess.Popen(
        [*command, "--out", str(out), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wait(condition, what: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"generate ended before {what}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.01)


def _survivors_after_kill(proc: subprocess.Popen, workers: set[int], within: float) -> set[int]:
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + within
    while (alive := {pid for pid in workers if _running(pid)}) and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in alive:  # leave nothing behind for the next test, whatever the verdict
        os.kill(pid, signal.SIGKILL)
    return alive


@pytest.mark.parametrize("when", ["while its workers start", "mid-batch"])
def test_no_pool_worker_outlives_a_sigkilled_generate(tmp_path, when):
    out = tmp_path / "batch"
    proc = _generate(out)
    workers: set[int] = set()

    def started() -> bool:
        workers.update(_children(proc.pid))
        return len(workers) >= 2  # the pool's two workers (and the resource tracker once it starts)

    try:
        _wait(started, "worker processes", proc)
        if when == "mid-batch":
            _wait(lambda: len(list(out.glob("*.session.json"))) >= 20, "20 sessions", proc)
            workers.update(_children(proc.pid))
    finally:
        survivors = _survivors_after_kill(proc, workers, within=1.0)
    assert not survivors, f"{len(survivors)} of {len(workers)} processes of generate outlived it"


def test_a_worker_whose_parent_is_already_gone_leaves_at_once():
    spawn = multiprocessing.get_context("spawn")
    orphan = spawn.Process(target=worker_init, args=(os.getpid() + 1_000_000,))  # not its parent
    orphan.start()
    orphan.join(30)
    assert orphan.exitcode == 1
    child = spawn.Process(target=worker_init, args=(os.getpid(),))
    child.start()
    child.join(30)
    assert child.exitcode == 0
