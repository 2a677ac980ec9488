"""Drive the real `turnloom` command in tmux as a curator would: step, override, save, quit, check the file.

Skipped where tmux is absent. The app runs in a detached tmux session of 120x40; keys go in
with `send-keys`, and the screen is read with `capture-pane`.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

MARK = "OPERATOR-E2E-MARK"


def _command() -> list[str]:
    script = Path(sys.executable).parent / "turnloom"
    return [str(script)] if script.exists() else [sys.executable, "-m", "turnloom.tui"]


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if condition(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"screen never matched; last screen:\n{text}")


@pytest.fixture
def tmux(tmp_path: Path):
    sessions = tmp_path / "sessions"
    config = tmp_path / "turnloom.toml"
    config.write_text(f'sessions_dir = "{sessions}"\n')
    name = f"turnloom-e2e-{uuid.uuid4().hex[:8]}"
    command = " ".join(shlex.quote(part) for part in [*_command(), "--config", str(config)])
    shell = f"cd {shlex.quote(str(tmp_path))} && TERM=xterm-256color {command}; echo TURNLOOM-EXITED; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", shell], check=True)
    # a running tmux server may impose its default size on new sessions: insist on 120x40
    subprocess.run(["tmux", "resize-window", "-t", name, "-x", "120", "-y", "40"], capture_output=True)
    try:
        yield Tmux(name), sessions
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_step_override_save_quit_in_a_real_terminal(tmux):
    term, sessions = tmux
    term.wait_for(lambda s: "Conversation" in s and "Tools" in s and "Rules" in s)
    for count in range(1, 4):
        term.keys("n")
        term.wait_for(lambda s, c=count: f"{c} msg{'' if c == 1 else 's'}" in s)
    # step on until it is the user's turn, then override it
    for _ in range(12):
        term.keys("o")
        screen = term.wait_for(lambda s: "Override user turn" in s or "turn; step" in s)
        if "Override user turn" in screen and "Commit" in screen:
            break
        term.keys("n")
        time.sleep(0.3)
    else:
        raise AssertionError("never reached a user turn")
    term.keys("End")
    term.keys("-l", f" {MARK}")
    term.wait_for(lambda s: MARK in s)
    term.keys("C-s")
    term.wait_for(lambda s: "operator" in s and "Commit (ctrl+s)" not in s)
    term.keys("n")
    time.sleep(0.5)
    term.keys("C-s")
    term.wait_for(lambda s: "Saved" in s)
    term.keys("q")
    term.wait_for(lambda s: "TURNLOOM-EXITED" in s)
    files = list(sessions.glob("*.session.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text())
    operator = [m for m in data["messages"] if m["meta"]["provenance"] == "operator"]
    assert len(operator) == 1 and operator[0]["role"] == "user" and operator[0]["content"].endswith(MARK)
    assert data["messages"][-1]["role"] == "assistant"  # the dialogue carried on after the override
    assert not files[0].with_suffix(".journal").exists()
