"""Endpoint-bound batches on one event loop per core: the same dialogues, files and resume as one loop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from backend_support import quick_profile
from fake_openai import FakeOpenAI

from turnloom.core.batch.event_loops import fast_loop_factory, worker_context
from turnloom.core.batch.executors import AsyncExecutor
from turnloom.core.batch.manifest import BatchConfig, DialogueStatus, load_manifest
from turnloom.core.batch.run import STOP_FILE, generate
from turnloom.core.config import Profile, TurnloomConfig
from turnloom.core.endpoint.exchange_log import read_exchanges
from turnloom.core.players.setup import BackendSetup
from turnloom.core.storage.journal import journal_path, load_session

ROLES = {"task": "fake", "user": "fake", "assistant": "fake"}


def batch_config(server: FakeOpenAI) -> BatchConfig:
    return BatchConfig(domain="retail", tasks=1, roles=ROLES, profiles={"fake": {"base_url": server.base_url}})


async def run_batch(
    server: FakeOpenAI,
    out: Path,
    n: int,
    processes: int,
    stop_after: float | None = None,
    handle_signals: bool = False,
):
    settings = TurnloomConfig(profiles={"fake": quick_profile(server, max_concurrency=8, timeout=5)})
    backends = BackendSetup.create(settings, record=out / "exchanges.llm.jsonl")
    executor = AsyncExecutor(4, backends=backends, processes=processes)

    async def stop_later() -> None:
        await asyncio.sleep(stop_after)
        (out / STOP_FILE).touch()

    stopper = asyncio.create_task(stop_later()) if stop_after is not None else None
    try:
        return await generate(batch_config(server), out, n, executor, handle_signals=handle_signals)
    finally:
        if stopper is not None:
            stopper.cancel()
        await backends.aclose()


def transcripts(folder: Path) -> dict[int, list]:
    manifest = load_manifest(folder)
    out = {}
    for entry in manifest.dialogues:
        session = load_session(folder / entry.file)
        out[entry.seed] = [
            (str(m.role), m.content, [(c.name, c.arguments) for c in m.tool_calls]) for m in session.messages
        ]
    return out


def test_dialogues_spread_over_two_event_loops_are_the_dialogues_one_loop_makes(key, tmp_path):
    with FakeOpenAI() as server:
        one = asyncio.run(run_batch(server, tmp_path / "one", 6, processes=1))
        two = asyncio.run(run_batch(server, tmp_path / "two", 6, processes=2))
    assert one.complete and two.complete and two.ran == 6
    assert transcripts(tmp_path / "two") == transcripts(tmp_path / "one")
    manifest = load_manifest(tmp_path / "two")
    assert all(e.status is DialogueStatus.DONE and e.tokens > 0 for e in manifest.dialogues)
    # both loops appended to one exchange log, a whole JSON line per request
    records = list(read_exchanges(tmp_path / "two" / "exchanges.llm.jsonl"))  # each checked against its key
    assert len(records) == len((tmp_path / "one" / "exchanges.llm.jsonl").read_text().splitlines())
    assert {r["role"] for r in records} == {"task", "user", "assistant"}
    assert all(r["request"]["messages"] for r in records)


def test_worker_loops_make_the_same_dialogues_on_uvloop_and_on_asyncios_loop(key, tmp_path, monkeypatch):
    pytest.importorskip("uvloop")
    with FakeOpenAI() as server:
        monkeypatch.setenv("TURNLOOM_UVLOOP", "0")
        plain = asyncio.run(run_batch(server, tmp_path / "asyncio", 6, processes=2))
        monkeypatch.setenv("TURNLOOM_UVLOOP", "1")
        fast = asyncio.run(run_batch(server, tmp_path / "uvloop", 6, processes=2))
    assert plain.complete and fast.complete and fast.ran == 6
    assert transcripts(tmp_path / "uvloop") == transcripts(tmp_path / "asyncio")
    assert len(list(read_exchanges(tmp_path / "uvloop" / "exchanges.llm.jsonl"))) == len(
        list(read_exchanges(tmp_path / "asyncio" / "exchanges.llm.jsonl"))
    )


def test_the_fast_loop_is_uvloops_unless_turned_off(monkeypatch):
    uvloop = pytest.importorskip("uvloop")
    monkeypatch.delenv("TURNLOOM_UVLOOP", raising=False)
    assert fast_loop_factory() is uvloop.new_event_loop
    for off in ("0", "off", "False"):
        monkeypatch.setenv("TURNLOOM_UVLOOP", off)
        assert fast_loop_factory() is None


def test_worker_loops_are_forked_where_the_platform_forks_unless_spawning_is_asked(monkeypatch):
    monkeypatch.delenv("TURNLOOM_WORKER_START", raising=False)
    expected = "fork" if sys.platform.startswith("linux") else "spawn"
    assert worker_context().get_start_method() == expected
    monkeypatch.setenv("TURNLOOM_WORKER_START", "spawn")
    assert worker_context().get_start_method() == "spawn"


def test_forked_and_spawned_worker_loops_make_the_same_dialogues(key, tmp_path, monkeypatch):
    with FakeOpenAI() as server:
        monkeypatch.setenv("TURNLOOM_WORKER_START", "spawn")
        spawned = asyncio.run(run_batch(server, tmp_path / "spawned", 6, processes=2))
        monkeypatch.delenv("TURNLOOM_WORKER_START")
        forked = asyncio.run(run_batch(server, tmp_path / "forked", 6, processes=2))
    assert spawned.complete and forked.complete and forked.ran == 6
    assert transcripts(tmp_path / "forked") == transcripts(tmp_path / "spawned")
    assert len(list(read_exchanges(tmp_path / "forked" / "exchanges.llm.jsonl"))) == len(
        list(read_exchanges(tmp_path / "spawned" / "exchanges.llm.jsonl"))
    )


def test_a_signal_to_a_forked_worker_is_the_workers_not_the_parents(key, tmp_path):
    """The parent's loop handles SIGTERM as "stop the batch"; a forked worker must not pass its own on."""
    out = tmp_path / "batch"

    async def terminate_one_worker_soon() -> None:
        import multiprocessing

        for _ in range(100):
            await asyncio.sleep(0.05)
            children = [c for c in multiprocessing.active_children() if c.name == "turnloom-loop"]
            if children:
                await asyncio.sleep(0.4)
                os.kill(children[0].pid, signal.SIGTERM)
                return

    async def first_run(server: FakeOpenAI):
        killer = asyncio.create_task(terminate_one_worker_soon())
        try:
            return await run_batch(server, out, 12, processes=2, handle_signals=True)
        finally:
            killer.cancel()

    with FakeOpenAI(latency=0.05) as server:
        first = asyncio.run(first_run(server))
    # the worker died of its SIGTERM (its dialogues failed); the parent did not stop: the other loop ran on
    assert first.failed > 0 and all("worker process" in error for _, error in first.errors)
    assert first.pending == 0 and first.done + first.failed == 12
    assert not (out / STOP_FILE).exists()


