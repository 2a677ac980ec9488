"""turnloom's colour themes: TOML files loaded into `textual.theme.Theme` objects.

The files beside this module are the built-in themes; users add their own in the
`themes/` folder of the user config dir. Loading lives in `loader`.
"""

from __future__ import annotations

from turnloom.themes.loader import (
    DEFAULT_THEME,
    ThemeLoad,
    builtin_theme_files,
    load_theme_file,
    load_themes,
    user_theme_dir,
)

__all__ = [
    "DEFAULT_THEME",
    "ThemeLoad",
    "builtin_theme_files",
    "load_theme_file",
    "load_themes",
    "user_theme_dir",
]
