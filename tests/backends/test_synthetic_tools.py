"""The paper's first variant with no database: seed tools from a file -> questions -> tools -> expansion ->
output schemas -> dialogues in simulated execution, all on the fake server."""

from __future__ import annotations

import json

import pytest
from backend_support import write_config

from turnloom.core.cli import main
from turnloom.core.storage.snapshot import load_session
from turnloom.core.tools.toolset import load_toolset

SEEDS = [
    {
        "type": "function",
        "function": {
            "name": "search_flights",
            "description": "Find flights between two airports.",
            "parameters": {"type": "object", "properties": {"origin": {"type": "string"}}},
        },
    },
    {"tools": [{"name": "reserve_hotel_room", "description": "Reserve a hotel room.", "parameters": {}}]},
]


@pytest.fixture
def workdir(fake, key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, fake)
    (tmp_path / "seeds.jsonl").write_text("\n".join(json.dumps(s) for s in SEEDS) + "\n")
    return tmp_path


def forge_synthetic(out) -> int:
    return main(
        ["forge", "--synthetic", "travel agency", "--seed-tools", "seeds.jsonl", "--profile", "fake"]
        + ["--questions", "3", "--out", str(out)]
    )


def test_forge_without_a_database_starts_its_questions_from_the_seed_tools(fake, workdir):
    out = workdir / "travel.tools.json"
    assert forge_synthetic(out) == 0
    toolset = load_toolset(out)
    assert toolset.synthetic and toolset.db is None and toolset.domain == "travel agency"
    assert toolset.execution == "simulated" and toolset.seed_tools == str(workdir / "seeds.jsonl")
    assert toolset.tools and all(t.output_schema for t in toolset.tools)
    asked = json.dumps(fake.requests_of("forge_questions")[0].body["messages"])
    assert "search_flights" in asked and "reserve_hotel_room" in asked and "travel agency" in asked


def test_run_and_generate_on_synthetic_tools_need_no_database(fake, workdir, capsys):
    tools = workdir / "travel.tools.json"
    assert forge_synthetic(tools) == 0
    out = workdir / "one.session.json"
    assert main(["run", "--tools", str(tools), "--profile", "fake", "--tasks", "1", "--quiet", "--out", str(out)]) == 0
    session = load_session(out)
    assert session.db_path is None and session.domain == "travel agency"
    assert session.finish_reason == "user_done"
    results = [m for m in session.messages if m.role == "tool"]
    assert results and all(not m.content.startswith('{"error"') for m in results)
    batch = workdir / "batch"
    args = ["generate", "--tools", str(tools), "--profile", "fake", "--n", "2", "--tasks", "1", "--quiet"]
    assert main([*args, "--out", str(batch)]) == 0
    assert len(list(batch.glob("seed-*.session.json"))) == 2


def test_a_seed_tools_file_replaces_the_introspected_seeds_of_a_database(fake, workdir):
    out = workdir / "retail.tools.json"
    args = ["forge", "--domain", "retail", "--execution", "simulated", "--seed-tools", "seeds.jsonl"]
    assert main([*args, "--profile", "fake", "--questions", "2", "--out", str(out)]) == 0
    asked = json.dumps(fake.requests_of("forge_questions")[0].body["messages"])
    assert "search_flights" in asked and "search_customers" not in asked
    assert not load_toolset(out).synthetic


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--synthetic", "travel", "--profile", "fake"], "needs --seed-tools"),
        (["--synthetic", "travel", "--seed-tools", "seeds.jsonl"], "needs the forge role on a profile"),
        (
            ["--synthetic", "travel", "--seed-tools", "seeds.jsonl", "--profile", "fake", "--execution", "sql"],
            "simulated",
        ),
        (["--domain", "retail", "--seed-tools", "seeds.jsonl", "--profile", "fake"], "--execution simulated"),
        (
            ["--synthetic", "travel", "--seed-tools", "missing.jsonl", "--profile", "fake"],
            "missing.jsonl: no such file",
        ),
    ],
)
def test_synthetic_forge_options_that_cannot_work_are_usage_errors(fake, workdir, capsys, extra, said):
    assert main(["forge", *extra, "--out", str(workdir / "x.json")]) == 2
    assert said in capsys.readouterr().err
    assert not fake.requests and not (workdir / "x.json").exists()


