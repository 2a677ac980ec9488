"""The review index: rows of a generated folder, cached beside the manifest, rebuilt only where files changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _review_helpers import generated_folder, spoil, stored_rows

from turnloom.core.errors import SessionFileError
from turnloom.core.review import index as review_index
from turnloom.core.review.index import INDEX_NAME, load_index, refresh_row
from turnloom.core.storage.journal import Journal
from turnloom.core.storage.session_folder import find_sessions
from turnloom.core.storage.snapshot import load_session, save_session


@pytest.fixture
def folder(tmp_path_factory, tmp_path) -> Path:
    return generated_folder(tmp_path_factory.getbasetemp() / "review-made", tmp_path / "batch")


def _with_first_row(text: str, **values: object) -> str:
    data = json.loads(text)
    fields = data["header"]["fields"]
    for name, value in values.items():
        data["rows"][0][fields.index(name)] = value
    return json.dumps(data)


def _count_reads(monkeypatch) -> list[str]:
    """The paths rows are built for (by reading the session), recorded."""
    built: list[str] = []
    real = review_index.row_for

    def recording(relpath, session, stamp, max_messages=review_index.MAX_MESSAGES):
        built.append(relpath)
        return real(relpath, session, stamp, max_messages)

    monkeypatch.setattr(review_index, "row_for", recording)
    return built


def test_every_session_of_a_generated_folder_gets_a_row_and_the_index_lands_beside_the_manifest(folder):
    rows = load_index(folder)
    assert [row.path for row in rows] == sorted(p.name for p in folder.glob("*.session.json"))
    assert (folder / INDEX_NAME).is_file() and (folder / "manifest.json").is_file()
    first = load_session(folder / rows[0].path)
    row = rows[0]
    assert row.session_id == first.id and row.domain == "retail" and row.mode == "user-oriented"
    assert row.execution == "sql" and row.messages == len(first.messages) and row.tasks == len(first.tasks)
    assert 0 < row.tasks_done <= row.tasks and row.accepted is True and row.failed_checks == ()
    assert row.label is None and row.problem is None
    user_first = next(m.content for m in first.messages if m.role == "user")
    assert row.title and user_first.startswith(row.title.rstrip("…"))
    assert row.size == (folder / row.path).stat().st_size


def test_a_warm_load_reads_no_session_and_a_changed_added_or_removed_file_is_all_it_reads(folder, monkeypatch):
    first = load_index(folder)
    built = _count_reads(monkeypatch)
    assert load_index(folder) == first and built == []
    spoiled = folder / first[1].path
    spoil(spoiled)
    os.utime(spoiled, ns=(first[1].mtime_ns + 10**9, first[1].mtime_ns + 10**9))
    (folder / first[2].path).unlink()
    (folder / "extra").mkdir()
    save_session(load_session(folder / first[3].path), folder / "extra" / "new.session.json")
    rows = load_index(folder)
    assert sorted(built) == ["extra/new.session.json", first[1].path]
    by_path = {row.path: row for row in rows}
    assert first[2].path not in by_path and "extra/new.session.json" in by_path
    assert by_path[first[1].path].accepted is False and by_path[first[1].path].failed_checks == ("feedback",)
    built.clear()
    assert load_index(folder) == rows and built == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated mid-write
        lambda text: "not json at all",
        lambda text: json.dumps({"header": json.loads(text)["header"], "rows": [[3]]}),
        lambda text: _with_first_row(text, messages="many"),
        lambda text: json.dumps({"header": {**json.loads(text)["header"], "checks": "0.0"}, "rows": []}),
        lambda text: "",
        lambda text: _with_first_row(text, size=True),
        lambda text: _with_first_row(text, tags=[1]),
    ],
    ids=["truncated", "garbage", "bad-row", "wrong-type", "older-checks", "empty", "bool-for-int", "tag-not-text"],
)
def test_a_malformed_or_outdated_index_is_rebuilt_not_trusted(folder, damage):
    rows = load_index(folder)
    index = folder / INDEX_NAME
    index.write_text(damage(index.read_text()))
    assert load_index(folder) == rows
    assert stored_rows(folder)[0]["path"] == rows[0].path


def test_a_malformed_session_file_is_a_row_that_says_so(folder):
    bad = folder / "broken.session.json"
    bad.write_text('{"schema_version": 2, "id": "x", "messa')
    rows = load_index(folder)
    row = next(row for row in rows if row.path == bad.name)
    assert row.problem and "broken.session.json" in row.problem and row.accepted is None
    assert row.title.startswith("cannot be read")
    assert len([r for r in rows if r.problem is None]) == 6


def test_refresh_row_reads_one_file_again_and_keeps_the_index_in_step(folder, monkeypatch):
    rows = load_index(folder)
    spoil(folder / rows[0].path)
    row = refresh_row(folder, rows[0].path)
    assert row.accepted is False and row.failed_checks == ("feedback",)
    built = _count_reads(monkeypatch)
    again = load_index(folder)
    assert again[0] == row and built == []


def test_refresh_row_refuses_a_path_outside_the_folder_and_drops_a_removed_file(folder):
    rows = load_index(folder)
    with pytest.raises(SessionFileError, match="not inside"):
        refresh_row(folder, "../elsewhere.session.json")
    (folder / rows[0].path).unlink()
    with pytest.raises(SessionFileError, match="no such session file"):
        refresh_row(folder, rows[0].path)
    assert rows[0].path not in [r["path"] for r in stored_rows(folder)]


def test_a_journal_beside_a_snapshot_counts_as_a_change(folder, monkeypatch):
    rows = load_index(folder)
    journal = (folder / rows[0].path).with_suffix(".journal")
    journal.write_text("")  # an empty journal: recovery reads nothing more, but the file changed
    built = _count_reads(monkeypatch)
    load_index(folder)
    assert built == [rows[0].path]


def test_a_missing_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(SessionFileError, match="no such folder"):
        load_index(tmp_path / "nowhere")


def test_progress_is_told_how_many_changed_files_are_read_and_silent_when_none_changed(folder):
    seen: list[tuple[int, int]] = []
    load_index(folder, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (6, 6) and [done for done, _ in seen] == sorted(done for done, _ in seen)
    seen.clear()
    load_index(folder, progress=lambda done, total: seen.append((done, total)))
    assert seen == []


def test_the_index_lists_the_files_stats_and_export_read(folder):
    rows = load_index(folder)
    (folder / "nested" / "deeper").mkdir(parents=True)
    save_session(load_session(folder / rows[0].path), folder / "nested" / "deeper" / "twin.session.toml")
    (folder / "linked.session.json").symlink_to(folder / rows[1].path)  # a link inside: skipped, as there
    crashed = load_session(folder / rows[2].path)
    Journal.open(folder / "nested" / "crashed.session.json", crashed).close()  # a journal, no snapshot yet
    (folder / "notes.json").write_text("{}")
    listed = [row.path for row in load_index(folder)]
    expected = sorted(path.relative_to(folder).as_posix() for path in find_sessions([folder]).paths)
    assert listed == expected and "nested/crashed.session.json" in listed
    assert "nested/deeper/twin.session.toml" in listed and "linked.session.json" not in listed
    crashed_row = next(row for row in load_index(folder) if row.path == "nested/crashed.session.json")
    assert crashed_row.session_id == crashed.id and crashed_row.problem is None
