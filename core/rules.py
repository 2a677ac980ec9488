"""User-behaviour rules: loading rule files and resolving named rule sets.

Built-in rules are TOML files shipped in `rules_builtin`; a rule set is a named
list of rule ids. How a rule changes the offline simulator is keyed by its
`kind`; what it says to an LLM simulator is its rendered `prompt`.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from .errors import ConfigError
from .models import Rule

RULE_SETS: dict[str, tuple[str, ...]] = {
    "paper": (
        "incremental_requests",
        "turn_feedback",
        "confirm_before_ending",
        "end_when_all_done",
        "natural_style",
    ),
    "none": (),
}


def load_rule_file(path: Path, text: str | None = None, source: str | None = None) -> Rule:
    """Read one rule file.

    Raises:
        ConfigError: naming the file, and the line and column of a TOML error.
    """
    try:
        data = tomllib.loads(text if text is not None else path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the rule file: {exc.strerror}") from exc
    try:
        return Rule.model_validate({**data, "source": source or str(path)})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: key {key!r}: {first['msg']}") from exc


def builtin_rules() -> dict[str, Rule]:
    """Every built-in rule by id."""
    folder = resources.files("turnloom.core.rules_builtin")
    rules: dict[str, Rule] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            rule = load_rule_file(Path(entry.name), entry.read_text(encoding="utf-8"), source="builtin")
            rules[rule.id] = rule
    return rules


def resolve_rule_set(name: str | None) -> list[Rule]:
    """The rules of a named set, in order.

    Raises:
        ConfigError: for an unknown set name, listing the known ones.
    """
    if name is None:
        return []
    if name not in RULE_SETS:
        raise ConfigError(f"unknown rule set {name!r}; known rule sets: {', '.join(sorted(RULE_SETS))}")
    available = builtin_rules()
    return [available[rule_id] for rule_id in RULE_SETS[name]]


def rule_of_kind(rules: list[Rule], kind: str) -> Rule | None:
    """The enabled rule of `kind` in force, if any."""
    for rule in rules:
        if rule.enabled and rule.kind == kind:
            return rule
    return None
