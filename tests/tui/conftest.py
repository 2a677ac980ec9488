"""Fixtures for the TUI tests: an app built by the CLI's own factory on a temporary sessions folder."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tui_support import FAKE_KEY, FAKE_KEY_ENV  # noqa: E402

from turnloom.core.config import TurnloomConfig
from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.tui.app import TurnloomApp, build_app


@pytest.fixture
def sessions_dir(tmp_path: Path) -> Path:
    return tmp_path / "sessions"


@pytest.fixture
def make_app(sessions_dir: Path, tmp_path: Path) -> Callable[..., TurnloomApp]:
    def factory(
        workbench: LiveSession | None = None, theme_dirs: list[Path] | None = None, **config: object
    ) -> TurnloomApp:
        cfg = TurnloomConfig(sessions_dir=str(sessions_dir), **config)
        bench = workbench or LiveSession.new(sessions_dir, domain="retail", seed=1)
        app = build_app(cfg, bench, theme_dirs=theme_dirs if theme_dirs is not None else [tmp_path / "no-user-themes"])
        return app

    return factory


BACKEND_TESTS = Path(__file__).resolve().parents[1] / "backends"


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch):
    """The backend tests' fake OpenAI-compatible server on 127.0.0.1, with its key in the environment."""
    if str(BACKEND_TESTS) not in sys.path:
        sys.path.insert(0, str(BACKEND_TESTS))
    from fake_openai import FakeOpenAI

    monkeypatch.setenv(FAKE_KEY_ENV, FAKE_KEY)
    with FakeOpenAI() as server:
        yield server