def test_a_stop_saves_dialogues_in_flight_on_every_loop_and_a_rerun_finishes_them_once(key, tmp_path):
    out = tmp_path / "batch"
    with FakeOpenAI(latency=0.05) as server:
        first = asyncio.run(run_batch(server, out, 12, processes=2, stop_after=0.8))
        assert not first.complete and first.partial + first.pending > 0
        assert not (out / STOP_FILE).exists()
        second = asyncio.run(run_batch(server, out, 12, processes=2))
        reference = asyncio.run(run_batch(server, tmp_path / "straight", 12, processes=1))
    assert second.complete and reference.complete
    assert second.ran == 12 - first.done
    assert sorted(p.name for p in out.glob("*.session.json")) == sorted(e.file for e in load_manifest(out).dialogues)
    assert not list(out.glob("*.journal*")) and not any(
        journal_path(out / e.file).exists() for e in load_manifest(out).dialogues
    )
    assert transcripts(out) == transcripts(tmp_path / "straight")


def test_a_loop_per_core_only_when_endpoints_keep_enough_dialogues_in_flight_for_each(monkeypatch):
    import os

    from turnloom.core.batch.executors import PER_PROCESS_MIN

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    setup = BackendSetup.create(TurnloomConfig())
    assert AsyncExecutor(PER_PROCESS_MIN * 2 - 1, backends=setup).processes == 1
    assert AsyncExecutor(PER_PROCESS_MIN * 3, backends=setup).processes == 3
    assert AsyncExecutor(256, backends=setup).processes == 4
    assert AsyncExecutor(256).processes == 1  # offline dialogues: the process pool's job
    assert AsyncExecutor(2, backends=setup, processes=8).processes == 2


