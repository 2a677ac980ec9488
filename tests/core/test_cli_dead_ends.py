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


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"turnloom {version('turnloom')}"


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["rnu"], "did you mean run?"),
        (["run", "--seeed", "3"], "did you mean --seed?"),
        (["run", "--mode", "task"], "did you mean task-oriented?"),
    ],
)
def test_a_usage_error_is_one_line_with_a_suggestion(capsys, argv, suggestion):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("turnloom") and suggestion in error and "--help" in error


def test_no_color_and_color_never_print_no_escape_codes_even_on_a_terminal(tmp_path, monkeypatch):
    import io

    from turnloom.core.cli.render import console

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for env, flag in (({"NO_COLOR": "1"}, None), ({}, "never")):
        monkeypatch.delenv("TURNLOOM_COLOR", raising=False)
        monkeypatch.delenv("NO_COLOR", raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        if flag:
            main(["--color", flag, "domains", "--json"])
        out = Terminal()
        console(out).print("styled", style="bold red")
        assert "\x1b[" not in out.getvalue() and "styled" in out.getvalue()
    monkeypatch.setenv("TURNLOOM_COLOR", "always")
    piped = io.StringIO()
    console(piped).print("styled", style="bold red")
    assert "\x1b[" in piped.getvalue()


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: p.mkdir() or p, "is a folder"),
        (lambda p: p.with_suffix(".jsonl"), "turnloom run --from"),
        (lambda p: p.with_name("notes.txt"), "not a session file"),
        (lambda p: p.with_name("gone.session.json"), "no such file"),
    ],
)
def test_one_rule_for_session_paths_names_what_to_give(tmp_path, capsys, make, said):
    path = make(tmp_path / "some")
    if path.suffix == ".txt":
        path.write_text("hello")
    for command in (["replay", str(path)], ["fork", str(path), "--at", "0", "--out", str(tmp_path / "f.session.json")]):
        assert main(command) == 2
        error = capsys.readouterr().err
        assert said in error and "(no suffix)" not in error


def test_a_session_is_named_by_its_journal_too(tmp_path, capsys):
    out = tmp_path / "a.session.json"
    main(["run", "--quiet", "--tasks", "1", "--out", str(out)])
    (tmp_path / "a.session.journal").write_text("")  # an empty journal beside the snapshot
    assert main(["replay", str(tmp_path / "a.session.journal")]) == 0
    assert "user_done" in capsys.readouterr().out
