"""Helpers the backend tests import by name (conftest modules are not importable by name
when several test folders each have one)."""

from __future__ import annotations

from pathlib import Path

from fake_openai import FakeOpenAI

from turnloom.core.config import Profile

KEY_ENV = "TURNLOOM_TEST_KEY"
KEY_VALUE = "sk-test-9f8e7d6c5b4a-never-on-disk"
CLIENT = "auto"  # the profiles' HTTP client; the wire tests run once per client (see their fixture)


def quick_profile(server: FakeOpenAI, **overrides) -> Profile:
    """A profile with test-sized timeouts and backoffs."""
    values = dict(
        base_url=server.base_url,
        model="fake-model",
        api_key_env=KEY_ENV,
        timeout=0.5,
        max_retries=2,
        retry_backoff=0.01,
        max_reasks=2,
        client=CLIENT,
    )
    values.update(overrides)
    return Profile(**values)


def write_config(folder: Path, server: FakeOpenAI) -> Path:
    """`folder/turnloom.toml` with one profile, `fake`, on `server` (the key in KEY_ENV)."""
    path = folder / "turnloom.toml"
    path.write_text(
        f'[profiles.fake]\nbase_url = "{server.base_url}"\nmodel = "fake-model"\napi_key_env = "{KEY_ENV}"\n'
        "timeout = 2\nretry_backoff = 0.01\n",
        encoding="utf-8",
    )
    return path
