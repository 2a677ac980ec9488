"""Batch generation: one file per seed, a manifest, resume without loss or duplicates."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from turnloom.core.batch.executors import AsyncExecutor, ProcessExecutor
from turnloom.core.batch.job import DialogueJob, SessionFactory, run_chunk, run_dialogue
from turnloom.core.batch.manifest import BatchConfig, DialogueStatus, load_manifest, session_file_name
from turnloom.core.batch.progress import BatchProgress
from turnloom.core.batch.run import generate
from turnloom.core.cli.render import ProgressLine
from turnloom.core.errors import UsageError
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import FinishReason, Mode
from turnloom.core.storage.journal import Journal, journal_path, load_session, open_session

CONFIG = BatchConfig(domain="retail", tasks=1)


def transcript(session) -> list:
    return [(m.role, m.content, [(c.name, c.arguments) for c in m.tool_calls]) for m in session.messages]


def straight_run(seed: int, tasks: int = 1):
    session = create_session("retail", seed=seed, tasks=tasks)
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


def batch(out: Path, n: int, config: BatchConfig = CONFIG, **kwargs):
    executor = kwargs.pop("executor", None) or AsyncExecutor(4)
    return asyncio.run(generate(config, out, n, executor, handle_signals=False, **kwargs))


class AfterCommits:
    """A stop signal that turns on after `n` checks (one per committed message)."""

    def __init__(self, n: int) -> None:
        self.left = n

    def is_set(self) -> bool:
        self.left -= 1
        return self.left < 0


@pytest.mark.parametrize("rules", ["paper", "realistic"])  # realistic draws a persona per seed
@pytest.mark.parametrize("seed", [0, 7, 123])
def test_factory_sessions_are_the_sessions_create_session_makes(seed, rules):
    made = SessionFactory(BatchConfig(domain="retail", tasks=2, seed_start=5, rule_set=rules)).new(seed)
    expected = create_session("retail", seed=seed, tasks=2, rule_set=rules)
    skip = {"id", "created_at"}
    assert made.model_dump(exclude=skip) == expected.model_dump(exclude=skip)


def test_a_batch_writes_one_session_file_per_seed_and_a_manifest(tmp_path):
    report = batch(tmp_path, 12, BatchConfig(domain="retail", tasks=1, seed_start=100))
    assert report.done == 12 and report.ran == 12 and not report.failed
    files = sorted(p.name for p in tmp_path.glob("*.session.json"))
    assert files == [session_file_name(seed) for seed in range(100, 112)]
    assert not list(tmp_path.glob("*.journal"))
    manifest = load_manifest(tmp_path)
    assert manifest.config_hash == manifest.config.hash()
    assert [e.seed for e in manifest.dialogues] == list(range(100, 112))
    assert {e.status for e in manifest.dialogues} == {DialogueStatus.DONE}
    assert all(e.finish_reason == "user_done" and e.messages > 0 for e in manifest.dialogues)


def test_batch_dialogues_are_the_dialogues_a_single_run_makes(tmp_path):
    batch(tmp_path, 4)
    for seed in range(4):
        saved = load_session(tmp_path / session_file_name(seed))
        assert transcript(saved) == transcript(straight_run(seed))


def test_running_again_skips_finished_dialogues(tmp_path):
    batch(tmp_path, 6)
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.session.json")}
    report = batch(tmp_path, 6)
    assert report.ran == 0 and report.skipped == 6 and report.done == 6
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.session.json")} == before


def test_a_larger_n_extends_the_batch(tmp_path):
    batch(tmp_path, 3)
    report = batch(tmp_path, 5)
    assert report.ran == 2 and report.done == 5
    assert len(list(tmp_path.glob("*.session.json"))) == 5


def test_a_stopped_dialogue_is_saved_mid_conversation_and_continues_where_it_stopped(tmp_path):
    job = DialogueJob(0, 2, str(tmp_path / session_file_name(2)))
    factory = SessionFactory(CONFIG)
    first = asyncio.run(run_dialogue(job, factory, stop=AfterCommits(3)))
    assert first.status is DialogueStatus.PARTIAL
    partial = load_session(job.path)
    assert partial.finish_reason is None and 0 < len(partial.messages) < len(straight_run(2).messages)
    second = asyncio.run(run_dialogue(job, factory))
    assert second.status is DialogueStatus.DONE and second.resumed
    assert second.new_messages == len(straight_run(2).messages) - len(partial.messages)
    finished = load_session(job.path)
    assert finished.id == partial.id
    assert transcript(finished) == transcript(straight_run(2))


def test_a_killed_dialogue_continues_from_its_journal(tmp_path):
    path = tmp_path / session_file_name(4)
    session = SessionFactory(CONFIG).new(4)
    journal = Journal.open(path, session)
    engine = open_engine(session, recorder=journal)
    asyncio.run(engine.run(max_steps=5))  # then "killed": no snapshot, journal left open
    journal.close()
    assert not path.exists() and journal_path(path).exists()
    report = batch(tmp_path, 5, BatchConfig(domain="retail", tasks=1, seed_start=0))
    assert report.done == 5
    resumed = load_session(path)
    assert resumed.id == session.id
    assert transcript(resumed) == transcript(straight_run(4))
    assert not journal_path(path).exists()


def test_a_dialogue_killed_after_any_journal_line_resumes_to_the_uninterrupted_dialogue(tmp_path):
    # seed 302 has every kind of commit that used to span lines: a tool result and its write
    # (resumed without the write, a later read gave the old price), a turn and the task it
    # introduced, and the closing turn and its finish
    seed, config = 302, BatchConfig(domain="retail", tasks=3)
    whole = tmp_path / "whole" / session_file_name(seed)
    whole.parent.mkdir()
    session = SessionFactory(config).new(seed)
    journal = Journal.open(whole, session)
    asyncio.run(open_engine(session, recorder=journal).run())
    journal.close()  # no snapshot yet, so the journal stays: it is the whole record
    lines = journal_path(whole).read_text().splitlines(keepends=True)
    expected = straight_run(seed, tasks=3)
    assert expected.write_log and len(expected.tasks) == 3
    for kept in range(1, len(lines)):
        path = tmp_path / f"killed-after-{kept}" / session_file_name(seed)
        path.parent.mkdir()
        journal_path(path).write_text("".join(lines[:kept]))
        outcome = asyncio.run(run_dialogue(DialogueJob(0, seed, str(path)), SessionFactory(config)))
        assert outcome.status is DialogueStatus.DONE, (kept, outcome.error)
        resumed = load_session(path)
        assert transcript(resumed) == transcript(expected), f"killed after journal line {kept}"
        assert resumed.write_log == expected.write_log, f"killed after journal line {kept}"
        assert resumed.tasks == expected.tasks, f"killed after journal line {kept}"
        assert resumed.finish_reason is expected.finish_reason


def test_a_failed_dialogue_is_retried_where_it_stopped(tmp_path):
    path = tmp_path / session_file_name(1)
    session = SessionFactory(CONFIG).new(1)
    engine = open_engine(session)
    asyncio.run(engine.run(max_steps=3))
    engine.finish(FinishReason.BACKEND_ERROR)
    from turnloom.core.storage.snapshot import save_session

    save_session(session, path)
    outcome = asyncio.run(run_dialogue(DialogueJob(0, 1, str(path)), SessionFactory(CONFIG)))
    assert outcome.status is DialogueStatus.DONE and outcome.resumed
    assert transcript(load_session(path)) == transcript(straight_run(1))


def test_resuming_with_a_changed_config_is_refused_with_a_diff(tmp_path):
    batch(tmp_path, 2)
    with pytest.raises(UsageError) as refused:
        batch(tmp_path, 2, BatchConfig(domain="retail", tasks=2))
    assert "tasks: 1 -> 2" in str(refused.value) and "--force" in str(refused.value)
    report = batch(tmp_path, 3, BatchConfig(domain="retail", tasks=2), force=True)
    assert report.done == 3 and report.ran == 1
    assert load_manifest(tmp_path).config.tasks == 2


def test_a_manifest_marked_done_without_its_file_is_run_again(tmp_path):
    batch(tmp_path, 3)
    (tmp_path / session_file_name(1)).unlink()
    report = batch(tmp_path, 3)
    assert report.ran == 1 and (tmp_path / session_file_name(1)).exists()


def test_the_process_pool_writes_the_same_dialogues(tmp_path):
    report = batch(tmp_path / "pool", 6, executor=ProcessExecutor(2, chunk=2))
    assert report.done == 6
    for seed in range(6):
        saved = load_session(tmp_path / "pool" / session_file_name(seed))
        assert transcript(saved) == transcript(straight_run(seed))


def test_run_chunk_reports_jobs_not_started_after_a_stop(tmp_path):
    stop = tmp_path / ".stop"
    stop.touch()
    jobs = [DialogueJob(i, i, str(tmp_path / session_file_name(i))) for i in range(3)]
    outcomes = run_chunk(CONFIG.model_dump_json(), jobs, str(stop))
    assert [o.status for o in outcomes] == [DialogueStatus.PENDING] * 3
    assert not list(tmp_path.glob("*.session.*"))


def test_a_task_oriented_batch_uses_its_mode(tmp_path):
    batch(tmp_path, 2, BatchConfig(domain="airline", tasks=1, mode=Mode.TASK_ORIENTED.value, rule_set=None))
    session, _ = open_session(tmp_path / session_file_name(0))
    assert session.config.mode is Mode.TASK_ORIENTED and session.domain == "airline"


def test_the_progress_line_redraws_in_place_on_a_terminal_and_logs_lines_elsewhere(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")  # the terminal's width (a narrower one cuts the line to fit)
    state = BatchProgress(total=10, done=4, failed=1, running=2, tokens=1200, cost=0.5)
    tty = io.StringIO()
    drawn = ProgressLine(tty, tty=True)
    drawn.update(state)
    drawn.update(state)
    # drawn by rich: the second draw goes back over the first (erase line), no new line between them
    first, _, second = tty.getvalue().partition("\r\x1b[2K")
    assert "4/10 done · 1 failed · 2 running" in first and "4/10 done · 1 failed · 2 running" in second
    assert "\n" not in first + second
    assert "1,200 tok" in tty.getvalue() and "$0.5000" in tty.getvalue()
    log = io.StringIO()
    line = ProgressLine(log, tty=False, log_interval=60)
    line.update(state)
    line.update(state)
    assert log.getvalue().count("\n") == 1 and "\r" not in log.getvalue()


def test_the_manifest_is_plain_json_with_the_config_and_its_hash(tmp_path):
    batch(tmp_path, 2)
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert data["config"]["domain"] == "retail" and len(data["config_hash"]) == 16
    assert [d["seed"] for d in data["dialogues"]] == [0, 1]


def test_a_finished_dialogue_is_freed_when_it_ends_not_left_for_a_full_collection(tmp_path):
    """No reference cycles through a dialogue's engine, session, players or contexts.

    A batch runs thousands of dialogues per process; cyclic garbage was promoted to
    the oldest generation while the dialogue ran and stayed there: +80 MiB per 3,000
    dialogues and a 0.6 s collection at the end (`bench/README.md`, batch generation).
    """
    import gc

    factory = SessionFactory(BatchConfig(domain="retail", tasks=2))
    jobs = [DialogueJob(i, i, str(tmp_path / session_file_name(i))) for i in range(4)]

    async def run_all() -> list:
        return [await run_dialogue(job, factory) for job in jobs]

    asyncio.run(run_all())  # warm-up: one-off caches and module state
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        jobs = [DialogueJob(i, i, str(tmp_path / "more" / session_file_name(i))) for i in range(10, 14)]
        (tmp_path / "more").mkdir()
        outcomes = asyncio.run(run_all())
        gc.collect()
        left = {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert all(o.status is DialogueStatus.DONE for o in outcomes)
    assert not left & {"DialogueEngine", "Session", "RoleContext", "SqlEnvironment", "ChatMessage", "Journal"}, left


def test_a_batch_syncs_its_folder_once_per_manifest_save_not_once_per_dialogue(tmp_path, monkeypatch):
    import os as os_module

    from turnloom.core.storage import snapshot

    synced: list[str] = []
    fsync = os_module.fsync

    def counting_fsync(fd: int) -> None:
        if os_module.path.isdir(f"/proc/self/fd/{fd}"):
            synced.append(os_module.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    monkeypatch.setattr(snapshot.os, "fsync", counting_fsync)
    report = batch(tmp_path, 12, BatchConfig(domain="retail", tasks=1))
    assert report.done == 12
    # each snapshot's data is fsynced; the folder once at the manifest save that records them done
    assert 1 <= synced.count(str(tmp_path)) <= 3
    assert len(list(tmp_path.glob("*.session.json"))) == 12