def test_the_question_stage_is_saved_and_a_stopped_forge_resumes_from_it(fake, workdir, capsys):
    out = workdir / "travel.tools.json"
    saved = workdir / "travel.tools.questions.json"
    fake.push({"status": 400, "body": {"error": {"message": "model overloaded"}}}, role="forge_tools")
    assert forge_synthetic(out) != 0
    assert f"--questions-file {saved}" in capsys.readouterr().err
    assert not out.exists()
    stored = json.loads(saved.read_text())
    assert stored["format"] == "turnloom-questions" and len(stored["questions"]) == 3
    asked_before = len(fake.requests_of("forge_questions"))
    args = ["forge", "--synthetic", "travel agency", "--questions-file", str(saved), "--profile", "fake"]
    assert main([*args, "--out", str(out)]) == 0
    assert len(fake.requests_of("forge_questions")) == asked_before  # the stage was not run again
    toolset = load_toolset(out)
    assert toolset.questions == stored["questions"] and toolset.tools
    assert saved.exists()  # the file it resumed from is left as it was


def test_ones_own_questions_replace_the_question_stage(fake, workdir):
    (workdir / "mine.txt").write_text(
        "Which flights leave Boston tomorrow?\n\nCan I move my hotel booking to Friday?\n"
    )
    out = workdir / "retail.tools.json"
    args = ["forge", "--domain", "retail", "--execution", "simulated", "--questions-file", "mine.txt"]
    assert main([*args, "--profile", "fake", "--out", str(out)]) == 0
    assert not fake.requests_of("forge_questions")
    assert load_toolset(out).questions == [
        "Which flights leave Boston tomorrow?",
        "Can I move my hotel booking to Friday?",
    ]
    assert len(fake.requests_of("forge_tools")) == 2


def test_ones_own_task_list_drives_a_dialogue_on_synthetic_tools(fake, workdir):
    tools = workdir / "travel.tools.json"
    assert forge_synthetic(tools) == 0
    own = workdir / "own.jsonl"
    task = {"goal": "Plan a weekend in Rome under 500 euros", "subtasks": ["find flights", "reserve a hotel"]}
    own.write_text(json.dumps({**task, "difficulty": "hard", "rubric": ["a hotel is reserved"]}) + "\n")
    out = workdir / "own.session.json"
    args = ["run", "--tools", str(tools), "--task-file", str(own), "--profile", "fake", "--quiet", "--out", str(out)]
    assert main(args) == 0
    session = load_session(out)
    assert [t.goal for t in session.tasks] == [task["goal"]] and session.tasks[0].rubric == ["a hotel is reserved"]
    assert not fake.requests_of("task")  # the list replaced the task generator
    assert any(task["goal"] in json.dumps(r.body["messages"]) for r in fake.requests_of("user"))


def test_a_batch_whose_forge_stopped_after_the_question_stage_resumes_from_its_questions(fake, workdir, capsys):
    folder = workdir / "batch"
    args = ["generate", "--domain", "retail", "--execution", "simulated", "--role", "forge=fake", "--tasks", "1"]
    args += ["--n", "1", "--workers", "1", "--quiet", "--out", str(folder)]
    fake.push({"status": 400, "body": {"error": {"message": "model overloaded"}}}, role="forge_tools")
    assert main(args) != 0
    saved = folder / "toolset.questions.json"
    assert len(json.loads(saved.read_text())["questions"]) >= 20
    assert not (folder / "toolset.json").exists()
    asked = len(fake.requests_of("forge_questions"))
    capsys.readouterr()
    assert main(args) == 0
    assert len(fake.requests_of("forge_questions")) == asked  # the question stage was not run again
    assert load_toolset(folder / "toolset.json").questions == json.loads(saved.read_text())["questions"]


