"""`run` on an endpoint that fails for good: the cause is kept in the session, printed, and the exit status is 1.

Each fault is served by the real fake server (or is a closed port, or a key not in the environment);
the dialogue stops with `backend_error`, and the one line on stderr names the profile and what to do.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from backend_support import KEY_ENV

from turnloom.core.cli import main
from turnloom.core.storage.snapshot import load_session

RUN = ["run", "--role", "task=fake", "--role", "user=fake", "--seed", "3", "--tasks", "1", "--quiet"]


def _config(folder: Path, base_url: str, **extra: object) -> None:
    lines = [
        "[profiles.fake]",
        f'base_url = "{base_url}"',
        'model = "fake-model"',
        f'api_key_env = "{KEY_ENV}"',
        "timeout = 2",
        "max_retries = 1",
        "retry_backoff = 0.01",
        *(f"{key} = {json.dumps(value)}" for key, value in extra.items()),
    ]
    (folder / "turnloom.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


FAULTS = {
    "unauthorized": ({"status": 401, "error": "Incorrect API key provided"}, "401"),
    "rate limited": ({"status": 429, "headers": {"Retry-After": "0"}}, "429"),
    "server error": ({"status": 503}, "503"),
    "schema rejected": (
        {"status": 400, "error": "response_format json_schema is not supported by this model"},
        "json_schema",
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_an_http_failure_is_printed_kept_in_the_session_and_exits_1(fault, fake, key, tmp_path, capsys):
    entry, cause = FAULTS[fault]
    fake.push(*[entry] * 20)
    _config(tmp_path, fake.base_url)
    out = tmp_path / "d.session.json"
    assert main([*RUN, "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "backend_error" in captured.out
    error_lines = [line for line in captured.err.splitlines() if line.startswith("turnloom: error:")]
    assert len(error_lines) == 1
    assert "profile 'fake'" in error_lines[0] and cause in error_lines[0]
    assert f"turnloom run --from {out}" in error_lines[0]
    session = load_session(out)
    assert session.finish_reason == "backend_error"
    assert session.finish_detail is not None and cause in session.finish_detail


def test_a_refused_connection_names_the_profile_and_is_kept(key, tmp_path, capsys):
    _config(tmp_path, f"http://127.0.0.1:{_closed_port()}/v1")
    out = tmp_path / "d.session.json"
    assert main([*RUN, "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert "turnloom: error: profile 'fake'" in error and "connection refused" in error
    assert "profile 'fake'" in (load_session(out).finish_detail or "")


@pytest.mark.parametrize("client", ["openai", "aiohttp"])
def test_check_calls_a_refused_connection_refused_and_names_the_url(client, key, tmp_path, capsys):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    _config(tmp_path, url, client=client)
    assert main(["check", "--profile", "fake"]) == 1
    out = capsys.readouterr().out
    assert f"# {url}: cannot connect after 1 retries (connection refused)" in out
    assert "no reply within" not in out and "timeout" not in out
    assert "stream " not in out  # the other probes would only wait out the same retries


def test_a_missing_key_names_the_variable_to_export(fake, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(KEY_ENV, raising=False)
    _config(tmp_path, fake.base_url)
    out = tmp_path / "d.session.json"
    assert main([*RUN, "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert "profile 'fake'" in error and KEY_ENV in error
    assert KEY_ENV in (load_session(out).finish_detail or "")
    assert not fake.requests


def test_replay_shows_why_the_dialogue_stopped(fake, key, tmp_path, capsys):
    fake.push(*[{"status": 401}] * 20)
    _config(tmp_path, fake.base_url)
    out = tmp_path / "d.session.json"
    main([*RUN, "--out", str(out)])
    capsys.readouterr()
    assert main(["replay", str(out)]) == 0
    assert "finish: backend_error: profile 'fake'" in capsys.readouterr().out


def test_a_continued_run_clears_the_old_cause(fake, key, tmp_path, capsys):
    fake.push({"status": 401})  # refused once, and not retried; then the fake answers every role again
    _config(tmp_path, fake.base_url)
    out = tmp_path / "d.session.json"
    assert main([*RUN, "--out", str(out)]) == 1
    assert len(fake.requests) == 1
    assert main(["run", "--from", str(out), "--out", str(out), "--quiet"]) == 0
    session = load_session(out)
    assert session.finish_reason == "user_done" and session.finish_detail is None
