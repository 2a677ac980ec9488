"""Session files written before the layout change (schema 1, made by commit 8bb64b2) still load, replay and continue."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from turnloom.core.cli import main
from turnloom.core.models import SCHEMA_VERSION, FinishReason, Role
from turnloom.core.quality.tool_replay import verify_session
from turnloom.core.storage.snapshot import load_session

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "schema_1"
OLD = sorted(FIXTURES.glob("*.session.*"))


def test_the_fixtures_are_schema_1_in_both_formats() -> None:
    assert {p.suffix for p in OLD} == {".json", ".toml"}
    for path in OLD:
        assert "schema_version = 1" in path.read_text() or '"schema_version": 1' in path.read_text()


@pytest.mark.parametrize("path", OLD, ids=[p.name for p in OLD])
def test_an_old_session_loads_and_replays_exactly(path: Path) -> None:
    session = load_session(path)
    assert session.schema_version == SCHEMA_VERSION
    assert session.finish_reason is FinishReason.USER_DONE
    assert verify_session(session).ok
    users = [m for m in session.messages if m.role is Role.USER]
    assert users[-1].meta.goal_done and sum(m.meta.task_done for m in users) == len(session.tasks)
    assert all(not m.meta.extra for m in session.messages)  # every schema-1 key found its typed field


def test_an_old_change_of_mind_reads_as_typed_notes() -> None:
    session = load_session(FIXTURES / "retail-change-of-mind.session.json")
    notes = [m.meta.notes for m in session.messages if m.meta.notes is not None]
    assert any(n.revise and "new_city" in n.revised for n in notes)
    assert any(n.verify for n in notes)


@pytest.mark.parametrize("path", OLD, ids=[p.name for p in OLD])
def test_an_old_session_continues_with_one_more_task(path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    before = load_session(copy)
    out = tmp_path / ("continued" + "".join(path.suffixes))
    assert main(["run", "--quiet", "--from", str(copy), "--out", str(out)]) == 0
    after = load_session(out)
    assert after.finish_reason is FinishReason.USER_DONE
    assert len(after.tasks) == len(before.tasks) + 1
    assert [m.content for m in after.messages[: len(before.messages)]] == [m.content for m in before.messages]
    assert verify_session(after).ok
    assert copy.read_bytes() == path.read_bytes()  # the old file is left as it was
