"""One `generate` per batch folder, and batches in folders turnloom cannot write.

Real processes: a second `generate` on a folder in use is refused naming the first
(so no dialogue runs twice); the lock a killed process leaves is taken over; a
finished batch in a read-only folder can be reopened and read, and one with work
left says so, without a traceback.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from turnloom.core.batch.folder_lock import LOCK_NAME, FolderLock
from turnloom.core.batch.manifest import load_manifest, session_file_name
from turnloom.core.errors import SessionFileError


def _turnloom(*args: str) -> list[str]:
    return [sys.executable, "-m", "turnloom.core", *args]


def _generate(out: Path, n: int) -> list[str]:
    return _turnloom("generate", "--n", str(n), "--tasks", "1", "--out", str(out), "--workers", "1", "--quiet")


def _files(out: Path) -> int:
    return sum(1 for _ in out.glob("*.session.json")) if out.exists() else 0


def test_a_second_generate_is_refused_naming_the_first_and_a_killed_holder_is_taken_over(tmp_path: Path):
    out = tmp_path / "batch"
    first = subprocess.Popen(_generate(out, 12), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while _files(out) < 1:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGSTOP)  # still holding the folder, mid-batch
        files_before = sorted(p.name for p in out.iterdir())
        second = subprocess.run(_generate(out, 12), capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert "another `turnloom generate` is running in this folder" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        assert sorted(p.name for p in out.iterdir()) == files_before  # the second wrote nothing
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    third = subprocess.run(_generate(out, 12), capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    assert "took over the batch lock" in third.stderr and f"pid {first.pid}" in third.stderr
    assert sorted(p.name for p in out.glob("*.session.*")) == [session_file_name(seed) for seed in range(12)]
    manifest = load_manifest(out)
    assert manifest is not None and all(entry.status == "done" for entry in manifest.dialogues)
    assert not (out / LOCK_NAME).exists()  # a clean end leaves nothing behind


def test_the_lock_is_released_at_the_end_and_refuses_a_symlink(tmp_path: Path):
    with FolderLock(tmp_path):
        with pytest.raises(SessionFileError, match="another `turnloom generate`"):
            FolderLock(tmp_path).acquire()
    FolderLock(tmp_path).acquire()  # free again
    other = tmp_path / "other"
    other.mkdir()
    os.symlink(tmp_path / "elsewhere", other / LOCK_NAME)
    with pytest.raises(SessionFileError, match="symbolic link"):
        FolderLock(other).acquire()
    assert not (tmp_path / "elsewhere").exists()


def _as_reader(argv: list[str]) -> list[str]:
    """`argv` run by a user who cannot write the folder: nobody when we are root (root ignores modes)."""
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot drop the right to write")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *argv]


def test_a_read_only_batch_folder_is_reopened_when_done_and_refused_cleanly_when_not():
    base = Path(tempfile.mkdtemp(prefix="turnloom-ro-"))
    try:
        base.chmod(0o755)
        out = base / "batch"
        done = subprocess.run(_generate(out, 2), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        for path in [out, *out.iterdir()]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
        env = {**os.environ, "HOME": str(base)}
        reopened = subprocess.run(_as_reader(_generate(out, 2)), capture_output=True, text=True, timeout=120, env=env)
        assert reopened.returncode == 0, reopened.stderr
        assert "read-only; every dialogue is done" in reopened.stderr and "2/2 done" in reopened.stdout
        stats = subprocess.run(_as_reader(_turnloom("stats", str(out))), capture_output=True, text=True, env=env)
        assert stats.returncode == 0, stats.stderr
        more = subprocess.run(_as_reader(_generate(out, 3)), capture_output=True, text=True, timeout=120, env=env)
        assert more.returncode == 2 and "Traceback" not in more.stderr
        assert "1 of 3 dialogue(s) still to run" in more.stderr
        fresh = subprocess.run(_as_reader(_generate(out / "inner", 1)), capture_output=True, text=True, env=env)
        assert fresh.returncode == 2 and "Traceback" not in fresh.stderr
        assert "cannot create the output folder" in fresh.stderr
        assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    finally:
        for path in base.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(base)


def test_the_stop_file_is_never_made_through_a_symbolic_link(tmp_path: Path):
    from turnloom.core.batch.job import FileStop

    target = tmp_path / "elsewhere"
    os.symlink(target, tmp_path / ".stop")
    stop = FileStop(tmp_path / ".stop")
    stop.set()
    assert not target.exists()
    assert stop.is_set() and (tmp_path / ".stop").is_file() and not (tmp_path / ".stop").is_symlink()
    stop.set()  # set twice: still one plain file
    stop.clear()
    assert not stop.is_set()
