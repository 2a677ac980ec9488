"""Labels: saved in the session file, the index row in step, the verdict judged again only when the session changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _review_helpers import generated_folder, spoil, stored_rows

from turnloom.core.errors import SessionFileError
from turnloom.core.models import ChatMessage, Role, SessionLabel
from turnloom.core.quality.verdict import current_verdict, session_digest
from turnloom.core.review.index import load_index
from turnloom.core.review.labels import label_counts, set_label
from turnloom.core.storage.journal import Journal, journal_path
from turnloom.core.storage.snapshot import load_session, save_session


@pytest.fixture
def folder(tmp_path_factory, tmp_path) -> Path:
    return generated_folder(tmp_path_factory.getbasetemp() / "review-made", tmp_path / "batch")


def test_a_label_is_saved_in_the_session_file_and_its_row(folder):
    rows = load_index(folder)
    label = SessionLabel(kind="drop", reason="asks twice", tags=["loop", "retail"])
    row = set_label(folder, rows[0].path, label)
    assert (row.label, row.reason, row.tags) == ("drop", "asks twice", ("loop", "retail"))
    assert load_session(folder / rows[0].path).label == label
    stored = stored_rows(folder)[0]
    assert stored["label"] == "drop" and stored["tags"] == ["loop", "retail"]
    assert load_index(folder)[0] == row
    cleared = set_label(folder, rows[0].path, None)
    assert cleared.label is None and load_session(folder / rows[0].path).label is None


def test_labelling_leaves_the_verdict_current_the_label_is_not_judged(folder):
    rows = load_index(folder)
    before = load_session(folder / rows[0].path)
    set_label(folder, rows[0].path, SessionLabel(kind="keep"))
    after = load_session(folder / rows[0].path)
    assert session_digest(after) == session_digest(before)
    assert current_verdict(after) == before.verdict  # not judged again (a rubric judge's ruling is kept)


def test_a_session_fixed_then_labelled_is_judged_again_and_stats_and_export_agree(folder, capsys):
    from turnloom.core.cli import main

    rows = load_index(folder)
    spoiled = spoil(folder / rows[0].path)
    assert spoiled.verdict is not None and spoiled.verdict.accepted  # the stored verdict is stale
    row = set_label(folder, rows[0].path, SessionLabel(kind="needs-fix", reason="complains"))
    assert row.accepted is False and row.failed_checks == ("feedback",)
    saved = load_session(folder / rows[0].path)
    assert current_verdict(saved) is not None and saved.verdict.accepted is False
    assert main(["stats", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["acceptance"]["accepted"] == len(rows) - 1
    out = folder.parent / "valid.jsonl"
    assert main(["export", str(folder), "--format", "openai", "--out", str(out), "--only-valid"]) == 0
    assert len(out.read_text().splitlines()) == len(rows) - 1


def test_a_journal_is_folded_in_and_a_toml_session_stays_toml(folder):
    rows = load_index(folder)
    session = load_session(folder / rows[0].path)
    with Journal.open(folder / rows[0].path, session) as journal:
        journal.record_message(len(session.messages), ChatMessage(role=Role.USER, content="Also, one more thing."))
    row = set_label(folder, rows[0].path, SessionLabel(kind="needs-fix"))
    assert not journal_path(folder / rows[0].path).exists()
    assert load_session(folder / rows[0].path).messages[-1].content == "Also, one more thing."
    assert row.messages == len(session.messages) + 1
    toml = folder / "twin.session.toml"
    save_session(load_session(folder / rows[1].path), toml)
    set_label(folder, toml.name, SessionLabel(kind="keep", reason="fine", tags=["a"]))
    assert toml.read_text().count("[label]") == 1
    assert load_session(toml).label == SessionLabel(
        kind="keep", reason="fine", tags=["a"], at=load_session(toml).label.at
    )


def test_set_label_refuses_what_is_not_a_session_inside_the_folder(folder):
    load_index(folder)
    with pytest.raises(SessionFileError, match="not inside"):
        set_label(folder, "../x.session.json", SessionLabel(kind="keep"))
    with pytest.raises(SessionFileError, match="not a session file"):
        set_label(folder, "manifest.json", SessionLabel(kind="keep"))
    with pytest.raises(SessionFileError, match="no such session file"):
        set_label(folder, "gone.session.json", SessionLabel(kind="keep"))


def test_label_counts_tally_each_kind_and_the_progress(folder):
    rows = load_index(folder)
    set_label(folder, rows[0].path, SessionLabel(kind="keep"))
    set_label(folder, rows[1].path, SessionLabel(kind="keep"))
    set_label(folder, rows[2].path, SessionLabel(kind="drop"))
    (folder / "broken.session.json").write_text("{")
    counts = label_counts(load_index(folder))
    assert counts == {"keep": 2, "drop": 1, "needs-fix": 0, "unlabelled": 3, "labelled": 3, "total": 7}


def test_a_labelled_row_still_knows_where_its_messages_are_for_the_search(folder):
    rows = load_index(folder)
    row = set_label(folder, rows[0].path, SessionLabel(kind="keep"))
    data = (folder / rows[0].path).read_bytes()
    assert row.messages_to > row.messages_from > 0 and data[row.messages_from : row.messages_from + 1] == b"["
    assert load_index(folder)[0] == row
