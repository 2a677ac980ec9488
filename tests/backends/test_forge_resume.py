"""A forge stopped in its tools, expansion or output-schema stage resumes from what it made, and
`generate --questions-file` forges a batch's toolset from one's own questions; all on the fake server."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from backend_support import write_config
from fake_openai import FakeOpenAI

from turnloom.core.cli import main
from turnloom.core.tools.toolset import load_toolset

FAILURE = {"status": 400, "body": {"error": {"message": "model overloaded"}}}
STAGES = ("forge_questions", "forge_tools", "forge_expansion", "forge_schemas")


@pytest.fixture
def workdir(fake, key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, fake)
    return tmp_path


def asked(fake) -> dict[str, int]:
    return {stage: len(fake.requests_of(stage)) for stage in STAGES}


def forge(out, *extra: str) -> int:
    args = ["forge", "--domain", "retail", "--execution", "simulated", "--profile", "fake", "--questions", "3"]
    return main([*args, *extra, "--out", str(out)])


def same_toolset(left, right) -> bool:
    fields = ("questions", "tools", "dropped", "usage", "requests")
    return all(getattr(left, name) == getattr(right, name) for name in fields)


def test_a_forge_stopped_in_its_output_schema_stage_resumes_from_the_schemas_it_had(fake, workdir, capsys):
    assert forge(workdir / "straight.json") == 0
    fake.push({}, {}, FAILURE, role="forge_schemas")  # two schemas answered, the third refused
    out = workdir / "tools.json"
    assert forge(out) != 0
    saved, progress = workdir / "tools.questions.json", workdir / "tools.progress.json"
    said = capsys.readouterr().err
    assert f"--questions-file {saved}" in said and str(progress) in said
    stored = json.loads(progress.read_text())
    assert stored["answered"] == 3 and stored["expanded"] and len(stored["schema_replies"]) == 2
    before = asked(fake)

    assert forge(out, "--questions-file", str(saved)) == 0
    after = asked(fake)
    assert "resuming from" in capsys.readouterr().err
    assert after["forge_questions"] == before["forge_questions"]
    assert after["forge_tools"] == before["forge_tools"] and after["forge_expansion"] == before["forge_expansion"]
    toolset = load_toolset(out)
    assert after["forge_schemas"] - before["forge_schemas"] == len(toolset.tools) - 2
    assert same_toolset(toolset, load_toolset(workdir / "straight.json"))  # as if never stopped
    assert not progress.exists() and saved.exists()


def test_a_forge_stopped_in_its_expansion_stage_keeps_the_tools_it_made_for_each_question(fake, workdir):
    fake.push(FAILURE, role="forge_expansion")
    out = workdir / "tools.json"
    assert forge(out) != 0
    stored = json.loads((workdir / "tools.progress.json").read_text())
    assert stored["answered"] == 3 and not stored["expanded"] and stored["tools"]
    before = asked(fake)
    assert forge(out, "--questions-file", "tools.questions.json") == 0
    after = asked(fake)
    assert after["forge_tools"] == before["forge_tools"]
    assert after["forge_expansion"] == before["forge_expansion"] + 1


def test_a_forge_stopped_between_questions_resumes_at_the_next_question(fake, workdir):
    fake.push({}, FAILURE, role="forge_tools")
    out = workdir / "tools.json"
    assert forge(out) != 0
    assert json.loads((workdir / "tools.progress.json").read_text())["answered"] == 1
    before = asked(fake)
    assert forge(out, "--questions-file", "tools.questions.json") == 0
    assert asked(fake)["forge_tools"] == before["forge_tools"] + 2


def test_a_fresh_forge_does_not_resume_another_forges_progress(fake, workdir):
    fake.push(FAILURE, role="forge_expansion")
    out = workdir / "tools.json"
    assert forge(out) != 0
    before = asked(fake)
    assert forge(out) == 0  # no --questions-file: a new forge from the question stage on
    after = asked(fake)
    assert after["forge_questions"] == before["forge_questions"] + 1
    assert after["forge_tools"] == before["forge_tools"] + 3
    assert not (workdir / "tools.progress.json").exists()


def test_a_damaged_progress_file_is_named_with_what_to_do(fake, workdir, capsys):
    (workdir / "mine.txt").write_text("Where is my order?\n")
    (workdir / "tools.progress.json").write_text('{"format": "turnloom-forge-progress", "domain": 3}')
    assert forge(workdir / "tools.json", "--questions-file", "mine.txt") == 2
    err = capsys.readouterr().err
    assert "tools.progress.json" in err and "delete it" in err
    assert len(err.strip().splitlines()) == 1


def generate(folder, *extra: str) -> int:
    args = ["generate", "--domain", "retail", "--execution", "simulated", "--role", "forge=fake", "--tasks", "1"]
    return main([*args, "--n", "1", "--workers", "1", "--quiet", *extra, "--out", str(folder)])


def test_a_batch_whose_forge_stopped_in_its_output_schema_stage_resumes_there(fake, workdir):
    folder = workdir / "batch"
    fake.push({}, FAILURE, role="forge_schemas")
    assert generate(folder) != 0
    progress = folder / "toolset.progress.json"
    assert len(json.loads(progress.read_text())["schema_replies"]) == 1
    before = asked(fake)
    assert generate(folder) == 0
    after = asked(fake)
    assert after["forge_questions"] == before["forge_questions"] and after["forge_tools"] == before["forge_tools"]
    toolset = load_toolset(folder / "toolset.json")
    assert after["forge_schemas"] - before["forge_schemas"] == len(toolset.tools) - 1
    assert not progress.exists()


def test_generate_forges_the_batch_toolset_from_ones_own_questions(fake, workdir):
    own = workdir / "mine.txt"
    own.write_text("Where is my order 12?\nCan I change the email on my account?\n")
    folder = workdir / "batch"
    assert generate(folder, "--questions-file", str(own)) == 0
    assert not fake.requests_of("forge_questions") and len(fake.requests_of("forge_tools")) == 2
    assert load_toolset(folder / "toolset.json").questions == own.read_text().splitlines()
    assert not (folder / "toolset.questions.json").exists()  # nothing generated, nothing to save
    assert generate(folder, "--questions-file", str(own)) == 0  # the same questions: the batch resumes
    own.write_text("Which products are on sale?\n")
    assert generate(folder, "--questions-file", str(own)) == 2  # other questions: not the batch's toolset


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--role", "forge=offline"], "play the forge role on a profile"),
        (["--execution", "sql"], "add --execution simulated"),
        (["--tools", "t.json"], "pass only one of them"),
        (["--questions-file", "bad.jsonl"], "bad.jsonl: line 2"),
        (["--db-dir", "."], "with --db-dir each database's forge asks its own"),
    ],
)
def test_generate_questions_file_options_that_cannot_work_are_usage_errors(fake, workdir, capsys, extra, said):
    (workdir / "mine.txt").write_text("Where is my order?\n")
    (workdir / "bad.jsonl").write_text('"Where is my order?"\n{"text": "no question field"}\n')
    (workdir / "t.json").write_text("{}")
    args = ["generate", "--execution", "simulated", "--role", "forge=fake", "--n", "1", "--out", "batch"]
    if "--db-dir" in extra:
        args.remove("--execution")
        args.remove("simulated")
    given = extra if "--questions-file" in extra else [*extra, "--questions-file", "mine.txt"]
    code = main([*args, *given])
    assert code == 2
    assert said in capsys.readouterr().err
    assert not fake.requests


def test_a_forge_killed_mid_stage_resumes_from_the_last_request_it_saved(key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with FakeOpenAI(latency=0.05) as server:
        write_config(tmp_path, server)
        command = [sys.executable, "-m", "turnloom.core", "forge", "--domain", "retail", "--execution", "simulated"]
        command += ["--profile", "fake", "--questions", "6", "--out", "tools.json"]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        progress = tmp_path / "tools.progress.json"
        deadline = time.monotonic() + 60
        while not (progress.exists() and json.loads(progress.read_text())["answered"] >= 2):
            assert proc.poll() is None and time.monotonic() < deadline, "the forge saved no progress"
            time.sleep(0.01)
        proc.kill()
        proc.wait(timeout=30)
        answered = json.loads(progress.read_text())["answered"]  # written atomically: whole or not at all
        assert answered < 6, "the forge got past the tool stage before the kill"
        before = len(server.requests_of("forge_tools"))
        assert main([*command[3:], "--questions-file", "tools.questions.json"]) == 0
        assert len(server.requests_of("forge_tools")) - before == 6 - answered
    assert len(load_toolset(tmp_path / "tools.json").questions) == 6
