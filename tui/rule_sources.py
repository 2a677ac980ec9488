"""Rules the curator can switch on: the built-in ones and the user's rule files, with load errors.

A user rule lives in `<user config dir>/turnloom/rules/*.toml`. Files that fail to load are
returned as `path: reason` strings for the Rules pane to show; nothing here raises.
"""

from __future__ import annotations

from pathlib import Path

from turnloom.core.errors import ConfigError
from turnloom.core.models import Rule
from turnloom.core.rules.rule_files import builtin_rules, load_rule_file


def user_rule_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("turnloom")) / "rules"


def available_rules(extra_dir: Path | None = None) -> tuple[list[Rule], list[str]]:
    """(rules, errors): built-ins, then user rule files (default folder: `user_rule_dir()`)."""
    rules: list[Rule] = []
    errors: list[str] = []
    try:
        rules.extend(builtin_rules().values())
    except ConfigError as exc:
        errors.append(str(exc))
    folder = user_rule_dir() if extra_dir is None else extra_dir
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            try:
                rules.append(load_rule_file(path))
            except ConfigError as exc:
                errors.append(str(exc))
    return rules, errors
