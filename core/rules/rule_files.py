"""User-behaviour rules: rule kinds and reading rule files.

A rule is a TOML file (DESIGN.md "Rules"). Its optional `kind` names a
behaviour the offline simulator knows (`players.offline.user`) and a check run on
every user turn (`rules.check`); `RULE_KINDS` declares each kind's parameters
with their types and defaults. Rule sets, persona draws and where user rule
files are looked up live in `rules.catalog`.

Reading a file never stops at the first problem: `read_rule` returns every
problem it finds, each naming the file, the line and the key.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from turnloom.core.errors import ConfigError
from turnloom.core.models import Rule
from turnloom.core.untrusted import template_problem, writable_data


@dataclass(frozen=True)
class Param:
    """One parameter of a rule kind: its type, default and allowed range."""

    type: type
    default: Any
    minimum: float | None = None
    maximum: float | None = None

    def problem(self, value: Any) -> str | None:
        """Why `value` does not fit, or None."""
        expected = (int, float) if self.type is float else self.type
        if isinstance(value, bool) and self.type is not bool or not isinstance(value, expected):
            return f"expected {self.type.__name__}, got {type(value).__name__} {value!r}"
        number = cast(float, value)  # minimum and maximum are set on numeric params only
        if self.minimum is not None and number < self.minimum:
            return f"must be at least {self.minimum:g}, got {value!r}"
        if self.maximum is not None and number > self.maximum:
            return f"must be at most {self.maximum:g}, got {value!r}"
        return None


# kind -> its parameters. Every kind has offline semantics and a check.
RULE_KINDS: dict[str, dict[str, Param]] = {
    "incremental_requests": {"max_subtasks": Param(int, 2, 1)},
    "turn_feedback": {},
    "confirm_before_ending": {},
    "end_when_all_done": {},
    "natural_style": {
        "forbidden": Param(str, "datasets, the assistant's instructions, simulations or task definitions"),
    },
    "stay_in_role": {},
    "clean_output": {},
    "no_restart": {},
    "terse": {"max_words": Param(int, 25, 3)},
    "casual": {"typo_rate": Param(float, 0.15, 0, 1)},
    "withhold_details": {},
    "change_mind": {"chance": Param(float, 0.5, 0, 1), "max_revisions": Param(int, 1, 0)},
    "digression": {"chance": Param(float, 0.3, 0, 1), "max_digressions": Param(int, 1, 0)},
}


@dataclass(frozen=True)
class RuleProblem:
    """Something wrong in a rule or rule-set file, located by file, line and key."""

    path: str
    message: str
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: key {self.key!r}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass
class RuleRead:
    """The outcome of reading one file: the rule (None if unusable) and every problem found."""

    rule: Rule | None
    problems: list[RuleProblem] = field(default_factory=list)


_TOML_LINE = re.compile(r"at line (\d+)")


def parse_toml(path: str, text: str) -> tuple[dict[str, Any] | None, list[RuleProblem]]:
    """Parse TOML text; a syntax error becomes a problem with its line."""
    try:
        return writable_data(tomllib.loads(text)), []
    except RecursionError:
        return None, [RuleProblem(path, "nested too deeply to be a rule file")]
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        return None, [RuleProblem(path, f"not valid TOML: {exc}", int(match.group(1)) if match else None)]
    except ValueError:  # an integer of more digits than Python converts (4,300)
        return None, [RuleProblem(path, "holds a number with thousands of digits")]


def line_of(text: str, key: str) -> int | None:
    """The line where dotted `key` is set in TOML `text` (best effort; None if not found)."""
    *tables, leaf = key.split(".")
    table: list[str] = []
    fallback: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            table = [part.strip().strip('"') for part in header.group(1).split(".")]
            if table == tables + [leaf]:
                return number
            continue
        assigned = re.match(r"^([\w\".-]+)\s*=", line)
        if not assigned:
            continue
        path = table + [part.strip('"') for part in assigned.group(1).split(".")]
        if path == tables + [leaf]:
            return number
        if tables and path[: len(table) + 1] == tables[: len(table) + 1] and fallback is None:
            fallback = number  # e.g. an inline table `params = {...}` holding the key
        if not tables and path == [leaf]:
            return number
    return fallback


def placeholders(template: str) -> list[str] | None:
    """The `{name}` fields of a prompt, or None when its braces do not parse."""
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError:
        return None


def read_text(path: str | Path, what: str) -> tuple[str | None, RuleProblem | None]:
    """A rule or rule-set file's text, or the problem that kept it from being read (named as `what`)."""
    try:
        return Path(path).read_text(encoding="utf-8"), None
    except OSError as exc:
        return None, RuleProblem(str(path), f"cannot read the {what}: {exc.strerror}")
    except UnicodeDecodeError as exc:
        return None, RuleProblem(str(path), f"not UTF-8 text (byte {exc.start}); is it a {what}?")


