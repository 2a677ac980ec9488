"""`turnloom review DIR`: --list with filters and sort, --label / --unlabel, and the hand-off to the review view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _review_helpers import generated_folder, spoil

from turnloom.core.cli import main
from turnloom.core.review.index import INDEX_NAME, load_index
from turnloom.core.storage.snapshot import load_session


@pytest.fixture
def folder(tmp_path_factory, tmp_path) -> Path:
    return generated_folder(tmp_path_factory.getbasetemp() / "review-made", tmp_path / "batch")


def _listed(folder: Path, capsys, *options: str) -> list[dict]:
    assert main(["review", str(folder), "--list", "--json", *options]) == 0
    return json.loads(capsys.readouterr().out)["rows"]


def test_list_prints_every_session_with_verdict_label_and_a_progress_line(folder, capsys):
    rows = load_index(folder)
    spoil(folder / rows[0].path)
    assert main(["review", str(folder), "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(rows) + 1
    assert lines[0].startswith(rows[0].path) and "REJECTED [feedback]" in lines[0] and "label -" in lines[0]
    assert f"{rows[1].messages} msgs  tasks {rows[1].tasks_done}/{rows[1].tasks}  accepted" in lines[1]
    assert (
        lines[-1]
        == f"{len(rows)} of {len(rows)} session(s) shown · labelled 0/{len(rows)} (keep 0, drop 0, needs-fix 0)"
    )


def test_list_filters_and_sorts_as_the_review_view_does(folder, capsys):
    rows = load_index(folder)
    spoil(folder / rows[2].path)
    assert [r["path"] for r in _listed(folder, capsys, "--rejected")] == [rows[2].path]
    assert [r["path"] for r in _listed(folder, capsys, "--check", "feedback")] == [rows[2].path]
    assert _listed(folder, capsys, "--domain", "airline") == []
    by_length = _listed(folder, capsys, "--sort", "messages", "--reverse")
    assert [r["messages"] for r in by_length] == sorted((r.messages for r in rows), reverse=True)
    assert [r["path"] for r in _listed(folder, capsys, "--search", "not QUITE what i asked")] == [rows[2].path]
    assert main(["review", str(folder), "--label", rows[0].session_id, "drop"]) == 0
    capsys.readouterr()
    assert [r["path"] for r in _listed(folder, capsys, "--labelled", "drop")] == [rows[0].path]
    assert rows[0].path not in [r["path"] for r in _listed(folder, capsys, "--unlabelled")]


def test_label_by_id_prefix_or_file_saves_it_with_reason_and_tags(folder, capsys):
    rows = load_index(folder)
    assert (
        main(
            [
                "review",
                str(folder),
                "--label",
                rows[0].session_id[:6],
                "keep",
                "--reason",
                "clean",
                "--tag",
                "a",
                "--tag",
                "b",
            ]
        )
        == 0
    )
    assert (
        f"{rows[0].path} ({rows[0].session_id}): labelled keep · 1/{len(rows)} session(s) labelled"
        in capsys.readouterr().out
    )
    label = load_session(folder / rows[0].path).label
    assert (label.kind, label.reason, label.tags) == ("keep", "clean", ["a", "b"])
    assert main(["review", str(folder), "--label", str(folder / rows[1].path), "needs-fix"]) == 0
    assert main(["review", str(folder), "--label", rows[2].path, "drop"]) == 0
    assert load_session(folder / rows[1].path).label.kind == "needs-fix"
    assert main(["review", str(folder), "--unlabel", rows[2].session_id]) == 0
    assert load_session(folder / rows[2].path).label is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--label", "nosuch", "keep"], "no session 'nosuch' in"),
        (["--label", "{first}", "bin"], "KIND is one of keep, drop, needs-fix"),
        (["--reason", "why"], "--reason and --tag only go with --label"),
        (["--rejected"], "--rejected only go with --list"),
        (["--label", "{first}", "keep", "--domain", "x"], "--domain only go with --list"),
        ([], "the review view opens in the workbench"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(folder, capsys, argv, message):
    first = load_index(folder)[0].session_id
    assert main(["review", str(folder), *(a.format(first=first) for a in argv)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_missing_folder_or_one_with_no_sessions_is_named(tmp_path, capsys):
    assert main(["review", str(tmp_path / "nowhere"), "--list"]) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err
    assert main(["review", str(tmp_path), "--list"]) == 2
    assert "no *.session.json or *.session.toml files in" in capsys.readouterr().err


def test_with_neither_list_nor_label_the_folder_goes_to_the_review_view(folder):
    opened: list[Path] = []

    def open_review(path: Path) -> int:
        opened.append(path)
        return 7

    assert main(["review", str(folder)], open_review=open_review) == 7
    assert opened == [folder]
    assert main(["review", str(folder), "--list"], open_review=open_review) == 0 and opened == [folder]


def test_labelling_a_file_needs_no_index_and_an_id_builds_it(folder, capsys):
    paths = sorted(p.name for p in folder.glob("*.session.json"))
    assert main(["review", str(folder), "--label", paths[0], "keep"]) == 0
    assert capsys.readouterr().out.strip().endswith(": labelled keep")  # no count: no index to count from
    assert not (folder / INDEX_NAME).exists() and load_session(folder / paths[0]).label.kind == "keep"
    second = load_session(folder / paths[1]).id
    assert main(["review", str(folder), "--label", second, "drop"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"labelled drop · 2/{len(paths)} session(s) labelled")
