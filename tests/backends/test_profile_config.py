"""A profile's endpoint settings checked at config load: no key where a variable name belongs, no
credentials in `base_url`, a malformed URL named, limits that make sense; the key is never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnloom.core.cli import main
from turnloom.core.config import Profile, load_config
from turnloom.core.errors import ConfigError

SECRET = "sk-proj-Abc123Def456Ghi789Jkl012Mno345"


def _write(folder: Path, **settings: object) -> Path:
    values = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": "MY_KEY", **settings}
    lines = ["[profiles.fake]", *(f"{key} = {_toml(value)}" for key, value in values.items())]
    path = folder / "turnloom.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


KEY_LIKE = [SECRET, "sk_live_51HxYzAbCdEf0123456789", "gsk_0123456789abcdef", "AbCdEf0123456789GhIjKl9876"]


@pytest.mark.parametrize("pasted", KEY_LIKE)
def test_a_key_pasted_into_api_key_env_is_refused_without_echoing_it(tmp_path, pasted):
    path = _write(tmp_path, api_key_env=pasted)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "profiles.fake.api_key_env" in message and "export" in message
    assert pasted not in message and pasted[:12] not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no chained pydantic error


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "MY_KEY", "together_api_key", "KEY2"])
def test_a_variable_name_is_accepted(tmp_path, name):
    assert load_config(_write(tmp_path, api_key_env=name)).profiles["fake"].api_key_env == name


def test_a_base_url_with_credentials_is_refused_without_storing_or_echoing_them(tmp_path):
    path = _write(tmp_path, base_url="https://alice:hunter2secret@api.example.com/v1")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "profiles.fake.base_url" in message and "credentials" in message
    assert "hunter2secret" not in message and "alice" not in message


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://[::1", "not a URL"),
        ("http://127.0.0.1:99999/v1", "not a URL"),
        ("ftp://example.com/v1", "not an http"),
        ("127.0.0.1:8000/v1", "not an http"),
        ("http:///v1", "not an http"),
    ],
)
def test_a_malformed_base_url_is_a_named_config_error(tmp_path, url, why):
    with pytest.raises(ConfigError, match=f"profiles.fake.base_url.*{why}"):
        load_config(_write(tmp_path, base_url=url))


@pytest.mark.parametrize(
    "setting", [{"timeout": 0}, {"deadline": -1}, {"max_prompt_chars": 0}, {"max_retries": -1}, {"max_concurrency": 0}]
)
def test_limits_that_make_no_sense_are_named(tmp_path, setting):
    (key,) = setting
    with pytest.raises(ConfigError, match=f"profiles.fake.{key}"):
        load_config(_write(tmp_path, **setting))


def test_deadline_and_prompt_cap_have_defaults_and_settings(tmp_path):
    default = Profile(base_url="http://h/v1", model="m")
    assert default.deadline == 600 and default.max_prompt_chars == 4_000_000
    profile = load_config(_write(tmp_path, deadline=30, max_prompt_chars=1000)).profiles["fake"]
    assert profile.deadline == 30 and profile.max_prompt_chars == 1000


@pytest.mark.parametrize(
    "setting, shown",
    [({"api_key_env": SECRET}, "api_key_env"), ({"base_url": "http://[::1"}, "base_url")],
)
def test_run_and_generate_end_on_a_bad_profile_with_one_line_and_exit_2(tmp_path, monkeypatch, capsys, setting, shown):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, **setting)
    for command in (
        ["run", "--profile", "fake", "--seed", "1", "--tasks", "1", "--quiet"],
        ["generate", "--profile", "fake", "--n", "2", "--out", str(tmp_path / "batch")],
    ):
        assert main(command) == 2, command
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err and shown in captured.err
        assert SECRET not in captured.err + captured.out
    assert not any(
        SECRET in p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".toml"
    )