def test_concurrency_bounds_requests_in_flight_and_a_quarter_more_dialogues_are_kept_open(key, tmp_path):
    """--concurrency is the endpoint's requests in flight; the extra open dialogues wait for a slot."""
    with FakeOpenAI(latency=0.05) as server:
        settings = TurnloomConfig(profiles={"fake": quick_profile(server, max_concurrency=32, timeout=5)})
        backends = BackendSetup.create(settings)
        executor = AsyncExecutor(4, backends=backends, processes=1)
        assert executor.open_dialogues == 5
        assert backends.endpoint("fake").max_in_flight == 4

        async def go():
            try:
                return await generate(batch_config(server), tmp_path, 10, executor, handle_signals=False)
            finally:
                await backends.aclose()

        report = asyncio.run(go())
        assert report.complete
        assert server.most_in_flight == 4
    # a profile that allows fewer keeps its own limit, and an endpoint made before is limited too
    settings = TurnloomConfig(
        profiles={
            "a": Profile(base_url="http://127.0.0.1:9/v1", model="m", max_concurrency=2),
            "b": Profile(base_url="http://127.0.0.1:9/v1", model="m", max_concurrency=64),
        }
    )
    backends = BackendSetup.create(settings)
    early = backends.endpoint("b")
    assert AsyncExecutor(32, backends=backends).open_dialogues == 40
    assert backends.endpoint("a").max_in_flight == 2
    assert early.max_in_flight == 32 and backends.spec(share=2).config.profiles["b"].max_concurrency == 16
    # the limit is the run's, not the profile's: a later batch on the same setup sets its own
    AsyncExecutor(2, backends=backends)
    assert early.max_in_flight == 2
    AsyncExecutor(48, backends=backends)
    assert early.max_in_flight == 48 and early.profile.max_concurrency == 64
    assert backends.spec(share=2).config.profiles["b"].max_concurrency == 24


def test_each_loop_gets_its_share_of_a_profiles_concurrency(key, tmp_path):
    with FakeOpenAI() as server:
        settings = TurnloomConfig(profiles={"fake": quick_profile(server, max_concurrency=9)})
        spec = BackendSetup.create(settings, record=tmp_path / "x.llm.jsonl").spec(share=2)
    assert spec.config.profiles["fake"].max_concurrency == 4
    assert spec.record == tmp_path / "x.llm.jsonl"
    assert spec.build().endpoint("fake").profile.max_concurrency == 4


def test_a_worker_killed_mid_batch_fails_only_its_dialogues_and_a_rerun_finishes_them(key, tmp_path):
    import os
    import signal

    out = tmp_path / "batch"

    async def kill_one_worker_soon() -> None:
        import multiprocessing

        for _ in range(100):
            await asyncio.sleep(0.05)
            children = [c for c in multiprocessing.active_children() if c.name == "turnloom-loop"]
            if children:
                await asyncio.sleep(0.4)
                os.kill(children[0].pid, signal.SIGKILL)
                return

    async def first_run(server: FakeOpenAI):
        killer = asyncio.create_task(kill_one_worker_soon())
        try:
            return await run_batch(server, out, 12, processes=2)
        finally:
            killer.cancel()

    with FakeOpenAI(latency=0.05) as server:
        first = asyncio.run(first_run(server))
        assert first.failed > 0 and all("worker process" in error for _, error in first.errors)
        second = asyncio.run(run_batch(server, out, 12, processes=2))
    assert second.complete
    assert sorted(p.name for p in out.glob("*.session.json")) == sorted(e.file for e in load_manifest(out).dialogues)


def test_a_batch_asks_for_whole_replies_not_streams(fake, key, tmp_path):
    """Nobody watches a batch's text arrive, so its players do not stream (reading a stream costs more)."""
    settings = TurnloomConfig(profiles={"fake": quick_profile(fake)})
    roles = {"task": "fake", "user": "fake", "assistant": "fake"}
    config = BatchConfig(domain="retail", tasks=1, roles=roles, profiles={"fake": {"base_url": fake.base_url}})
    backends = BackendSetup.create(settings, batch=True)

    async def go():
        try:
            return await generate(config, tmp_path, 2, AsyncExecutor(2, backends=backends), handle_signals=False)
        finally:
            await backends.aclose()

    assert asyncio.run(go()).done == 2
    chat = [r for r in fake.requests if r.role in ("user", "assistant")]
    assert chat and not any(r.body.get("stream") for r in chat)


def test_a_journal_that_cannot_be_created_fails_its_dialogue_with_the_reason_and_a_rerun_makes_it(
    key, tmp_path, monkeypatch
):
    """A disk that fills up as dialogues start: each fails with the file and the reason, nothing hangs."""
    import errno
    import tempfile

    real_mkstemp = tempfile.mkstemp

    def disk_full_for_journals(*args, **kwargs):
        if str(kwargs.get("prefix", "")).endswith(".journal."):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_mkstemp(*args, **kwargs)

    out = tmp_path / "batch"
    with FakeOpenAI() as server:
        monkeypatch.setattr(tempfile, "mkstemp", disk_full_for_journals)
        first = asyncio.run(run_batch(server, out, 3, processes=1))
        monkeypatch.setattr(tempfile, "mkstemp", real_mkstemp)
        assert first.failed == 3 and first.done == 0, first.errors
        assert all("seed-000000" in error and "No space left on device" in error for _seed, error in first.errors), (
            first.errors
        )
        second = asyncio.run(run_batch(server, out, 3, processes=1))
    assert second.complete and second.ran == 3
