"""Fixtures for backend tests: a real fake OpenAI server on 127.0.0.1 and profiles pointing at it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from backend_support import KEY_ENV, KEY_VALUE, quick_profile  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402

from turnloom.core.config import TurnloomConfig


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY_VALUE)
    return KEY_VALUE


@pytest.fixture
def config(fake, key) -> TurnloomConfig:
    return TurnloomConfig(profiles={"fake": quick_profile(fake)})
