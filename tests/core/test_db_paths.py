"""Issue 16: a session made with `--db` names its database relative to the session file, so the folder can
move and the session still replays, verifies and continues from any working folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from turnloom.core.cli import main
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.storage.journal import compact
from turnloom.core.storage.snapshot import load_session, read_text, save_session


@pytest.fixture
def project(tmp_path: Path, sql_shop_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    shutil.copy(sql_shop_path, folder / "data" / "shop.sqlite")
    return folder


@pytest.mark.parametrize("suffix", [".session.json", ".session.toml"])
def test_a_relative_db_is_saved_relative_to_the_session_and_replays_after_the_folder_moves(
    project: Path, tmp_path: Path, monkeypatch, capsys, suffix: str
) -> None:
    monkeypatch.chdir(project)
    out = Path("sessions") / f"a{suffix}"
    assert main(["run", "--db", "data/shop.sqlite", "--seed", "2", "--tasks", "2", "--quiet", "--out", str(out)]) == 0
    assert '"../data/shop.sqlite"' in read_text(project / out)
    moved = tmp_path / "moved"
    project.rename(moved)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    session = load_session(moved / out)
    assert session.db_path == str((moved / "data" / "shop.sqlite").resolve())
    capsys.readouterr()
    assert main(["replay", str(moved / out), "--verify"]) == 0
    captured = capsys.readouterr()
    assert "all match" in captured.out and "warning" not in captured.err
    assert main(["run", "--from", str(moved / out), "--tasks", "1", "--quiet", "--out", "c.session.json"]) == 0
    assert load_session(elsewhere / "c.session.json").db_path == session.db_path


def test_a_database_far_from_the_session_keeps_its_absolute_path(tmp_path: Path, sql_shop_path: Path) -> None:
    session = create_session(db_path=sql_shop_path, seed=1)
    deep = tmp_path / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    save_session(session, deep / "s.session.json")
    assert f'"{session.db_path}"' in read_text(deep / "s.session.json")
    save_session(session, tmp_path / "s.session.json")  # beside it: relative
    assert '"./shop.sqlite"' in read_text(tmp_path / "s.session.json")
    assert load_session(tmp_path / "s.session.json") == session


def test_a_compacted_journal_names_the_database_relative_too(tmp_path: Path, sql_shop_path: Path) -> None:
    session = create_session(db_path=sql_shop_path, seed=1)
    (tmp_path / "sessions").mkdir()
    snapshot = tmp_path / "sessions" / "live.session.json"
    compact(snapshot, session)
    assert '"../shop.sqlite"' in read_text(snapshot)
    assert load_session(snapshot).db_path == session.db_path
