"""Hostile and damaged files: every command ends in a named error or skips the file with its reason,
and no committed message is ever lost to a re-run."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from turnloom.core.cli import main
from turnloom.core.errors import SessionFileError
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.storage.journal import Journal, journal_path, open_session, recover
from turnloom.core.storage.session_folder import file_name_part, find_sessions, read_sessions
from turnloom.core.storage.snapshot import load_session, save_session


def crashed_run(out: Path, steps: int = 6, seed: int = 3):
    """What a `run --out out` killed mid-dialogue leaves: a journal holding every commit, no snapshot."""
    session = create_session(domain="retail", seed=seed, tasks=2)
    journal = Journal.open(out, session)
    engine = open_engine(session, recorder=journal)

    async def steps_then_crash() -> None:
        for _ in range(steps):
            await engine.step()

    asyncio.run(steps_then_crash())
    journal._close_handle()  # the process died: no compaction, no cleanup
    engine.environment.close()
    return session


# -- journals are never replaced silently ------------------------------------------


def test_rerunning_the_same_out_after_a_crash_keeps_every_committed_message(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "d.session.json"
    crashed = crashed_run(out)
    before = journal_path(out).read_bytes()
    assert main(["run", "--quiet", "--seed", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "journal of session" in err and "--from" in err
    assert journal_path(out).read_bytes() == before
    assert main(["run", "--quiet", "--from", str(out), "--out", str(out)]) == 0
    continued = load_session(out)
    assert continued.id == crashed.id
    assert continued.messages[: len(crashed.messages)] == crashed.messages


def test_a_journal_of_the_same_session_is_continued(tmp_path: Path):
    out = tmp_path / "d.session.json"
    session = crashed_run(out, steps=3)
    recovered, _ = open_session(out)
    assert recovered.messages == session.messages
    Journal.open(out, recovered).close()  # the caller continues it: allowed


# -- journal replay trusts nothing -------------------------------------------------


def _journal_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in journal_path(out).read_text().splitlines()]


def _write_lines(out: Path, lines: list[dict]) -> None:
    journal_path(out).write_text("".join(json.dumps(line) + "\n" for line in lines))


@pytest.mark.parametrize("index", [-1, -5, "2", True, None])
def test_a_message_line_with_a_bad_index_stops_replay_with_a_warning(tmp_path: Path, index):
    out = tmp_path / "d.session.json"
    session = crashed_run(out, steps=4)
    lines = _journal_lines(out)
    lines.append({**lines[-1], "index": index})
    _write_lines(out, lines)
    recovered, warnings = recover(out)
    assert recovered.messages == session.messages
    assert any("stopped replaying" in w for w in warnings)


def test_duplicated_journal_lines_add_nothing_twice(tmp_path: Path):
    out = tmp_path / "d.session.json"
    session = crashed_run(out, steps=8)
    lines = _journal_lines(out)
    doubled = [lines[0]] + [line for line in lines[1:] for _ in (0, 1)]
    _write_lines(out, doubled)
    recovered, warnings = recover(out)
    assert recovered.messages == session.messages
    assert recovered.tasks == session.tasks
    assert recovered.write_log == session.write_log
    assert any("repeats line" in w for w in warnings)


def test_a_truncate_line_with_a_negative_cut_is_a_named_error(tmp_path: Path):
    out = tmp_path / "d.session.json"
    crashed_run(out, steps=3)
    _write_lines(out, _journal_lines(out) + [{"ev": "truncate", "at": -2}])
    with pytest.raises(SessionFileError, match="line 5"):
        recover(out)


# -- deep nesting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.session.json", "[" * 100_000 + "]" * 100_000),
        ("deep.session.toml", "a = " + "[" * 100_000 + "]" * 100_000),
        (
            "deep-meta.session.json",
            '{"schema_version": 1, "domain": "x", "messages": [{"role": "user", "content": "hi", '
            '"meta": {"extra": {"x": ' + "[" * 20_000 + "]" * 20_000 + "}}}]}",
        ),
    ],
)
@pytest.mark.parametrize("command", ["replay", "export", "stats", "fork", "run --from"])
def test_a_deeply_nested_session_file_is_a_named_error_for_every_command(
    tmp_path, monkeypatch, capsys, name, text, command
):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    path.write_text(text)
    argv = {
        "replay": ["replay", str(path)],
        "export": ["export", str(path), "--format", "openai", "--out", "o.jsonl"],
        "stats": ["stats", str(path)],
        "fork": ["fork", str(path), "--at", "1", "--out", "f.session.json"],
        "run --from": ["run", "--quiet", "--from", str(path)],
    }[command]
    assert main(argv) == 2
    assert "nested too deeply" in capsys.readouterr().err


# -- folders: journal-only sessions, bad files, symlinks ----------------------------


def test_export_and_stats_read_journal_only_sessions_and_skip_a_bad_file_with_its_reason(
    tmp_path: Path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "batch"
    folder.mkdir()
    crashed = crashed_run(folder / "a.session.json", steps=5)
    finished = create_session(domain="retail", seed=4, tasks=1)
    save_session(finished, folder / "b.session.json")
    (folder / "c.session.json").write_text('{"schema_version": 1, "id": ')  # truncated
    os.symlink(tmp_path / "nowhere.session.json", folder / "d.session.json")  # dangling
    assert main(["export", str(folder), "--format", "openai", "--out", "o.jsonl"]) == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out
    assert "c.session.json" in captured.err and "file ends early" in captured.err
    assert "d.session.json" in captured.err and "symbolic link" in captured.err
    assert main(["stats", "--json", str(folder)]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 2  # the journal-only one and the saved one
    found = find_sessions([folder])
    reads = {r.path.name: r for r in read_sessions(found)}
    assert reads["a.session.json"].journal_only and reads["a.session.json"].session is not None
    assert reads["a.session.json"].session.messages == crashed.messages
    assert reads["c.session.json"].problem is not None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("retail", "retail"),
        ("../../etc/passwd", "etc-passwd"),
        ("/abs/path", "abs-path"),
        ("..", "session"),
        ("a\x1b]0;x\x07b", "a-0-x-b"),
        ("x" * 300, "x" * 64),
    ],
)
def test_file_name_parts_built_from_session_data_stay_inside_their_folder(data, expected):
    part = file_name_part(data)
    assert part == expected
    assert (Path("/sessions") / f"{part}-seed1.session.json").parent == Path("/sessions")


# -- keys and credentials never land on disk -----------------------------------------------

KEY = "sk-proj-ABCDEF1234567890abcdef"
CONFIG_WITH_SECRETS = f"""
[profiles.p]
base_url = "http://user:s3cretpw@127.0.0.1:9/v1?api_key=querysecret"
model = "m"
api_key_env = "{KEY}"
max_retries = 0
timeout = 1
"""


def _files_holding(folder: Path, *secrets: str) -> list[str]:
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and any(s.encode() in path.read_bytes() for s in secrets)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://user:s3cretpw@127.0.0.1:9/v1", "http://user:***@127.0.0.1:9/v1"),
        ("https://tokenonly@host/v1", "https://***@host/v1"),
        ("https://host/v1?api_key=abc&x=1", "https://host/v1?api_key=***&x=1"),
        ("http://[::1", "http://[::1"),
        (
            f"the environment variable {KEY} (api_key_env) is not set",
            "the environment variable *** (api_key_env) is not set",
        ),
        ("Authorization: Bearer abcdefghijkl", "Authorization: Bearer ***"),
        ("http://127.0.0.1:8000/v1 and a@b.c", "http://127.0.0.1:8000/v1 and a@b.c"),
    ],
)
def test_credentials_are_redacted_from_text_that_is_written(text, expected):
    from turnloom.core.untrusted import redact_secrets

    assert redact_secrets(text) == expected


def test_no_key_or_url_password_lands_in_a_batch_folder(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "turnloom.toml").write_text(CONFIG_WITH_SECRETS)
    out = tmp_path / "b"
    # credentials in base_url: the config is refused naming the key, the password is never printed
    assert main(["generate", "--n", "2", "--role", "user=p", "--out", str(out), "--quiet", "--workers", "1"]) == 2
    captured = capsys.readouterr()
    assert "profiles.p.base_url" in captured.err and "credentials" in captured.err
    assert "s3cretpw" not in captured.out + captured.err
    assert not out.exists() or _files_holding(out, KEY, "s3cretpw", "querysecret") == []
    (tmp_path / "turnloom.toml").write_text(CONFIG_WITH_SECRETS.replace("user:s3cretpw@", ""))
    # the key pasted where its variable's name goes: every dialogue fails naming the setting, not the key
    assert main(["generate", "--n", "2", "--role", "user=p", "--out", str(out), "--quiet", "--workers", "1"]) in (1, 2)
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err
    assert "api_key_env" in captured.out + captured.err
    assert not out.exists() or _files_holding(out, KEY, "querysecret") == []
    # with the variable named properly and set, the batch runs (and fails to connect); the manifest keeps
    # the url without its secrets
    good = CONFIG_WITH_SECRETS.replace("user:s3cretpw@", "").replace(f'"{KEY}"', '"TURNLOOM_TEST_KEY_VAR"')
    (tmp_path / "turnloom.toml").write_text(good)
    monkeypatch.setenv("TURNLOOM_TEST_KEY_VAR", "the-real-key-value")
    shutil.rmtree(out, ignore_errors=True)
    main(["generate", "--n", "2", "--role", "user=p", "--out", str(out), "--quiet", "--workers", "1"])
    capsys.readouterr()
    assert (out / "manifest.json").exists()
    assert _files_holding(out, "querysecret", "the-real-key-value") == []
    assert "http://127.0.0.1:9/v1?api_key=***" in (out / "manifest.json").read_text()


def test_a_finish_detail_quoting_a_url_password_is_saved_without_it(tmp_path: Path):
    from turnloom.core.models import FinishReason

    session = create_session(domain="retail", seed=1, tasks=1)
    session.finish_reason = FinishReason.BACKEND_ERROR
    session.finish_detail = "profile 'p' (http://user:s3cretpw@h/v1, model m): connection refused"
    out = tmp_path / "s.session.json"
    with Journal.open(out, session) as journal:
        journal.record_finish(FinishReason.BACKEND_ERROR, session.finish_detail)
        assert "s3cretpw" not in journal_path(out).read_text().split("\n", 1)[1]
        journal.compact(session)
    for name in ("s.session.json", "s.session.toml"):
        save_session(session, tmp_path / name)
        text = (tmp_path / name).read_text()
        assert "s3cretpw" not in text and "http://user:***@h/v1" in text


def test_the_exchange_log_is_never_written_through_a_symbolic_link(tmp_path: Path):
    from turnloom.core.endpoint.exchange_log import ExchangeLog, exchange_log_path

    target = tmp_path / "elsewhere.txt"
    log_path = exchange_log_path(tmp_path / "d.session.json")
    os.symlink(target, log_path)
    with pytest.raises(SessionFileError, match="symbolic link"):
        ExchangeLog(log_path).record({"key": "k", "response": {}})
    assert not target.exists()
    plain = ExchangeLog(tmp_path / "e.llm.jsonl")
    plain.record({"key": "k", "response": {}})
    plain.close()
    assert json.loads((tmp_path / "e.llm.jsonl").read_text())["key"] == "k"


def test_run_out_over_another_finished_session_is_refused_and_in_place_continuation_is_not(
    tmp_path: Path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "x.session.json"
    assert main(["run", "--quiet", "--seed", "1", "--out", str(out)]) == 0
    before = out.read_bytes()
    assert main(["run", "--quiet", "--seed", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already holds session" in err and "--from" in err
    assert out.read_bytes() == before  # its committed messages are still there
    other = tmp_path / "y.session.json"
    save_session(create_session(domain="retail", seed=5, tasks=1), other)
    assert main(["run", "--quiet", "--from", str(other), "--out", str(out)]) == 2
    assert out.read_bytes() == before
    kept = load_session(out)
    assert main(["run", "--quiet", "--from", str(out), "--out", str(out)]) == 0
    assert load_session(out).messages[: len(kept.messages)] == kept.messages
    assert main(["run", "--quiet", "--from", str(out), "--at", "3", "--out", str(out)]) == 0


def test_a_tool_result_of_deeply_nested_json_is_judged_not_a_crash(tmp_path: Path, monkeypatch, capsys):
    """The file is fine (the nesting is inside a string); the quality checks parse it and must not crash."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--quiet", "--domain", "retail", "--seed", "3", "--tasks", "1", "--out", "s.session.json"]) == 0
    session = load_session(tmp_path / "s.session.json")
    deep = "[" * 100_000 + "]" * 100_000
    next(m for m in session.messages if m.role.value == "tool").content = deep
    session.verdict = None
    save_session(session, tmp_path / "s.session.json")
    capsys.readouterr()
    assert main(["stats", "s.session.json", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["acceptance"]["failed_checks"] == {"readable": 1}
    assert main(["export", "s.session.json", "--format", "hermes", "--out", "h.jsonl"]) == 2
    assert "nested too deeply" in capsys.readouterr().err
    assert main(["export", "s.session.json", "--format", "sharegpt", "--out", "s.jsonl"]) == 0
