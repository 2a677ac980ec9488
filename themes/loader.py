"""Read theme TOML files into Textual `Theme` objects, collecting errors instead of raising.

A theme file holds the fields of `textual.theme.Theme` (name, primary, background, ...,
dark, and an optional `[variables]` table). A file that fails to parse or names a bad
colour is reported with its path and reason; the caller decides how to tell the user.
Registering the themes with an app is the app's business.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from textual.theme import Theme

DEFAULT_THEME = "turnloom-dark"
_FIELDS = {
    "name",
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "dark",
    "luminosity_spread",
    "text_alpha",
    "variables",
    "ansi",
}


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the reason."""


@dataclass
class ThemeLoad:
    """The themes that loaded, and `path: reason` for each file that did not."""

    themes: list[Theme] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def builtin_theme_files() -> list[Path]:
    """The theme files shipped with turnloom, sorted by name."""
    folder = resources.files("turnloom.themes")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml"))


def user_theme_dir() -> Path:
    """`<user config dir>/turnloom/themes` (it need not exist)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("turnloom")) / "themes"


def load_theme_file(path: Path) -> Theme:
    """One theme from a TOML file.

    Raises:
        ThemeFileError: unreadable file, bad TOML, unknown key, missing name/primary, bad colour.
    """
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThemeFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ThemeFileError(f"{path}: unknown key {unknown[0]!r}; theme keys are {', '.join(sorted(_FIELDS))}")
    for key in ("name", "primary"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ThemeFileError(f"{path}: key {key!r} is required and must be a string")
    try:
        theme = Theme(**data)
        theme.to_color_system().generate()  # parses every colour
    except Exception as exc:  # noqa: BLE001 - Textual raises several kinds for bad colours
        raise ThemeFileError(f"{path}: {exc}") from None
    return theme


def load_themes(extra_dirs: list[Path] | None = None) -> ThemeLoad:
    """Built-in themes, then every `*.toml` in `extra_dirs` (default: the user theme dir).

    A user theme with the name of a built-in one replaces it.
    """
    result = ThemeLoad()
    folders = [user_theme_dir()] if extra_dirs is None else extra_dirs
    paths = builtin_theme_files()
    for folder in folders:
        if folder.is_dir():
            paths.extend(sorted(folder.glob("*.toml")))
    for path in paths:
        try:
            result.themes.append(load_theme_file(path))
        except ThemeFileError as exc:
            result.errors.append(str(exc))
    return result
