"""Fixtures for the TUI tests: an app built by the CLI's own factory on a temporary sessions folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from turnloom.core.config import TurnloomConfig
from turnloom.tui.app import TurnloomApp, build_app
from turnloom.tui.workbench import Workbench


@pytest.fixture
def sessions_dir(tmp_path: Path) -> Path:
    return tmp_path / "sessions"


@pytest.fixture
def make_app(sessions_dir: Path, tmp_path: Path) -> Callable[..., TurnloomApp]:
    def factory(workbench: Workbench | None = None, theme_dirs: list[Path] | None = None, **config: object) -> TurnloomApp:
        cfg = TurnloomConfig(sessions_dir=str(sessions_dir), **config)
        bench = workbench or Workbench.new(sessions_dir, domain="retail", seed=1)
        app = build_app(cfg, bench, theme_dirs=theme_dirs if theme_dirs is not None else [tmp_path / "no-user-themes"])
        return app

    return factory


