"""The rubric judge against the tests' real HTTP server: asked as each dialogue of `generate` ends,
and by `stats` / `export --only-valid` for sessions without a current ruling; its verdict, reasons,
tokens and cost are stored in the session and counted in the run."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))  # the clean dialogues the quality tests share

from _clean_dialogues import clean_session  # noqa: E402
from backend_support import quick_profile, write_config
from fake_openai import FakeOpenAI

from turnloom.core.batch.executors import AsyncExecutor
from turnloom.core.batch.manifest import BatchConfig, load_manifest
from turnloom.core.batch.run import generate
from turnloom.core.cli import main
from turnloom.core.config import TurnloomConfig
from turnloom.core.players.setup import BackendSetup
from turnloom.core.quality.verdict import current_verdict, failed_checks
from turnloom.core.storage.journal import load_session
from turnloom.core.storage.snapshot import save_session

INVALID = {"reply": {"content": json.dumps({"judgment": "invalid", "reasoning": "the reply invents a refund policy"})}}


async def _judged_batch(server: FakeOpenAI, out: Path, n: int):
    settings = TurnloomConfig(profiles={"fake": quick_profile(server, timeout=5)})
    backends = BackendSetup.create(settings, record=out / "exchanges.llm.jsonl")
    config = BatchConfig(
        domain="retail", tasks=1, roles={"judge": "fake"}, profiles={"fake": {"base_url": server.base_url}}
    )
    try:
        return await generate(config, out, n, AsyncExecutor(2, backends=backends), handle_signals=False)
    finally:
        await backends.aclose()


def test_generate_asks_the_judge_about_every_task_as_each_dialogue_ends(key, tmp_path):
    out = tmp_path / "batch"
    with FakeOpenAI() as server:
        server.push(INVALID, role="judge")
        report = asyncio.run(_judged_batch(server, out, 4))
        judged = server.requests_of("judge")
    assert report.complete
    sessions = [load_session(out / e.file) for e in load_manifest(out).dialogues]
    assert len(judged) == sum(len(s.tasks) for s in sessions) >= 4
    assert all(r.body["messages"][0]["content"].startswith("# Role: rubric judge") for r in judged)
    rulings = [current_verdict(s) for s in sessions]
    assert all(v is not None and v.judge is not None and v.judge.profile == "fake" for v in rulings)
    rejected = [v for v in rulings if v is not None and "judge" in failed_checks(v)]
    assert len(rejected) == 1 and "invents a refund policy" in rejected[0].failures[-1].reason
    for session, entry in zip(sessions, load_manifest(out).dialogues, strict=True):
        spent = session.verdict.judge.usage.total
        assert spent > 0 and session.usage.total == spent  # the judge's tokens are the run's (all else offline)
        assert entry.tokens == session.usage.total


def test_stats_asks_the_judge_once_for_sessions_without_its_ruling_and_saves_it(key, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "sessions"
    folder.mkdir()
    for seed in range(3):
        save_session(clean_session("clinic", seed=seed), folder / f"s{seed}.session.json")
    with FakeOpenAI() as server:
        write_config(tmp_path, server)
        server.push(INVALID, role="judge")
        assert main(["stats", str(folder), "--judge", "fake", "--json"]) == 0
        first = len(server.requests_of("judge"))
        data = json.loads(capsys.readouterr().out)
        assert main(["stats", str(folder), "--judge", "fake", "--json"]) == 0
        again = len(server.requests_of("judge"))
    assert first == 3 and again == 3  # one task each; the second run reads the stored rulings
    assert data["acceptance"]["accepted"] == 2 and data["acceptance"]["judged"] == 3
    assert data["acceptance"]["checks"]["judge"]["dialogues"] == 1
    assert data["tokens"]["total"] > 0
    saved = [load_session(p) for p in sorted(folder.glob("*.session.json"))]
    assert all(s.verdict and s.verdict.judge and s.verdict.judge.usage.total > 0 for s in saved)


def test_export_only_valid_asks_the_judge_a_session_maps_and_drops_what_it_rejects(key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "sessions"
    folder.mkdir()
    for seed in range(2):
        session = clean_session("airline", seed=seed)
        session.config.roles = {"judge": "fake"}
        save_session(session, folder / f"s{seed}.session.json")
    target = tmp_path / "train.jsonl"
    with FakeOpenAI() as server:
        write_config(tmp_path, server)
        server.push(INVALID, role="judge")
        assert main(["export", str(folder), "--format", "openai", "--out", str(target), "--only-valid"]) == 0
        assert len(server.requests_of("judge")) == 2
    assert len(target.read_text().splitlines()) == 1
