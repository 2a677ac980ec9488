"""Issue 16: the command-line dead ends a curator met — each test is one that failed before its fix."""

from __future__ import annotations

import pytest

from turnloom.core.cli import main
from turnloom.core.storage.snapshot import load_session


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _rule_set_file(tmp_path, name, rules):
    path = tmp_path / f"{name}.ruleset.toml"
    listed = ", ".join(f'"{rule}"' for rule in rules)
    path.write_text(f'name = "{name}"\nrules = [{listed}]\n', encoding="utf-8")
    return path


def test_run_reads_a_rule_set_file_as_the_readme_shows(tmp_path):
    path = _rule_set_file(tmp_path, "mine", ["incremental_requests"])
    out = tmp_path / "a.session.json"
    assert main(["run", "--quiet", "--tasks", "1", "--rules", path.name, "--out", str(out)]) == 0
    session = load_session(out)
    assert [rule.id for rule in session.config.rules] == ["incremental_requests"]


def test_a_rule_set_file_naming_a_missing_rule_says_so(tmp_path, capsys):
    path = _rule_set_file(tmp_path, "bad", ["incremental_requests", "no_such_rule"])
    assert main(["run", "--quiet", "--rules", path.name]) == 2
    error = capsys.readouterr().err
    assert "no_such_rule" in error and "bad.ruleset.toml" in error and "unknown rule set" not in error


def test_generate_reads_a_rule_set_file(tmp_path):
    path = _rule_set_file(tmp_path, "mine", ["incremental_requests"])
    assert (
        main(["generate", "--quiet", "--n", "2", "--tasks", "1", "--workers", "1", "--rules", str(path), "--out", "b"])
        == 0
    )
    sessions = sorted((tmp_path / "b").glob("*.session.json"))
    assert len(sessions) == 2
    assert [rule.id for rule in load_session(sessions[0]).config.rules] == ["incremental_requests"]


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [("--domain", "retial", "retial"), ("--rules", "papr", "papr"), ("--db", "notdb.sqlite", "not a SQLite database")],
)
def test_generate_refuses_a_typo_before_making_the_folder_and_takes_the_fix(tmp_path, capsys, option, value, named):
    (tmp_path / "notdb.sqlite").write_text("hello")
    assert main(["generate", "--quiet", "--n", "1", "--tasks", "1", "--workers", "1", option, value, "--out", "b"]) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    assert main(["generate", "--quiet", "--n", "1", "--tasks", "1", "--workers", "1", "--out", "b"]) == 0


def _existing(tmp_path, name):
    path = tmp_path / name
    path.write_text("keep me\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["run", "--quiet", "--tasks", "1"], "a.session.json"),
        (["export", "--format", "openai"], "train.jsonl"),
        (["forge", "--domain", "retail"], "retail.tools.json"),
    ],
)
def test_every_command_keeps_an_existing_out_file_unless_forced(tmp_path, capsys, command, name):
    if command[0] == "export":
        main(["run", "--quiet", "--tasks", "1", "--out", str(tmp_path / "s.session.json")])
        command = [*command[:1], str(tmp_path / "s.session.json"), *command[1:]]
    out = _existing(tmp_path, name)
    assert main([*command, "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "keep me\n"
    assert main([*command, "--out", str(out), "--force"]) == 0
    assert out.read_text(encoding="utf-8") != "keep me\n"


def test_export_makes_the_out_folder_as_run_and_forge_do(tmp_path):
    session = tmp_path / "s.session.json"
    main(["run", "--quiet", "--tasks", "1", "--out", str(session)])
    assert main(["export", str(session), "--format", "openai", "--out", str(tmp_path / "new" / "t.jsonl")]) == 0
    assert (tmp_path / "new" / "t.jsonl").is_file()


def test_run_help_says_tasks_are_added_to_a_continued_session(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "with run --from, tasks to add" in " ".join(capsys.readouterr().out.split())
