"""A real `turnloom run` killed with SIGKILL mid-dialogue loses nothing it committed.

The process journals every committed message; it is killed once the journal has
some lines. Reopening must give back every message in the journal, a database
equal to the one the recovered write log rebuilds (and to the one re-executing
the recovered calls gives), exactly the prefix an uninterrupted run of the same
seed makes; and `run --from` must carry it to the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from turnloom.core.lifecycle.dialogue import base_image, create_session, open_engine
from turnloom.core.models import FinishReason
from turnloom.core.quality.rerun import normalised
from turnloom.core.quality.tool_replay import verify_session
from turnloom.core.storage.journal import journal_path, open_session
from turnloom.core.storage.snapshot import load_session
from turnloom.core.tools.sqlenv import SqlEnvironment

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

DOMAIN, SEED, TASKS = "retail", 12, 60  # about 750 messages: long enough to kill mid-run
MIN_LINES = 40  # journal lines to wait for before the kill


def _turnloom(*args: str) -> list[str]:
    return [sys.executable, "-m", "turnloom.core", *args]


def _complete_lines(path: Path) -> list[dict]:
    """The journal's complete lines (a line cut off by the kill is left out)."""
    raw = path.read_bytes()
    return [json.loads(line) for line in raw.split(b"\n")[:-1]]


def _kill_mid_run(out: Path, tasks: int) -> bool:
    """Start a run, SIGKILL it once its journal has MIN_LINES lines; False if it finished first."""
    process = subprocess.Popen(
        _turnloom(
            "run",
            "--quiet",
            "--domain",
            DOMAIN,
            "--seed",
            str(SEED),
            "--tasks",
            str(tasks),
            "--max-messages",
            "100000",
            "--out",
            str(out),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=out.parent,
    )
    journal = journal_path(out)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if journal.exists() and journal.read_bytes().count(b"\n") >= MIN_LINES:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.001)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def reference() -> list:
    """The same dialogue, uninterrupted, in this process (messages, normalised)."""
    session = create_session(DOMAIN, seed=SEED, tasks=TASKS, max_messages=100000)
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


def test_a_killed_run_is_recovered_and_continued_to_the_end(tmp_path: Path, reference) -> None:
    out = tmp_path / "killed.session.json"
    tasks = TASKS
    for _attempt in range(3):  # on a very fast machine the run may end before the kill
        if _kill_mid_run(out, tasks):
            break
        out.unlink(missing_ok=True)
        journal_path(out).unlink(missing_ok=True)
        tasks *= 4
    else:
        pytest.fail("the run always finished before it could be killed")
    assert not out.exists(), "the snapshot is only written at the end; the journal holds everything"
    events = _complete_lines(journal_path(out))
    assert len(events) >= MIN_LINES

    session, warnings = open_session(out)
    assert all("torn" in w for w in warnings)  # at most the line in flight is lost

    # every message the journal committed is there, at its index, unchanged
    committed = {e["index"]: e["message"] for e in events if e["ev"] == "message"}
    assert committed and max(committed) == len(session.messages) - 1
    for index, message in committed.items():
        assert session.messages[index].model_dump(mode="json") == message
    # a tool result's write is on its message's line (a write of its own has a line)
    assert len(session.write_log) == sum(1 for e in events if e["ev"] == "write" or "write" in e)

    # the SQL state: the recovered write log rebuilds it, and re-executing the calls agrees
    with SqlEnvironment.rebuilt(base_image(session), session.write_log) as rebuilt:
        recovered_digest = rebuilt.state_digest()
    report = verify_session(session)
    assert report.ok, report.differences
    assert report.state_digest == recovered_digest
    # ... and it is the state an uninterrupted run had at that point
    n = len(session.messages)
    assert normalised(session)["messages"] == normalised(reference)["messages"][:n]
    with SqlEnvironment.rebuilt(base_image(reference), reference.write_log, upto=n) as at_n:
        assert at_n.state_digest() == recovered_digest
    if tasks != TASKS:
        return  # a longer dialogue than the reference; the continuation below would take long

    journal_before = journal_path(out).read_bytes()
    done = tmp_path / "done.session.json"
    result = subprocess.run(
        _turnloom("run", "--quiet", "--from", str(out), "--out", str(done)),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    finished = load_session(done)
    assert finished.finish_reason is FinishReason.USER_DONE
    assert finished.messages[:n] == session.messages
    assert normalised(finished)["messages"] == normalised(reference)["messages"]
    assert finished.write_log == reference.write_log
    assert not journal_path(done).exists()  # compacted at the end
    assert journal_path(out).read_bytes() == journal_before and not out.exists()  # the input untouched