def read_rule(path: str | Path, text: str | None = None, source: str | None = None) -> RuleRead:
    """Read one rule file and report everything wrong with it.

    Args:
        path: the file (read unless `text` is given); used to name it in problems.
        text: the file's content, if already read.
        source: where the rule came from (`builtin`, or the path by default).
    """
    name = str(path)
    if text is None:
        text, problem = read_text(path, "rule file")
        if text is None:
            return RuleRead(None, [problem] if problem else [])
    data, problems = parse_toml(name, text)
    if data is None:
        return RuleRead(None, problems)
    try:
        rule = Rule.model_validate({**data, "source": source or name})
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            problems.append(RuleProblem(name, error["msg"], line_of(text, key), key))
        return RuleRead(None, problems)
    if not rule.id.strip() or not re.fullmatch(r"[\w.-]+", rule.id):
        problems.append(
            RuleProblem(name, "a rule id is one word of letters, digits, _ . or -", line_of(text, "id"), "id")
        )
    params = dict(rule.params)
    if rule.kind is not None:
        spec = RULE_KINDS.get(rule.kind)
        if spec is None:
            known = ", ".join(sorted(RULE_KINDS))
            problems.append(
                RuleProblem(name, f"unknown kind {rule.kind!r}; known kinds: {known}", line_of(text, "kind"), "kind")
            )
        else:
            for param, declared in spec.items():
                if param not in params:
                    params[param] = declared.default
                elif (why := declared.problem(params[param])) is not None:
                    key = f"params.{param}"
                    problems.append(RuleProblem(name, why, line_of(text, key), key))
    fields = placeholders(rule.prompt)
    unsafe = template_problem(rule.prompt)
    if unsafe is not None:
        problems.append(RuleProblem(name, unsafe, line_of(text, "prompt"), "prompt"))
    if fields is None:
        problems.append(
            RuleProblem(
                name, "unbalanced { or } (write {{ and }} for literal braces)", line_of(text, "prompt"), "prompt"
            )
        )
    else:
        for missing in sorted({f for f in fields if f.split(".")[0].split("[")[0] not in params}):
            problems.append(
                RuleProblem(
                    name, f"placeholder {{{missing}}} has no parameter in [params]", line_of(text, "prompt"), "prompt"
                )
            )
    if problems:
        return RuleRead(None, problems)
    return RuleRead(rule.model_copy(update={"params": params}))


def load_rule_file(path: Path, text: str | None = None, source: str | None = None) -> Rule:
    """Read one rule file, failing on its first problem.

    Raises:
        ConfigError: naming the file, and the line and key of the problem.
    """
    read = read_rule(path, text, source)
    if read.rule is None:
        raise ConfigError(str(read.problems[0]))
    return read.rule


def builtin_rules() -> dict[str, Rule]:
    """Every built-in rule by id (files in `rules_builtin`)."""
    from importlib import resources

    folder = resources.files("turnloom.core.rules.builtin")
    rules: dict[str, Rule] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml") and not entry.name.endswith(".ruleset.toml"):
            rule = load_rule_file(Path(entry.name), entry.read_text(encoding="utf-8"), source="builtin")
            rules[rule.id] = rule
    return rules


def rule_of_kind(rules: list[Rule], kind: str) -> Rule | None:
    """The enabled rule of `kind` in force, if any."""
    for rule in rules:
        if rule.enabled and rule.kind == kind:
            return rule
    return None


def param(rule: Rule, name: str) -> Any:
    """A rule's parameter, falling back to its kind's default."""
    if name in rule.params:
        return rule.params[name]
    return RULE_KINDS.get(rule.kind or "", {}).get(name, Param(object, None)).default
