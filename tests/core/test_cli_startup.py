"""`turnloom --help` loads no command module; each command's help line is the one its module registers."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from turnloom.core.cli import COMMANDS, main


def test_the_top_level_help_loads_no_command_and_no_pydantic():
    code = (
        "import sys\n"
        "from turnloom.tui.launch import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.endswith('_cmd') or m.split('.')[0] in ('pydantic', 'textual')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "generate one dialogue headless and save it" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_each_command_help_line_is_the_one_its_module_registers():
    for name, (module, summary) in COMMANDS.items():
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        importlib.import_module(f"turnloom.core.cli.{module}").register(subparsers)
        (action,) = subparsers._choices_actions
        assert (action.dest, action.help) == (name, summary)


def test_a_command_after_config_loads_and_parses_its_own_options(tmp_path, capsys):
    config = tmp_path / "turnloom.toml"
    config.write_text("", encoding="utf-8")
    assert main(["--config", str(config), "domains"]) == 0
    assert "retail" in capsys.readouterr().out
    assert main(["--config", str(config), "run", "--at", "3"]) == 2
    assert "--at needs --from" in capsys.readouterr().err
