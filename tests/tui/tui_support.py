"""Names the TUI tests import (conftest modules cannot be imported by name when
several test folders each have one)."""

from __future__ import annotations

FAKE_KEY_ENV = "TURNLOOM_TUI_TEST_KEY"
FAKE_KEY = "sk-tui-test-5e4d3c2b1a-never-on-disk"
