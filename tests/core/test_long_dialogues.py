"""Dialogues of the paper's length (its longest reach 780 messages): the default cap is 1,000."""

from __future__ import annotations

import pytest

from turnloom.core.cli import main
from turnloom.core.models import FinishReason, Role
from turnloom.core.storage.snapshot import load_session


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_run_without_a_cap_goes_on_to_a_thousand_messages(tmp_path):
    out = tmp_path / "long.session.json"
    assert main(["run", "--quiet", "--domain", "retail", "--tasks", "500", "--out", str(out)]) == 0
    session = load_session(out)
    # the cap stops the dialogue at 1,000, but never between a step's calls and their results
    over = session.messages[1000:]
    assert len(session.messages) >= 1000 and all(m.role is Role.TOOL for m in over)
    assert session.finish_reason is FinishReason.MAX_MESSAGES
    assert session.config.max_messages == 1000


def test_generate_keeps_a_thousand_message_dialogue_and_judges_it(tmp_path):
    folder = tmp_path / "batch"
    assert main(["generate", "--quiet", "--domain", "clinic", "--n", "1", "--tasks", "500", "--out", str(folder)]) == 0
    session = load_session(next(folder.glob("seed-*.session.json")))
    assert len(session.messages) >= 1000
    assert session.verdict is not None
