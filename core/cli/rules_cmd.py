"""`turnloom rules`: list rules and rule sets with their source, show one rule, check a rule file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from turnloom.core.cli.render import new_table, print_table
from turnloom.core.errors import UsageError
from turnloom.core.rules.catalog import (
    SET_SUFFIX,
    load_catalog,
    read_rule_set,
    set_problems,
    user_rule_folders,
)
from turnloom.core.rules.rule_files import read_rule


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list user-behaviour rules and rule sets; show or check one",
        description=(
            "List the user-behaviour rules and rule sets with where each comes from (built-in, ./rules/, "
            "or the user config dir's rules/). `rules show ID` prints one rule or set; "
            "`rules check FILE.toml` validates a rule or *.ruleset.toml file."
        ),
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=("list", "show", "check"),
        default="list",
        help="list (default), show ID, or check FILE",
    )
    parser.add_argument("target", nargs="?", help="a rule or rule-set id (show) or a file (check)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.action == "check":
        if not args.target:
            raise UsageError("rules check needs a FILE.toml")
        return check_file(Path(args.target), args.json)
    catalog = load_catalog()
    if args.action == "show":
        if not args.target:
            raise UsageError("rules show needs a rule or rule-set id (see `turnloom rules`)")
        return show(catalog, args.target, args.json)
    if args.json:
        print(
            json.dumps(
                {
                    "rules": [r.model_dump() for r in catalog.rules.values()],
                    "sets": [s.model_dump() for s in catalog.sets.values()],
                    "problems": [str(p) for p in catalog.problems],
                },
                indent=2,
            )
        )
        return 0
    rules = new_table("rule", "kind", "on", "source", "title")
    for rule in sorted(catalog.rules.values(), key=lambda r: r.id):
        source = _source(rule.source, catalog.overrides.get(rule.id))
        rules.add_row(rule.id, rule.kind or "-", "yes" if rule.enabled else "no", source, rule.title)
    print_table(rules)
    print()
    sets = new_table("rule set", "rules", "persona", "source", "description", right=("rules",))
    for ruleset in sorted(catalog.sets.values(), key=lambda s: s.name):
        persona = ", ".join(ruleset.persona) or "-"
        source = _source(ruleset.source, catalog.overrides.get(ruleset.name))
        sets.add_row(ruleset.name, str(len(ruleset.rules)), persona, source, ruleset.description)
    print_table(sets)
    if catalog.problems:
        print("\nnot loaded:", file=sys.stderr)
        for problem in catalog.problems:
            print(f"  {problem}", file=sys.stderr)
    return 0


def _source(source: str | None, overrode: str | None) -> str:
    if source in (None, "builtin"):
        return "built-in"
    return f"{source} (overrides built-in)" if overrode else str(source)


def show(catalog, target: str, as_json: bool) -> int:
    rule = catalog.rules.get(target)
    if rule is not None:
        if as_json:
            print(json.dumps(rule.model_dump(), indent=2))
            return 0
        print(f"{rule.id} — {rule.title}")
        print(f"  source:  {_source(rule.source, catalog.overrides.get(rule.id))}")
        print(f"  kind:    {rule.kind or '-'} ({'enabled' if rule.enabled else 'disabled'})")
        print(f"  params:  {json.dumps(rule.params)}")
        print(f"  about:   {rule.description}")
        print(f"  prompt:  {rule.rendered_prompt()}")
        in_sets = [
            s.name for s in catalog.sets.values() if rule.id in s.rules or any(rule.id in o for o in s.persona.values())
        ]
        print(f"  in sets: {', '.join(sorted(in_sets)) or '-'}")
        return 0
    ruleset = catalog.sets.get(target)
    if ruleset is not None:
        if as_json:
            print(json.dumps(ruleset.model_dump(), indent=2))
            return 0
        print(f"{ruleset.name} — {ruleset.description}")
        print(f"  source:  {_source(ruleset.source, catalog.overrides.get(ruleset.name))}")
        print(f"  rules:   {', '.join(ruleset.rules) or '-'}")
        for rule_id, params in ruleset.params.items():
            print(f"  params:  {rule_id} {json.dumps(params)}")
        for dimension, options in ruleset.persona.items():
            print(f"  persona: {dimension} = {json.dumps(options)}")
        print(f"  policy:  {ruleset.violation_policy or 'flag (default)'}")
        return 0
    known = ", ".join(sorted([*catalog.rules, *catalog.sets]))
    raise UsageError(f"no rule or rule set {target!r}; known: {known}")


def check_file(path: Path, as_json: bool) -> int:
    """Validate one rule or rule-set file; print every problem with its line and key."""
    if path.name.endswith(SET_SUFFIX):
        ruleset, problems = read_rule_set(path)
        if ruleset is not None:
            problems = set_problems(ruleset, load_catalog())
        what = f"rule set {ruleset.name!r}" if ruleset else "rule set"
    else:
        read = read_rule(path)
        problems = read.problems
        what = f"rule {read.rule.id!r} (kind {read.rule.kind or '-'})" if read.rule else "rule"
    if not problems and path.resolve().parent in [f.resolve() for f in user_rule_folders()]:
        # a file in a rules folder can also clash with another file there (two rules, one id)
        problems = [p for p in load_catalog().problems if Path(p.path).resolve() == path.resolve()]
    if as_json:
        print(json.dumps({"file": str(path), "ok": not problems, "problems": [p.__dict__ for p in problems]}, indent=2))
    elif problems:
        for problem in problems:
            print(problem, file=sys.stderr)
    else:
        print(f"{path}: ok — {what}")
    return 2 if problems else 0
