"""Issue 16: a setting changed in the TUI (the theme) is saved into the config in force, keeping the rest of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnloom.core.config import load_config, save_setting, settings_path, user_config_path
from turnloom.core.errors import ConfigError

HAND_WRITTEN = """# my endpoints
sessions_dir = "~/work/sessions"   # kept

[profiles.lab]
base_url = "http://127.0.0.1:8000/v1"
model = "m"

[keys]
theme = "ctrl+t"  # a key of a table, not the top-level setting
"""


def test_a_new_setting_goes_before_the_first_table_and_every_other_line_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "turnloom.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    save_setting(path, "theme", "turnloom-light")
    text = path.read_text(encoding="utf-8")
    assert text == HAND_WRITTEN.replace("\n[profiles.lab]", '\ntheme = "turnloom-light"\n[profiles.lab]', 1)
    config = load_config(path)
    assert config.theme == "turnloom-light" and config.keys["theme"] == "ctrl+t"


def test_an_existing_setting_is_replaced_in_place(tmp_path: Path) -> None:
    path = tmp_path / "turnloom.toml"
    path.write_text('theme = "turnloom-dark"  # old\n[keys]\nstep = "space"\n', encoding="utf-8")
    save_setting(path, "theme", "turnloom-high-contrast")
    assert path.read_text(encoding="utf-8") == 'theme = "turnloom-high-contrast"\n[keys]\nstep = "space"\n'


def test_a_missing_file_and_folder_are_made(tmp_path: Path) -> None:
    path = tmp_path / "config" / "turnloom" / "turnloom.toml"
    save_setting(path, "theme", "turnloom-light")
    assert load_config(path).theme == "turnloom-light"


def test_a_broken_file_is_named_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "turnloom.toml"
    path.write_text("theme = \n[broken\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        save_setting(path, "theme", "turnloom-light")
    assert str(path) in str(caught.value)
    assert path.read_text(encoding="utf-8") == "theme = \n[broken\n"
    assert [p.name for p in tmp_path.iterdir()] == ["turnloom.toml"]  # no temp file left behind


def test_settings_go_to_the_file_read_or_else_to_the_user_config(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("TURNLOOM_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert settings_path(load_config()) == user_config_path() == tmp_path / "xdg" / "turnloom" / "turnloom.toml"
    (tmp_path / "turnloom.toml").write_text('sessions_dir = "s"\n', encoding="utf-8")
    assert settings_path(load_config()) == tmp_path / "turnloom.toml"  # the one read first is the one to change
