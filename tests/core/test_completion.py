"""Issue 16: shell completion — the real `turnloom` answering argcomplete's protocol, and the scripts in real shells.

Each completion runs `turnloom` in a subprocess as a shell does on TAB (`_ARGCOMPLETE`, `COMP_LINE`,
`COMP_POINT`), in a folder with its own turnloom.toml, rule set and session files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from turnloom.core.cli import COMMANDS, build_parser, main
from turnloom.core.domains import pack_names

BIN = Path(sys.executable).parent  # the venv's bin: `turnloom` lives beside its python


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "turnloom.toml").write_text(
        '[profiles.vllm]\nbase_url = "http://127.0.0.1:8000/v1"\nmodel = "m"\n\n'
        '[profiles.lab]\nbase_url = "http://127.0.0.1:8001/v1"\nmodel = "m"\n',
        encoding="utf-8",
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "terse.ruleset.toml").write_text(
        'name = "terse"\nrules = ["incremental_requests"]\n', encoding="utf-8"
    )
    (tmp_path / "mine.ruleset.toml").write_text('name = "mine"\nrules = []\n', encoding="utf-8")
    for name in ("a.session.json", "b.session.toml", "c.session.journal", "notes.txt", "shop.sqlite", "t.jsonl"):
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "batch").mkdir()
    return tmp_path


def complete(folder: Path, line: str, shell: str = "bash") -> list[str]:
    """What `turnloom` answers when a shell asks to complete `line` (cursor at its end)."""
    out = folder / ".completions"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_SHELL": shell,
        "_ARGCOMPLETE_IFS": "\n",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("TURNLOOM_CONFIG", None)
    done = subprocess.run(
        [str(BIN / "turnloom")], cwd=folder, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    return [word.strip() for word in text.split("\n") if word.strip()]


def test_completion_prints_a_script_for_each_shell(capsys) -> None:
    expected = {"bash": "complete -o", "zsh": "compdef _python_argcomplete turnloom", "fish": "--command turnloom"}
    for shell, marker in expected.items():
        assert main(["completion", shell]) == 0
        assert marker in capsys.readouterr().out
    with pytest.raises(SystemExit) as caught:
        main(["completion", "tcsh"])
    assert caught.value.code == 2


def test_every_subcommand_and_session_file_completes_at_the_first_word(folder: Path) -> None:
    words = complete(folder, "turnloom ")
    assert set(COMMANDS) <= set(words)  # read from the parser: a new command completes with no edit
    assert {"a.session.json", "b.session.toml", "c.session.journal"} <= set(words)
    assert "notes.txt" not in words
    assert complete(folder, "turnloom rep") == ["replay"]


def test_a_commands_options_are_the_ones_its_parser_has(folder: Path) -> None:
    parser = build_parser("run")
    run = next(a for a in parser._actions if a.dest == "command").choices["run"]
    options = {s for a in run._actions for s in a.option_strings if s.startswith("--")}
    assert set(complete(folder, "turnloom run --")) == options
    assert complete(folder, "turnloom run --max") == ["--max-messages"]
    assert set(complete(folder, "turnloom run --mode ")) == {"user-oriented", "task-oriented"}


def test_domains_rule_sets_and_profiles_complete_by_name(folder: Path) -> None:
    assert complete(folder, "turnloom run --domain ") == pack_names()
    assert complete(folder, "turnloom generate --domain re") == ["retail"]
    rule_sets = complete(folder, "turnloom run --rules ")
    assert {"paper", "none", "terse", "mine.ruleset.toml"} <= set(rule_sets)
    assert complete(folder, "turnloom check --profile ") == ["lab", "vllm"]
    assert "user=" in complete(folder, "turnloom run --role ")
    assert complete(folder, "turnloom run --role user=") == ["user=lab", "user=vllm", "user=offline"]


def test_session_files_complete_where_a_session_is_named(folder: Path) -> None:
    sessions = {"a.session.json", "b.session.toml", "c.session.journal", "batch/", "rules/"}
    assert set(complete(folder, "turnloom replay ")) == sessions
    assert set(complete(folder, "turnloom fork ")) == sessions
    assert set(complete(folder, "turnloom export ")) == sessions
    assert {"a.session.json", "t.jsonl"} <= set(complete(folder, "turnloom run --from "))
    assert set(complete(folder, "turnloom run --db ")) == {"batch/", "rules/", "shop.sqlite"}
    assert complete(folder, "turnloom --config turnloom.toml replay a") == ["a.session.json"]


def test_the_bash_script_completes_in_a_real_bash(folder: Path) -> None:
    script = (
        'eval "$(turnloom completion bash)"\n'
        'COMP_LINE="turnloom run --domain re"; COMP_POINT=${#COMP_LINE}\n'
        "COMP_WORDS=(turnloom run --domain re); COMP_CWORD=3\n"
        '_python_argcomplete turnloom\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    assert _shell(folder, ["bash", "-c", script]).split() == ["retail"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_the_fish_script_completes_in_a_real_fish(folder: Path) -> None:
    script = 'turnloom completion fish | source; complete -C "turnloom check --profile "'
    assert _shell(folder, ["fish", "-c", script]).split() == ["lab", "vllm"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_the_zsh_script_completes_in_a_real_zsh(folder: Path) -> None:
    # zsh's completion widgets need a terminal; `_describe` (what the script hands its candidates to) prints them
    script = (
        'autoload -U compinit; compinit -u; eval "$(turnloom completion zsh)"\n'
        '_describe() { print -rl -- "${(@P)2}" }\n'
        'BUFFER="turnloom run --rules "; CURSOR=${#BUFFER}; words=(turnloom run --rules ""); _python_argcomplete\n'
    )
    assert {"paper:", "terse:", "none:"} <= set(_shell(folder, ["zsh", "-f", "-c", script]).split())


def _shell(folder: Path, argv: list[str]) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(folder)}
    env.pop("TURNLOOM_CONFIG", None)
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout
