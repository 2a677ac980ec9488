"""Table 1 statistics of offline dialogues: user-oriented vs task-oriented on the same seeds.

    python bench/table1.py [--seeds 20] [--seed-start 0] [--tasks N]

Counts as the paper does: Turn = every message (user, assistant, tool call, tool
output); Step = tool-calling assistant messages per user request (and per
dialogue); Task = tasks completed. Without `--tasks` each dialogue chains the
number of tasks drawn from its seed (`players.offline.tasks.task_count`: mostly
one to five, a tail of long dialogues).

Then, per mode, where the messages come from: the share of all messages that
belong to verification turns (the user asks to see a change took effect, under
the confirm rule), clarifications (the assistant asks which record, and the
user's answer), follow-ups (a question about a record the last answer listed),
corrections (the user points out the assistant took the wrong record) and the share of user turns that carry feedback on the last answer.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import Counter

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, Role, Session
from turnloom.core.players.offline.tasks import task_count
from turnloom.core.players.offline.transcript_reading import is_follow_up as _is_follow_up
from turnloom.core.quality.metrics import dialogue_stats
from turnloom.core.rules.check import FEEDBACK

_FIRST_SENTENCE = re.compile(r"^[^.?!:]*[.?!:]")
_CORRECTION = re.compile(
    r"\b(?:my first was|the first one is the one from|I meant the earliest one|not my first one)\b"
)


def run(domain: str, seed: int, mode: Mode, tasks: int | None) -> Session:
    return run_to_end(create_session(domain, mode=mode, seed=seed, tasks=task_count(seed) if tasks is None else tasks))


def sources(sessions: list[Session]) -> dict[str, float]:
    """Shares of messages due to verification, clarification and follow-ups; of user turns with feedback."""
    counts: Counter[str] = Counter()
    messages = user_turns = feedback = 0
    for session in sessions:
        ms = session.messages
        messages += len(ms)
        for k, m in enumerate(ms):
            if m.role is not Role.USER:
                continue
            user_turns += 1
            end = next((j for j in range(k + 1, len(ms)) if ms[j].role is Role.USER), len(ms))
            span = end - k
            previous = ms[k - 1] if k else None
            asked_back = (
                previous is not None and previous.role is Role.ASSISTANT and previous.text.rstrip().endswith("?")
            )
            if (
                k
                and not asked_back
                and FEEDBACK.search(
                    (_FIRST_SENTENCE.match(m.text) or m).group(0) if _FIRST_SENTENCE.match(m.text) else m.text
                )
            ):
                feedback += 1
            if m.meta.notes and m.meta.notes.verify:
                counts["verification"] += span
            elif asked_back and k > 1:
                counts["clarification"] += span + 1  # the assistant's question and all the answer brings
            elif k and _is_follow_up(m):
                counts["follow-up"] += span
            elif _CORRECTION.search(m.text):
                counts["correction"] += span  # "that's not my first one": the assistant took the wrong record
    shares = {key: counts[key] / messages for key in ("verification", "clarification", "follow-up", "correction")}
    shares["feedback (user turns)"] = feedback / user_turns if user_turns else 0.0
    return shares


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--seed-start", type=int, default=0, help="first seed (another window of dialogues)")
    parser.add_argument("--tasks", type=int, default=None, help="pin the tasks per dialogue (default: drawn)")
    args = parser.parse_args()
    started = time.perf_counter()
    means = {}
    shares = {}
    print(f"{'paradigm':<15} {'domain':<9} {'Step/req':>10} {'Step/dlg':>10} {'Turn':>12} {'Task':>10} {'Samples':>8}")
    for mode in (Mode.TASK_ORIENTED, Mode.USER_ORIENTED):
        all_stats = []
        all_sessions = []
        for domain in [*pack_names(), "all"]:
            if domain == "all":
                stats = all_stats
            else:
                sessions = [
                    run(domain, seed, mode, args.tasks) for seed in range(args.seed_start, args.seed_start + args.seeds)
                ]
                all_sessions.extend(sessions)
                stats = [dialogue_stats(s) for s in sessions]
                all_stats.extend(stats)

            def cell(key, stats=stats):
                values = [s[key] for s in stats]
                return f"{statistics.mean(values):.2f} ({max(values):.3g})"

            print(
                f"{mode.value:<15} {domain:<9} {cell('steps_per_request'):>10} {cell('steps'):>10} "
                f"{cell('turns'):>12} {cell('tasks_done'):>10} {len(stats):>8}"
            )
        means[mode] = statistics.mean(s["turns"] for s in all_stats)
        shares[mode] = sources(all_sessions)
    ratio = means[Mode.USER_ORIENTED] / means[Mode.TASK_ORIENTED]
    print(f"\nmean Turn ratio user-oriented / task-oriented: {ratio:.2f}x (paper: 21.79 / 12.84 = 1.70x)")
    print("\nwhere the messages come from (share of all messages; feedback: share of user turns)")
    for mode, values in shares.items():
        print(f"  {mode.value:<15} " + ", ".join(f"{k} {v:.1%}" for k, v in values.items()))
    print(f"elapsed {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
