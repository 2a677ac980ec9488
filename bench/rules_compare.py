"""Rules A/B: `turnloom compare --rules A --rules B` on every built-in domain, offline.

    python bench/rules_compare.py [--rules paper --rules none] [--seeds 1-50] [--tasks 3]

Prints the compare table for each domain and for all domains pooled, and the
ratios of mean messages and mean user turns (A / B). Deterministic: a re-run
gives the same figures.
"""

from __future__ import annotations

import argparse
import time

from turnloom.core.cli.compare_cmd import compare_rule_sets, format_table, seed_range
from turnloom.core.domains import pack_names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", action="append", default=None)
    parser.add_argument("--seeds", type=seed_range, default=seed_range("1-50"))
    parser.add_argument("--tasks", type=int, default=3)
    args = parser.parse_args()
    sets = args.rules or ["paper", "none"]
    started = time.perf_counter()
    ratios = []
    for domains in [[d] for d in pack_names()] + [list(pack_names())]:
        result = compare_rule_sets(sets, domains, args.seeds, args.tasks)
        print(format_table(result))
        print()
        ratio = result["ratio_a_over_b"]
        label = domains[0] if len(domains) == 1 else "all"
        a, b = (result["summary"][n] for n in sets)
        ratios.append(
            (
                label,
                a["messages_mean"],
                b["messages_mean"],
                ratio["messages_mean"],
                a["user_turns_mean"],
                b["user_turns_mean"],
                ratio["user_turns_mean"],
            )
        )
        if len(domains) > 1:
            for name in sets:
                audit = result["summary"][name]["audit_by_rule"]
                print(
                    f"audited violations of {name}, by rule: "
                    + (", ".join(f"{k} {v}" for k, v in audit.items()) or "none")
                )
            print()
    a, b = sets
    print(f"{'domain':<10} {'messages ' + a:>16} {b:>8} {'ratio':>7}   {'user turns ' + a:>18} {b:>8} {'ratio':>7}")
    for label, ma, mb, mr, ua, ub, ur in ratios:
        print(f"{label:<10} {ma:>16.2f} {mb:>8.2f} {mr:>6.2f}x   {ua:>18.2f} {ub:>8.2f} {ur:>6.2f}x")
    print(f"\nelapsed {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
