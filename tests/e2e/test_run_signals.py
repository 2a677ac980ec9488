"""A real `turnloom run` stopped by SIGTERM saves what it committed as the snapshot, and says so."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from turnloom.core.storage.journal import journal_path
from turnloom.core.storage.snapshot import load_session

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="needs SIGTERM")


def _turnloom(*args: str) -> list[str]:
    return [sys.executable, "-m", "turnloom.core", *args]


def _journal_messages(path: Path) -> int:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return 0
    return sum(1 for line in raw.split(b"\n")[:-1] if json.loads(line).get("ev") == "message")


def test_sigterm_saves_every_committed_message_as_the_snapshot_and_exits_143(tmp_path):
    out = tmp_path / "long.session.json"
    args = ["run", "--quiet", "--domain", "retail", "--seed", "12", "--tasks", "60", "--max-messages", "100000"]
    process = subprocess.Popen(
        _turnloom(*args, "--out", str(out)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    deadline = time.monotonic() + 60
    while _journal_messages(journal_path(out)) < 40:
        assert process.poll() is None, "the run finished before it could be stopped"
        assert time.monotonic() < deadline, "the run journaled nothing"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    stdout, _stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in stdout and f"saved {out}" in stdout
    saved = load_session(out)  # the snapshot alone, journal ignored
    assert len(saved.messages) >= 40
    assert saved.finish_reason is None  # paused, not finished: `run --from` goes on
    assert not journal_path(out).exists()  # folded into the snapshot
    again = subprocess.run(
        _turnloom("run", "--quiet", "--from", str(out), "--out", str(out), "--tasks", "0"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert len(load_session(out).messages) > len(saved.messages)
