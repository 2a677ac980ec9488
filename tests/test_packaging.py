"""Packaging and boundaries: namespaced install, and a headless core."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = {"core": "turnloom.core", "tui": "turnloom.tui", "themes": "turnloom.themes"}


def _declared_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_declared_in_pyproject():
    found = set()
    for folder, name in TOP.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *relative)))
    assert found - _declared_packages() == set()


def test_the_wheel_installs_only_under_turnloom(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if result.returncode != 0 and "No module named" in result.stderr:
        pytest.skip(f"cannot build here: {result.stderr[-200:]}")
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("turnloom-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"turnloom", next(t for t in tops if t.endswith(".dist-info"))}
    assert "turnloom/core/rules/builtin/incremental_requests.toml" in names
    assert any(n.startswith("turnloom/core/domains/") for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "turnloom = turnloom.tui.launch:main" in zipfile.ZipFile(wheel).read(entry).decode()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_ui_libraries():
    # the command line draws with rich (issue 12); the rest of the core imports neither
    cli = ROOT / "core" / "cli"
    offenders = [p for p in (ROOT / "core").rglob("*.py") if _imports(p) & {"textual", "rich"} and cli not in p.parents]
    assert offenders == []
    assert [p for p in cli.rglob("*.py") if "textual" in _imports(p)] == []


def test_only_the_openai_backend_module_imports_openai():
    importers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "core").rglob("*.py") if "openai" in _imports(p)]
    assert all(p.startswith("core/endpoint/endpoint.py") for p in importers), importers
    assert len(importers) <= 1, importers


def test_importing_the_core_loads_no_ui_library():
    code = (
        "import sys, turnloom.core.cli, turnloom.core.lifecycle.dialogue, turnloom.core.engine.engine;"
        "turnloom.core.cli.build_parser();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_offline_start_does_not_load_the_openai_client():
    # the TUI's first paint must not wait for the SDK (about a third of a second to import)
    code = (
        "import sys, turnloom.tui.app, turnloom.core.lifecycle.dialogue;"
        "from turnloom.core.lifecycle.dialogue import create_session, open_engine;"
        "open_engine(create_session('retail'));"
        "print('openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_python_dash_m_turnloom_runs_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "turnloom", "--version"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("turnloom ")


def test_turnloom_with_a_session_path_that_cannot_be_opened_says_so_before_the_tui(tmp_path):
    from turnloom.tui.launch import main

    folder = tmp_path / "batch"
    folder.mkdir()
    assert main([f"{folder}/"]) == 2
    assert main([str(tmp_path / "gone.session.json")]) == 2


def test_the_first_word_is_a_session_to_open_when_it_reads_as_a_path():
    from turnloom.tui.launch import session_argument

    assert session_argument(["--config", "t.toml", "x.session.json"]) == ("x.session.json", ["--config", "t.toml"])
    assert session_argument(["run", "--out", "x.session.json"]) == (None, ["run", "--out", "x.session.json"])
    assert session_argument(["--color", "never", "replay", "x.session.json"])[0] is None