def test_run_forges_its_tools_from_ones_own_questions_or_seed_tools(fake, workdir):
    (workdir / "mine.txt").write_text("Where is my order 12?\nCan I change the email on my account?\n")
    base = ["run", "--domain", "retail", "--execution", "simulated", "--tasks", "1", "--quiet"]
    out = workdir / "own.session.json"
    assert main([*base, "--role", "forge=fake", "--questions-file", "mine.txt", "--out", str(out)]) == 0
    assert not fake.requests_of("forge_questions") and len(fake.requests_of("forge_tools")) == 2
    assert all(t.output_schema for t in load_session(out).tools)
    assert not (workdir / "own.session.questions.json").exists()  # the tools are made: nothing to resume

    seeded = workdir / "seeded.session.json"
    assert main([*base, "--role", "forge=fake", "--seed-tools", "seeds.jsonl", "--out", str(seeded)]) == 0
    asked = json.dumps(fake.requests_of("forge_questions")[-1].body["messages"])
    assert "search_flights" in asked and "reserve_hotel_room" in asked


def test_a_run_whose_forge_failed_after_its_questions_says_how_to_start_from_them(fake, workdir, capsys):
    fake.push({"status": 400, "body": {"error": {"message": "model overloaded"}}}, role="forge_tools")
    out = workdir / "one.session.json"
    args = ["run", "--domain", "retail", "--execution", "simulated", "--tasks", "1", "--role", "forge=fake"]
    assert main([*args, "--quiet", "--out", str(out)]) != 0
    saved = workdir / "one.session.questions.json"
    assert f"add --questions-file {saved}" in capsys.readouterr().err
    asked = len(fake.requests_of("forge_questions"))
    assert main([*args, "--quiet", "--questions-file", str(saved), "--out", str(out)]) == 0
    assert len(fake.requests_of("forge_questions")) == asked  # started from the saved questions


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--role", "forge=offline", "--seed-tools", "seeds.jsonl"], "play the forge role on a profile"),
        (["--role", "forge=fake", "--execution", "sql", "--seed-tools", "seeds.jsonl"], "add --execution simulated"),
        (["--role", "forge=fake", "--questions-file", "missing.txt"], "missing.txt"),
        (["--role", "forge=fake", "--tools", "t.json", "--seed-tools", "seeds.jsonl"], "pass only one of them"),
        (["--from", "x.session.json", "--seed-tools", "seeds.jsonl"], "--seed-tools starts a new dialogue"),
    ],
)
def test_run_forge_inputs_that_cannot_work_are_usage_errors(fake, workdir, capsys, extra, said):
    (workdir / "t.json").write_text("{}")
    args = ["run", "--domain", "retail", "--tasks", "1", "--quiet", "--out", str(workdir / "x.session.json")]
    if "--execution" not in extra and "--from" not in extra:
        args += ["--execution", "simulated"]
    assert main([*args, *extra]) == 2
    assert said in capsys.readouterr().err
    assert not fake.requests


def test_generate_forges_the_batch_toolset_from_seed_tools_and_resumes_only_with_them(fake, workdir, capsys):
    args = ["generate", "--domain", "retail", "--execution", "simulated", "--role", "forge=fake", "--tasks", "1"]
    args += ["--n", "1", "--workers", "1", "--quiet", "--out", str(workdir / "batch")]
    assert main([*args, "--seed-tools", "seeds.jsonl"]) == 0
    asked = json.dumps(fake.requests_of("forge_questions")[0].body["messages"])
    assert "search_flights" in asked
    assert load_toolset(workdir / "batch" / "toolset.json").seed_tools == str(workdir / "seeds.jsonl")
    (workdir / "other.jsonl").write_text(json.dumps(SEEDS[0]) + "\n")
    capsys.readouterr()
    assert main([*args, "--seed-tools", "other.jsonl"]) == 2
    assert "forged from other seed tools" in capsys.readouterr().err
