"""Rule sets, persona draws, and the catalog of built-in and user rules.

Rules come from the package (`rules_builtin/*.toml`), then `./rules/`, then
the user config dir's `rules/`; a user rule with a built-in's id overrides it,
and two user files with one id are a problem naming both (the first found is
kept). Files named `*.ruleset.toml` are rule sets:

    name = "realistic"
    rules = ["incremental_requests", "turn_feedback"]
    violation_policy = "regenerate"        # optional: flag | regenerate | pause
    [params.incremental_requests]          # optional parameter overrides
    max_subtasks = 1
    [persona]                              # optional weighted draws, one per dialogue
    verbosity = {terse = 0.3, normal = 0.7}

A persona option is a rule id, or `normal`/`none` for no extra rule. The draw
is seeded by the dialogue's seed, so a dialogue is reproducible; the drawn
rules are stored in the session's config.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from turnloom.core.errors import ConfigError
from turnloom.core.models import Rule
from turnloom.core.rules.rule_files import RULE_KINDS, RuleProblem, line_of, parse_toml, read_rule, read_text

NO_RULE = ("normal", "none", "default")
SET_SUFFIX = ".ruleset.toml"


class RuleSet(BaseModel):
    """A named bundle of rules, with parameter overrides, persona draws and a violation policy."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    rules: list[str] = Field(default_factory=list)
    params: dict[str, dict[str, object]] = Field(default_factory=dict)
    persona: dict[str, dict[str, float]] = Field(default_factory=dict)
    violation_policy: Literal["flag", "regenerate", "pause"] | None = None
    violation_retries: int | None = Field(default=None, ge=0)
    source: str | None = None


@dataclass
class DrawnRules:
    """A rule set resolved for one dialogue."""

    name: str
    rules: list[Rule]
    persona: dict[str, str] = field(default_factory=dict)
    violation_policy: str | None = None
    violation_retries: int | None = None


@dataclass
class RuleCatalog:
    """Every rule and rule set available, where each came from, and what could not be loaded."""

    rules: dict[str, Rule] = field(default_factory=dict)
    sets: dict[str, RuleSet] = field(default_factory=dict)
    problems: list[RuleProblem] = field(default_factory=list)
    # id -> the source it replaced (a user file overriding a built-in)
    overrides: dict[str, str] = field(default_factory=dict)


def user_rule_folders() -> list[Path]:
    """Where user rules are looked up, in order: ./rules, then the user config dir's rules/."""
    from platformdirs import user_config_dir

    return [Path.cwd() / "rules", Path(user_config_dir("turnloom")) / "rules"]


def read_rule_set(
    path: str | Path, text: str | None = None, source: str | None = None
) -> tuple[RuleSet | None, list[RuleProblem]]:
    """Read one `*.ruleset.toml` file; every problem names the file, line and key."""
    name = str(path)
    if text is None:
        text, problem = read_text(path, "rule-set file")
        if text is None:
            return None, [problem] if problem else []
    data, problems = parse_toml(name, text)
    if data is None:
        return None, problems
    try:
        ruleset = RuleSet.model_validate({**data, "source": source or name})
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            problems.append(RuleProblem(name, error["msg"], line_of(text, key), key))
        return None, problems
    for dimension, options in ruleset.persona.items():
        key = f"persona.{dimension}"
        if not options or any(w < 0 for w in options.values()) or sum(options.values()) <= 0:
            problems.append(RuleProblem(name, "weights must be non-negative and not all zero", line_of(text, key), key))
    return (None, problems) if problems else (ruleset, [])


@functools.lru_cache(maxsize=1)
def _builtin_catalog() -> RuleCatalog:
    """The package's rules and sets, read once (package data does not change while running)."""
    from importlib import resources

    catalog = RuleCatalog()
    folder = resources.files("turnloom.core.rules.builtin")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        filename = entry.name
        if not filename.endswith(".toml"):
            continue
        text = entry.read_text(encoding="utf-8")
        if filename.endswith(SET_SUFFIX):
            ruleset, problems = read_rule_set(filename, text, source="builtin")
            if ruleset is not None:
                catalog.sets[ruleset.name] = ruleset
        else:
            read = read_rule(filename, text, source="builtin")
            problems = read.problems
            if read.rule is not None:
                catalog.rules[read.rule.id] = read.rule
        catalog.problems.extend(problems)
    return catalog


def load_catalog(folders: list[Path] | None = None) -> RuleCatalog:
    """Built-in rules and sets, then user files from `folders` (default `user_rule_folders()`).

    Bad files are recorded in `problems`; the other rules still load.
    """
    builtins = _builtin_catalog()
    catalog = RuleCatalog(
        rules={k: r.model_copy(deep=True) for k, r in builtins.rules.items()},
        sets={k: s.model_copy(deep=True) for k, s in builtins.sets.items()},
        problems=list(builtins.problems),
    )
    user_rules: dict[str, str] = {}
    user_sets: dict[str, str] = {}
    for folder in user_rule_folders() if folders is None else folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            if path.name.endswith(SET_SUFFIX):
                ruleset, problems = read_rule_set(path)
                catalog.problems.extend(problems)
                if ruleset is not None:
                    _add(catalog, catalog.sets, user_sets, ruleset.name, ruleset, path, "rule set")
                continue
            read = read_rule(path)
            catalog.problems.extend(read.problems)
            if read.rule is not None:
                _add(catalog, catalog.rules, user_rules, read.rule.id, read.rule, path, "rule")
    return catalog


