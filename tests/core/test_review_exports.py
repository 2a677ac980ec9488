"""Exports and statistics read the curator's labels: a label overrides the verdict, and the counts say so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _review_helpers import generated_folder, spoil

from turnloom.core.cli import main
from turnloom.core.export import sources_path
from turnloom.core.models import SessionLabel
from turnloom.core.review.index import load_index
from turnloom.core.review.labels import set_label
from turnloom.core.storage.snapshot import load_session


@pytest.fixture
def labelled(tmp_path_factory, tmp_path) -> tuple[Path, list[str]]:
    """Six sessions: 0 rejected + keep, 1 accepted + drop, 2 accepted + needs-fix, 3 accepted + keep,
    4 rejected and unlabelled, 5 accepted and unlabelled. Returns the folder and the session ids in that order."""
    folder = generated_folder(tmp_path_factory.getbasetemp() / "review-made", tmp_path / "batch")
    paths = [row.path for row in load_index(folder)]
    spoil(folder / paths[0])
    spoil(folder / paths[4])
    set_label(folder, paths[0], SessionLabel(kind="keep", reason="the complaint is fair", tags=["feedback"]))
    set_label(folder, paths[1], SessionLabel(kind="drop", reason="too short"))
    set_label(folder, paths[2], SessionLabel(kind="needs-fix", reason="too short", tags=["feedback"]))
    set_label(folder, paths[3], SessionLabel(kind="keep"))
    return folder, [load_session(folder / p).id for p in paths]


def _export(folder: Path, capsys, *options: str) -> tuple[list[str], str]:
    out = folder.parent / "out.jsonl"
    assert main(["export", str(folder), "--format", "openai", "--out", str(out), "--force", *options]) == 0
    printed = capsys.readouterr().out
    sources = json.loads(sources_path(out).read_text())["records"]
    return [record["session"] for record in sources], printed


def test_only_valid_keeps_a_keep_labelled_rejected_dialogue_and_leaves_out_a_drop_labelled_accepted_one(
    labelled, capsys
):
    folder, ids = labelled
    written, printed = _export(folder, capsys, "--only-valid")
    assert sorted(written) == sorted([ids[0], ids[3], ids[5]])
    assert (
        "from 3 session(s): 2 kept by label, 1 accepted by gate; "
        "left out 1 labelled drop, 1 labelled needs-fix, 1 rejected by gate; skipped 1" in printed
    )
    assert f"skipped {ids[4]}: invalid: feedback:" in printed


def test_only_kept_writes_only_keep_labelled_sessions(labelled, capsys):
    folder, ids = labelled
    written, printed = _export(folder, capsys, "--only-kept")
    assert sorted(written) == sorted([ids[0], ids[3]])
    assert "from 2 session(s): 2 kept by label; left out 4 not labelled keep; skipped 0" in printed


def test_drop_labelled_leaves_out_each_kind_named_and_nothing_else(labelled, capsys):
    folder, ids = labelled
    written, printed = _export(folder, capsys, "--drop-labelled", "drop", "--drop-labelled", "needs-fix")
    assert sorted(written) == sorted([ids[0], ids[3], ids[4], ids[5]])
    assert "from 4 session(s): 2 kept by label, 2 not gated; left out 1 labelled drop, 1 labelled needs-fix" in printed
    written, _ = _export(folder, capsys)
    assert len(written) == 6  # no option: every session, labels or not


def test_drop_labelled_refuses_an_unknown_kind(labelled, capsys):
    folder, _ = labelled
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "export",
                str(folder),
                "--format",
                "openai",
                "--out",
                str(folder.parent / "x.jsonl"),
                "--drop-labelled",
                "bin",
            ]
        )
    assert exit_.value.code == 2
    assert "bin" in capsys.readouterr().err


def test_stats_counts_sessions_by_label_reason_and_tag_and_what_labels_keep(labelled, capsys):
    folder, _ = labelled
    assert main(["stats", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["acceptance"]["accepted"] == 4
    assert data["labels"] == {
        "by_label": {"keep": 2, "drop": 1, "needs-fix": 1, "unlabelled": 2},
        "by_reason": {
            "drop: too short": 1,
            "keep: (no reason)": 1,
            "keep: the complaint is fair": 1,
            "needs-fix: too short": 1,
        },
        "by_tag": {"feedback": 2},
        "kept": 3,
    }
    assert main(["stats", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "Labels: keep 2, drop 1, needs-fix 1, unlabelled 2; kept after labels 3/6" in text
    assert "needs-fix: too short" in text and "tags: feedback 2" in text
