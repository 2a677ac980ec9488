"""Task lists as a stage artifact: `generate` writes OUT/tasks.jsonl, `run`/`generate --task-file` read one."""

from __future__ import annotations

import json

import pytest

from turnloom.core.cli import main
from turnloom.core.storage.snapshot import load_session

OWN = {
    "goal": "Find a cheap flight to Rome",
    "subtasks": ["search flights", {"description": "book it"}],
    "rubric": ["x"],
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def make_batch(tmp_path, n=3, tasks=2):
    out = tmp_path / "made"
    assert (
        main(
            [
                "generate",
                "--quiet",
                "--domain",
                "retail",
                "--n",
                str(n),
                "--tasks",
                str(tasks),
                "--out",
                str(out),
                "--workers",
                "1",
            ]
        )
        == 0
    )
    return out


def test_generate_writes_its_task_list_and_run_replays_those_tasks(tmp_path):
    out = make_batch(tmp_path)
    lines = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    assert [line["seed"] for line in lines] == [0, 0, 1, 1, 2, 2]
    made = [load_session(p) for p in sorted(out.glob("seed-*.session.json"))]
    assert [line["goal"] for line in lines] == [t.goal for s in made for t in s.tasks]
    assert all(line["difficulty"] in ("easy", "medium", "hard") and line["subtasks"] for line in lines)
    session_file = tmp_path / "again.session.json"
    task_file = str(out / "tasks.jsonl")
    assert (
        main(
            [
                "run",
                "--quiet",
                "--domain",
                "retail",
                "--task-file",
                task_file,
                "--tasks",
                "3",
                "--out",
                str(session_file),
            ]
        )
        == 0
    )
    session = load_session(session_file)
    assert [t.goal for t in session.tasks] == [line["goal"] for line in lines[:3]]
    assert session.config.tasks == 3 and len(session.config.planned_tasks) == 3


def test_a_batch_takes_its_tasks_from_the_list_in_turn_and_pins_the_file(tmp_path, capsys):
    task_file = make_batch(tmp_path, n=2, tasks=2) / "tasks.jsonl"
    goals = [json.loads(line)["goal"] for line in task_file.read_text().splitlines()]
    out = tmp_path / "planned"
    args = [
        "generate",
        "--quiet",
        "--domain",
        "retail",
        "--task-file",
        str(task_file),
        "--tasks",
        "1",
        "--out",
        str(out),
    ]
    assert main([*args, "--n", "3", "--workers", "1"]) == 0
    sessions = sorted((load_session(p) for p in out.glob("seed-*.session.json")), key=lambda s: s.config.seed)
    assert [s.tasks[0].goal for s in sessions] == [goals[0], goals[1], goals[2]]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["task_file"] == str(task_file.resolve()) and manifest["config"]["task_file_sha256"]
    task_file.write_text(task_file.read_text().replace("You are", "You're", 1))
    capsys.readouterr()
    assert main([*args, "--n", "4", "--workers", "1"]) == 2
    assert "task_file_sha256" in capsys.readouterr().err


def test_ones_own_tasks_need_the_user_role_on_a_profile(tmp_path, capsys):
    own = tmp_path / "own.jsonl"
    own.write_text(json.dumps(OWN) + "\n")
    assert main(["run", "--quiet", "--task-file", str(own), "--out", str(tmp_path / "x.session.json")]) == 2
    assert "task 1, subtask 1: intent 'llm'" in capsys.readouterr().err
    assert main(["generate", "--quiet", "--task-file", str(own), "--n", "1", "--out", str(tmp_path / "b")]) == 2
    assert "--role user=PROFILE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (json.dumps(OWN) + "\n{nope\n", "line 2 is not JSON"),
        (json.dumps({**OWN, "difficulty": "extreme"}), "line 1: field 'difficulty'"),
        (json.dumps({**OWN, "subtasks": []}), "field 'subtasks'"),
        (json.dumps({"subtasks": ["a"]}), "field 'goal'"),
        (json.dumps([OWN, {**OWN, "rubric": "one"}]), "tasks[1]: field 'rubric'"),
        (json.dumps({**OWN, "colour": "red"}), "field 'colour'"),
        ("", "no task"),
    ],
)
def test_a_broken_task_list_is_named_by_file_line_and_field(tmp_path, capsys, content, named):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    assert main(["run", "--quiet", "--task-file", str(bad), "--out", str(tmp_path / "x.session.json")]) == 2
    error = capsys.readouterr().err
    assert str(bad) in error and named in error