def _add(catalog: RuleCatalog, table: dict, seen: dict[str, str], key: str, item, path: Path, what: str) -> None:
    """Add a user rule or set; a second user file with the same id is a problem naming both files."""
    field_name = "id" if what == "rule" else "name"
    if key in seen:
        line = line_of(path.read_text(encoding="utf-8"), field_name)
        message = f"{what} {key!r} is also defined in {seen[key]}; keeping that one"
        catalog.problems.append(RuleProblem(str(path), message, line, field_name))
        return
    seen[key] = str(path)
    if key in table and table[key].source == "builtin":
        catalog.overrides[key] = "builtin"
    table[key] = item


def set_problems(ruleset: RuleSet, catalog: RuleCatalog) -> list[RuleProblem]:
    """What in a rule set refers to rules or parameters that do not exist."""
    where = ruleset.source or ruleset.name
    problems = []
    for rule_id in ruleset.rules:
        if rule_id not in catalog.rules:
            problems.append(RuleProblem(where, f"names rule {rule_id!r}, which is not available", None, "rules"))
    for rule_id, params in ruleset.params.items():
        rule = catalog.rules.get(rule_id)
        if rule is None:
            problems.append(
                RuleProblem(where, f"sets parameters of unknown rule {rule_id!r}", None, f"params.{rule_id}")
            )
            continue
        spec = RULE_KINDS.get(rule.kind or "", {})
        for name, value in params.items():
            if name in spec and (why := spec[name].problem(value)) is not None:
                problems.append(RuleProblem(where, why, None, f"params.{rule_id}.{name}"))
    for dimension, options in ruleset.persona.items():
        for option in options:
            if option not in NO_RULE and option not in catalog.rules:
                problems.append(
                    RuleProblem(
                        where,
                        f"persona option {option!r} is not a rule id (or normal/none)",
                        None,
                        f"persona.{dimension}",
                    )
                )
    return problems


def names_a_file(name: str) -> bool:
    """Whether a `--rules` value is a rule-set file (`mine.ruleset.toml`, `sets/x.toml`) rather than a set name."""
    return name.endswith(".toml") or "/" in name or "\\" in name


def find_rule_set(name: str, catalog: RuleCatalog) -> RuleSet:
    """The rule set called `name` in `catalog`, or read from the file `name` names.

    Raises:
        ConfigError: an unknown name (listing the known ones), or a file that is missing or
            unreadable (naming the file, line and key).
    """
    ruleset = catalog.sets.get(name)
    if ruleset is not None:
        return ruleset
    if names_a_file(name):
        ruleset, problems = read_rule_set(Path(name))
        if ruleset is None:
            raise ConfigError("; ".join(str(p) for p in problems))
        return ruleset
    known = ", ".join(sorted(catalog.sets))
    raise ConfigError(f"unknown rule set {name!r}; known rule sets: {known} (or a FILE.ruleset.toml)")


def draw_rule_set(name: str, seed: int = 0, catalog: RuleCatalog | None = None) -> DrawnRules:
    """Resolve rule set `name` for the dialogue with `seed`: its rules, parameters and persona draws.

    `name` is a set in the catalog or a rule-set file's path (see `find_rule_set`).

    Raises:
        ConfigError: for an unknown set (listing the known ones), or a set whose rules or
            persona options cannot be resolved (naming the set's file and key).
    """
    catalog = catalog or load_catalog()
    ruleset = find_rule_set(name, catalog)
    problems = set_problems(ruleset, catalog)
    if problems:
        broken = [p for p in catalog.problems if any(rid in p.message or rid in p.path for rid in ruleset.rules)]
        raise ConfigError("; ".join(str(p) for p in problems + broken[:2]))
    chosen = list(ruleset.rules)
    persona: dict[str, str] = {}
    for dimension, options in ruleset.persona.items():
        rng = random.Random(f"{seed}:persona:{ruleset.name}:{dimension}")
        names = list(options)
        pick = rng.choices(names, weights=[options[n] for n in names], k=1)[0]
        persona[dimension] = pick
        if pick not in NO_RULE and pick not in chosen:
            chosen.append(pick)
    rules = []
    for rule_id in chosen:
        rule = catalog.rules[rule_id]
        if rule_id in ruleset.params:
            rule = rule.model_copy(update={"params": {**rule.params, **ruleset.params[rule_id]}})
        rules.append(rule)
    return DrawnRules(ruleset.name, rules, persona, ruleset.violation_policy, ruleset.violation_retries)


def resolve_rule_set(name: str | None, seed: int = 0) -> list[Rule]:
    """The rules of a named set (built-in or user), with its persona drawn for `seed`; none for None.

    Raises:
        ConfigError: for an unknown set name (listing the known ones) or a set naming a missing rule.
    """
    return draw_rule_set(name, seed).rules if name is not None else []


def rule_config(name: str | None, seed: int = 0, catalog: RuleCatalog | None = None) -> dict[str, Any]:
    """GenerationConfig fields for rule set `name` drawn for `seed`: rules, and the set's violation policy.

    `catalog` saves reading the rule folders again when drawing for many seeds.

    Raises:
        ConfigError: as `draw_rule_set`.
    """
    if name is None:
        return {"rules": []}
    drawn = draw_rule_set(name, seed, catalog)
    fields: dict[str, object] = {"rules": drawn.rules}
    if drawn.violation_policy is not None:
        fields["violation_policy"] = drawn.violation_policy
    if drawn.violation_retries is not None:
        fields["violation_retries"] = drawn.violation_retries
    return fields
