"""`turnloom generate` end to end: a real process, interrupted and killed, resumed to the end.

A 1,000-dialogue offline batch is stopped with Ctrl-C (SIGINT), resumed and killed
with SIGKILL mid-run, then resumed to completion. Nothing may be lost or run twice:
exactly one session file per seed, no journals left, every manifest entry done,
and the dialogues that were in flight at the kill equal an uninterrupted run.
Then `stats` prints the table and `export --only-valid` keeps only accepted
dialogues; and the Ray executor makes the same files.
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

from turnloom.core.batch.manifest import load_manifest, session_file_name
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import FinishReason
from turnloom.core.quality.verdict import verdict_for
from turnloom.core.storage.journal import open_session
from turnloom.core.storage.snapshot import load_session, save_session

N = 1000


def _turnloom(*args: str) -> list[str]:
    return [sys.executable, "-m", "turnloom.core", *args]


def _generate(out: Path, *extra: str, n: int = N) -> list[str]:
    return _turnloom("generate", "--n", str(n), "--tasks", "1", "--out", str(out), "--workers", "2", *extra)


def _files(out: Path) -> int:
    return sum(1 for _ in out.glob("*.session.json")) if out.exists() else 0


def _wait_for(out: Path, count: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _files(out) < count:
        assert proc.poll() is None, f"generate ended before {count} files: {proc.communicate()}"
        assert time.monotonic() < deadline, "generate made no progress"
        time.sleep(0.02)


def _transcript(session) -> list:
    return [(m.role, m.content, [(c.name, c.arguments) for c in m.tool_calls]) for m in session.messages]


def _straight(seed: int):
    session = create_session("retail", seed=seed, tasks=1)
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_thousand_dialogues_survive_ctrl_c_and_sigkill_and_resume_without_loss_or_duplicates(tmp_path):
    out = tmp_path / "batch"
    first = subprocess.Popen(_generate(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(out, 150, first)
    first.send_signal(signal.SIGINT)
    stdout, stderr = first.communicate(timeout=60)
    assert first.returncode == 130, stderr
    assert "stopping" in stderr and "re-run the same command to resume" in stdout
    manifest = load_manifest(out)
    assert "running" not in {e.status.value for e in manifest.dialogues}
    stopped_at = _files(out)
    assert stopped_at < N

    second = subprocess.Popen(_generate(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(out, stopped_at + 150, second)
    second.kill()
    second.wait(timeout=30)
    time.sleep(0.3)  # pool workers die with their parent
    in_flight = sorted(int(p.name[5:12]) for p in out.glob("*.session.journal"))
    assert _files(out) < N

    done = subprocess.run(_generate(out), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{N}/{N} done" in done.stdout

    names = sorted(p.name for p in out.iterdir())
    # the sessions, the manifest, and the batch's task list (the task stage's artifact, `--task-file`)
    assert names == sorted([*(session_file_name(s) for s in range(N)), "manifest.json", "tasks.jsonl"])
    manifest = load_manifest(out)
    assert [e.seed for e in manifest.dialogues] == list(range(N))
    assert {e.status.value for e in manifest.dialogues} == {"done"}
    sessions = {seed: load_session(out / session_file_name(seed)) for seed in range(N)}
    assert len({s.id for s in sessions.values()}) == N
    assert all(s.config.seed == seed and s.finish_reason == "user_done" for seed, s in sessions.items())
    for seed in [*in_flight, 0, N - 1]:
        assert _transcript(sessions[seed]) == _transcript(_straight(seed)), seed

    again = subprocess.run(_generate(out), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and f"{N} already done before this run" in again.stdout


@pytest.fixture
def small_batch(tmp_path) -> Path:
    out = tmp_path / "small"
    result = subprocess.run(_generate(out, n=30), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return out


def test_stats_prints_the_table1_layout_for_a_batch_folder(small_batch):
    result = subprocess.run(_turnloom("stats", str(small_batch)), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "30 dialogue(s)"
    header = next(line for line in lines if "Samples" in line)
    assert all(word in header for word in ("Paradigm", "Source", "Step/req", "Step/dlg", "Turn", "Task"))
    assert any(line.strip().startswith("user-oriented + sql") and line.rstrip().endswith(" 30") for line in lines)
    assert "Histogram of turns" in result.stdout and "Acceptance:" in result.stdout
    as_json = subprocess.run(_turnloom("stats", str(small_batch), "--json"), capture_output=True, text=True, timeout=60)
    assert json.loads(as_json.stdout)["samples"] == 30


def test_export_only_valid_writes_only_accepted_dialogues(small_batch, tmp_path):
    spoiled = small_batch / session_file_name(4)
    session = load_session(spoiled)
    session.finish_reason = FinishReason.MAX_MESSAGES
    save_session(session, spoiled)
    accepted = {
        s.id for s in (open_session(p)[0] for p in small_batch.glob("*.session.json")) if verdict_for(s).accepted
    }
    assert session.id not in accepted and accepted
    target = tmp_path / "train.jsonl"
    result = subprocess.run(
        _turnloom("export", str(small_batch), "--format", "openai", "--out", str(target), "--only-valid"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"skipped {session.id}: invalid: finish:" in result.stdout
    records = target.read_text().splitlines()
    assert len(records) == len(accepted) < 30


def test_the_ray_executor_makes_the_same_dialogues_and_resumes(tmp_path):
    if not os.environ.get("CI"):
        pytest.importorskip("ray")
    out = tmp_path / "ray"
    cmd = _generate(out, "--executor", "ray", n=8)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "8/8 done" in result.stdout
    assert sorted(p.name for p in out.glob("*.session.json")) == [session_file_name(s) for s in range(8)]
    for seed in (0, 7):
        assert _transcript(load_session(out / session_file_name(seed))) == _transcript(_straight(seed))
    again = subprocess.run(
        _turnloom("generate", "--n", "10", "--tasks", "1", "--out", str(out), "--executor", "ray", "--workers", "2"),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert again.returncode == 0, again.stderr
    assert "8 already done before this run" in again.stdout and "ran 2" in again.stdout
