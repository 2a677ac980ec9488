"""Whole dialogues on the fake server: end to end, failure and resume, replay, the CLI in every mode, keys."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from backend_support import KEY_VALUE, write_config

from turnloom.core.cli import main
from turnloom.core.endpoint.exchange_log import exchange_log_path
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import FinishReason, Role, check_transcript
from turnloom.core.players.setup import BackendSetup, build_judge

CORE = Path(__file__).resolve().parents[2] / "core"
ALL_ROLES = ("task", "forge", "user", "assistant", "tool", "judge")


def llm_session(seed: int = 5, **args):
    session = create_session(domain="retail", seed=seed, tasks=3, **args)
    session.config.roles = {role: "fake" for role in ALL_ROLES}
    return session


async def test_a_three_task_user_oriented_dialogue_with_every_role_on_the_server(fake, config):
    session = llm_session()
    setup = BackendSetup.create(config)
    engine = open_engine(session, backends=setup)
    reason = await engine.run()
    assert reason is FinishReason.USER_DONE
    assert len(session.tasks) == 3
    assert sum(m.meta.task_done for m in session.messages) == 3
    assert session.messages[-1].meta.goal_done
    assert any(m.tool_calls for m in session.messages) and any(m.role is Role.TOOL for m in session.messages)
    assert {r.role for r in fake.requests} >= {"task", "user", "assistant"}
    assert session.usage.prompt_tokens > 0
    assert all(m.meta.backend == "fake" for m in session.messages if m.role in (Role.USER, Role.ASSISTANT))
    judge = build_judge(session, setup)
    verdicts = [await judge.judge(session, i) for i in range(len(session.tasks))]
    assert all(v.valid for v in verdicts)
    await setup.aclose()


async def test_an_endpoint_that_fails_for_good_stops_with_backend_error_and_resumes(fake, config):
    session = llm_session()
    engine = open_engine(session, backends=BackendSetup.create(config))
    for _ in range(3):
        await engine.step()
    fake.push(*[{"status": 500}] * 3)
    reason = await engine.run()
    assert reason is FinishReason.BACKEND_ERROR
    check_transcript(session.messages)
    kept = len(session.messages)
    assert kept == 3
    engine.resume()
    assert await engine.run() is FinishReason.USER_DONE
    assert len(session.messages) > kept


@pytest.mark.parametrize("mode", ["user-oriented", "task-oriented"])
@pytest.mark.parametrize("execution", ["sql", "simulated"])
def test_run_with_a_profile_completes_in_every_mode(fake, key, tmp_path, monkeypatch, capsys, mode, execution):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, fake)
    out = tmp_path / "out" / "d.session.json"
    code = main(
        [
            "run",
            "--profile",
            "fake",
            "--mode",
            mode,
            "--execution",
            execution,
            "--seed",
            "4",
            "--tasks",
            "2",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "user_done" in capsys.readouterr().out
    saved = json.loads(out.read_text())
    assert saved["config"]["roles"]["assistant"] == "fake"
    assert exchange_log_path(out).exists()


def test_no_file_written_holds_the_key(fake, key, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, fake)
    out = tmp_path / "out" / "k.session.toml"
    assert main(["--config", str(config), "run", "--profile", "fake", "--seed", "2", "--quiet", "--out", str(out)]) == 0
    assert main(["export", str(out), "--format", "openai", "--out", str(tmp_path / "out" / "k.jsonl")]) in (0, None)
    assert fake.requests and all(r.headers["authorization"] == f"Bearer {KEY_VALUE}" for r in fake.requests)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 4  # config, session, exchange log, export (and any journal)
    for path in written:
        assert KEY_VALUE.encode() not in path.read_bytes(), path
    assert KEY_VALUE not in capsys.readouterr().out


def test_a_rerun_with_the_cache_reproduces_the_dialogue_at_zero_requests(fake, key, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, fake)
    first, second = tmp_path / "a.session.json", tmp_path / "b.session.json"
    assert main(["run", "--profile", "fake", "--seed", "9", "--quiet", "--out", str(first)]) == 0
    sent = len(fake.requests)
    assert (
        main(
            [
                "run",
                "--profile",
                "fake",
                "--seed",
                "9",
                "--quiet",
                "--out",
                str(second),
                "--cache",
                str(exchange_log_path(first)),
            ]
        )
        == 0
    )
    assert len(fake.requests) == sent
    a, b = json.loads(first.read_text()), json.loads(second.read_text())

    def strip(s):
        return [{k: v for k, v in m.items() if k != "meta"} | {"usage": m["meta"]["usage"]} for m in s["messages"]]

    assert strip(a) == strip(b)
    assert [t["goal"] for t in a["tasks"]] == [t["goal"] for t in b["tasks"]]


async def test_a_cache_only_replay_of_a_diverged_session_fails_naming_the_recording(fake, config, tmp_path):
    from turnloom.core.endpoint.exchange_log import ExchangeLog

    log = tmp_path / "x.llm.jsonl"
    session = llm_session(seed=11)
    setup = BackendSetup(config=config, log=ExchangeLog(log))
    await open_engine(session, backends=setup).run()
    replay = BackendSetup.create(config, cache=[log], cache_only=True)
    other = llm_session(seed=12)
    assert await open_engine(other, backends=replay).run() is FinishReason.BACKEND_ERROR
    before = len(fake.requests)
    same = llm_session(seed=11)
    replay = BackendSetup.create(config, cache=[log], cache_only=True)
    assert await open_engine(same, backends=replay).run() is FinishReason.USER_DONE
    assert len(fake.requests) == before
    assert [m.content for m in same.messages] == [m.content for m in session.messages]


def test_check_reports_what_the_endpoint_supports(fake, key, tmp_path, monkeypatch, capsys):
    from fake_openai import FakeOpenAI

    monkeypatch.chdir(tmp_path)
    with FakeOpenAI(reject_strict=True) as strictless:
        write_config(tmp_path, strictless)
        assert main(["check", "--profile", "fake"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.startswith("  ")}
    assert lines["chat"] == lines["stream"] == lines["json_schema"] == lines["tools"] == "yes"
    assert lines["strict"] == "no" and "strict = false" in out


def test_role_options_are_checked_against_the_config(fake, key, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, fake)
    assert main(["run", "--role", "user=nope", "--quiet"]) == 2
    assert "profile 'nope'" in capsys.readouterr().err
    assert main(["run", "--role", "assistant", "--quiet"]) == 2
    assert "ROLE=PROFILE" in capsys.readouterr().err


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_openai_backend_imports_openai_and_core_never_imports_ui_libraries():
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        found = _imports(path)
        relative = path.relative_to(CORE).as_posix()
        if "openai" in found and relative != "endpoint/endpoint.py":
            offenders.append(f"{relative} imports openai")
        ui = found & ({"textual"} if relative.startswith("cli/") else {"textual", "rich"})  # the CLI draws with rich
        if ui:
            offenders.append(f"{relative} imports {ui}")
    assert offenders == []
