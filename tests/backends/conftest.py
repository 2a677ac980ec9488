"""Fixtures for backend tests: a real fake OpenAI server on 127.0.0.1 and profiles pointing at it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_openai import FakeOpenAI  # noqa: E402

from turnloom.core.config import Profile, TurnloomConfig  # noqa: E402

KEY_ENV = "TURNLOOM_TEST_KEY"
KEY_VALUE = "sk-test-9f8e7d6c5b4a-never-on-disk"


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def quick_profile(server: FakeOpenAI, **overrides) -> Profile:
    """A profile with test-sized timeouts and backoffs."""
    values = dict(base_url=server.base_url, model="fake-model", api_key_env=KEY_ENV, timeout=0.5,
                  max_retries=2, retry_backoff=0.01, max_reasks=2)
    values.update(overrides)
    return Profile(**values)


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY_VALUE)
    return KEY_VALUE


@pytest.fixture
def config(fake, key) -> TurnloomConfig:
    return TurnloomConfig(profiles={"fake": quick_profile(fake)})
