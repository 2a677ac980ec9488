"""`turnloom compare`: two rule sets on the same seeds and tasks, side by side.

    turnloom compare --rules paper --rules none --domain retail --seeds 1-50 [--tasks K] [--out DIR] [--json]

Both sets run offline on identical seeds, so the task each dialogue starts
with is the same; the table shows what the rules change. Violations are given
twice: as recorded (checked against the set's own rules, so `none` records
none) and audited against the rules of both sets, which is the fair yardstick
for an A/B. `compare_rule_sets` is the library entry point (the bench uses it).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from pathlib import Path

from turnloom.core.cli.options import non_negative_int
from turnloom.core.cli.render import new_table, table_text
from turnloom.core.domains import pack_names
from turnloom.core.errors import UsageError
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Rule, Session
from turnloom.core.players.offline.knowledge import knowledge_or_none
from turnloom.core.quality.metrics import dialogue_stats
from turnloom.core.rules.catalog import RuleCatalog, draw_rule_set, find_rule_set, load_catalog, set_problems
from turnloom.core.rules.check import audit_session


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="run two rule sets on the same seeds and compare the dialogues",
        description=(
            "Run rule sets A and B offline on the same seeds and tasks and print a side-by-side table: "
            "messages, user turns, subtasks per user turn, tasks completed, violations per 100 user "
            "turns, finish reasons."
        ),
    )
    parser.add_argument(
        "--rules",
        action="append",
        required=True,
        metavar="SET",
        help="a rule set name or a *.ruleset.toml file; give it twice (A, then B)",
    )
    parser.add_argument("--domain", default="retail", help="built-in domain, or `all` (default retail)")
    parser.add_argument("--seeds", default="1-50", type=seed_range, help="seeds: 1-50, 3,5,8 or 7 (default 1-50)")
    parser.add_argument("--tasks", type=non_negative_int, default=3, help="tasks per dialogue (default 3)")
    parser.add_argument(
        "--out", metavar="DIR", help="save every session under DIR/<set>/ and the summary as DIR/compare.json"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=handle)


def seed_range(text: str) -> list[int]:
    """`1-50`, `3,5,8`, `7` or a mix (`1-3,9`) -> the seeds, in order."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            low, dash, high = part.strip().partition("-")
            start, end = int(low), int(high if dash else low)
            if end < start:
                raise ValueError
            seeds.extend(range(start, end + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds look like 1-50, 3,5,8 or 7, not {text!r}") from None
    return seeds


def _catalog_with(names: list[str]) -> tuple[RuleCatalog, list[str]]:
    """The catalog plus any rule-set files named on the command line; the set names to use."""
    catalog = load_catalog()
    resolved = []
    for given_name in names:
        ruleset = find_rule_set(given_name, catalog)
        name = ruleset.name
        catalog.sets[name] = ruleset
        problems = set_problems(catalog.sets[name], catalog)
        if problems:
            raise UsageError("; ".join(str(p) for p in problems))
        resolved.append(name)
    return catalog, resolved


def run_dialogue(domain: str, seed: int, ruleset: str, tasks: int, catalog: RuleCatalog) -> Session:
    """One offline dialogue under `ruleset`, run to its end."""
    session = create_session(domain, seed=seed, tasks=tasks, rule_set=None)
    drawn = draw_rule_set(ruleset, seed, catalog)
    session.config.rule_set = ruleset
    session.config.rules = drawn.rules
    if drawn.violation_policy is not None:
        session.config.violation_policy = drawn.violation_policy  # type: ignore[assignment]
    if drawn.violation_retries is not None:
        session.config.violation_retries = drawn.violation_retries
    return run_to_end(session)


def summarise(stats: list[dict]) -> dict:
    """Aggregate per-dialogue stats (each with an `audit_violations` count)."""
    turns = [s["turns"] for s in stats]
    users = [s["user_turns"] for s in stats]
    user_total = sum(users) or 1
    subtasks = sum(s["subtasks_per_user_turn"] * s["user_turns"] for s in stats)
    return {
        "dialogues": len(stats),
        "messages_mean": statistics.mean(turns),
        "messages_max": max(turns),
        "user_turns_mean": statistics.mean(users),
        "user_turns_max": max(users),
        "subtasks_per_user_turn": subtasks / user_total,
        "tasks_done_mean": statistics.mean(s["tasks_done"] for s in stats),
        "tasks_done_total": sum(s["tasks_done"] for s in stats),
        "violations_per_100": 100 * sum(s["violations"] for s in stats) / user_total,
        "audit_violations_per_100": 100 * sum(s["audit_violations"] for s in stats) / user_total,
        "finish_reasons": dict(Counter(s["finish_reason"] or "paused" for s in stats)),
        "audit_by_rule": dict(sum((s.get("audit_by_rule", Counter()) for s in stats), Counter()).most_common()),
    }


def compare_rule_sets(
    sets: list[str], domains: list[str], seeds: list[int], tasks: int = 3, out: Path | None = None
) -> dict:
    """Run every set on every domain and seed; the summary per set, the audit rule ids and B/A ratios.

    Raises:
        UsageError: an unknown or broken rule set.
    """
    catalog, names = _catalog_with(sets)
    if len(set(names)) != len(names):
        raise UsageError(f"compare needs two different rule sets, got {' and '.join(names)}")
    audit: list[Rule] = []
    for name in names:  # the union of both sets' rules (persona rules drawn for seed 0 are not included)
        for rule in draw_rule_set(name, 0, catalog).rules[: len(catalog.sets[name].rules)]:
            if all(r.id != rule.id for r in audit):
                audit.append(rule)
    summaries: dict[str, dict] = {}
    for name in names:
        stats = []
        for domain in domains:
            knowledge = None
            for seed in seeds:
                session = run_dialogue(domain, seed, name, tasks, catalog)
                knowledge = knowledge or knowledge_or_none(session)
                row = dialogue_stats(session)
                verdicts = audit_session(session, audit, knowledge)
                failed = [v.rule_id for vs in verdicts.values() for v in vs if not v.passed]
                row["audit_violations"] = len(failed)
                row["audit_by_rule"] = Counter(failed)
                stats.append(row)
                if out is not None:
                    from turnloom.core.storage.snapshot import save_session

                    (out / name).mkdir(parents=True, exist_ok=True)
                    save_session(session, out / name / f"{domain}-seed{seed}.session.json")
        summaries[name] = summarise(stats)
    a, b = (summaries[names[0]], summaries[names[-1]])
    ratios = {
        key: (a[key] / b[key]) if b[key] else None for key in ("messages_mean", "user_turns_mean", "tasks_done_mean")
    }
    result = {
        "sets": names,
        "domains": domains,
        "seeds": [seeds[0], seeds[-1]] if seeds else [],
        "seed_count": len(seeds),
        "tasks": tasks,
        "audit_rules": [r.id for r in audit],
        "summary": summaries,
        "ratio_a_over_b": ratios,
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


ROWS = (
    ("messages, mean", "messages_mean", "{:.2f}"),
    ("messages, max", "messages_max", "{:d}"),
    ("user turns, mean", "user_turns_mean", "{:.2f}"),
    ("user turns, max", "user_turns_max", "{:d}"),
    ("subtasks per user turn", "subtasks_per_user_turn", "{:.2f}"),
    ("tasks completed, mean", "tasks_done_mean", "{:.2f}"),
    ("violations /100 user turns", "violations_per_100", "{:.1f}"),
    ("  audited vs A+B rules", "audit_violations_per_100", "{:.1f}"),
)


def format_table(result: dict) -> str:
    """The side-by-side table as text."""
    names = result["sets"]
    lines = [
        f"# {' vs '.join(names)} · {', '.join(result['domains'])} · {result['seed_count']} seeds "
        f"({result['seeds'][0]}-{result['seeds'][-1]}) · {result['tasks']} tasks",
    ]
    table = new_table("", *names, right=tuple(names))
    for title, key, fmt in ROWS:
        table.add_row(title, *(fmt.format(result["summary"][n][key]) for n in names))
    reasons = sorted({r for n in names for r in result["summary"][n]["finish_reasons"]})
    for reason in reasons:
        table.add_row(f"finish: {reason}", *(str(result["summary"][n]["finish_reasons"].get(reason, 0)) for n in names))
    lines.append(table_text(table))
    if len(names) > 1:
        ratios = result["ratio_a_over_b"]
        parts = [
            f"{key.removesuffix('_mean').replace('_', ' ')} {value:.2f}x" for key, value in ratios.items() if value
        ]
        lines.append(f"ratio {names[0]}/{names[-1]}: " + ", ".join(parts))
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    if len(args.rules) != 2:
        raise UsageError(f"compare needs exactly two rule sets (--rules A --rules B), got {len(args.rules)}")
    domains = pack_names() if args.domain == "all" else [args.domain]
    if args.domain != "all" and args.domain not in pack_names():
        raise UsageError(f"unknown domain {args.domain!r}; built-in domains: {', '.join(pack_names())}, or all")
    result = compare_rule_sets(args.rules, list(domains), args.seeds, args.tasks, Path(args.out) if args.out else None)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
