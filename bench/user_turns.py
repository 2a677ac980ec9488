"""Variety of offline user turns over a corpus: distinct-2 and exact duplicates.

    python bench/user_turns.py [--dialogues 300] [--seed-start 0] [--db FILE] [--show N] [--shapes N]

The corpus covers every built-in domain, both tool executions (sql, simulated)
and both modes (user-oriented, task-oriented) in equal parts, seeds 0, 1, 2...
per combination, each dialogue with the task count drawn from its seed. With
`--db FILE` it is every mode and execution on that database instead.

distinct-2 is the number of distinct word bigrams over all user turns divided by
the number of bigrams (bigrams never cross turns); words are lower-cased runs of
letters, digits and the characters . @ ' - inside them. A duplicate is a user turn
whose normalised text another user turn of the corpus already had; turns of three
words or fewer are left out of that count ("ok thanks" may repeat). `--shapes N` prints the
N sentence shapes (emails, dates, numbers and names masked) that hold the most bigrams, and
their share: where repetition is, to widen first.
"""

from __future__ import annotations

import argparse
import itertools
import re
import time
from collections import Counter

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, Role, Session, ToolExecution
from turnloom.core.players.offline.tasks import task_count

WORD = re.compile(r"[a-z0-9]+(?:[.@'’-][a-z0-9]+)*")


def corpus(dialogues: int, db: str | None = None, start: int = 0) -> list[Session]:
    """`dialogues` finished sessions spread evenly over domains, executions and modes."""
    sources: list[tuple[str | None, str | None]] = [(None, db)] if db else [(d, None) for d in pack_names()]
    combos = list(itertools.product(sources, ToolExecution, Mode))
    sessions = []
    for n in range(dialogues):
        (domain, path), execution, mode = combos[n % len(combos)]
        seed = start + n  # every dialogue its own seed: a shared seed would repeat its first turn across combinations
        tasks = task_count(seed)  # the count drawn per dialogue (mostly 1-5, a tail of long ones)
        session = create_session(domain, db_path=path, mode=mode, execution=execution, seed=seed, tasks=tasks)
        sessions.append(run_to_end(session))
    return sessions


def user_turns(sessions: list[Session]) -> list[str]:
    return [m.text for s in sessions for m in s.messages if m.role is Role.USER]


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def distinct_2(turns: list[str]) -> float:
    bigrams = [pair for text in turns for pair in itertools.pairwise(words(text))]
    return len(set(bigrams)) / len(bigrams) if bigrams else 0.0


def duplicate_share(turns: list[str]) -> float:
    """Share of turns (over three words) whose normalised text an earlier turn already had."""
    long_turns = [" ".join(words(t)) for t in turns if len(words(t)) > 3]
    seen: set[str] = set()
    duplicates = 0
    for text in long_turns:
        duplicates += text in seen
        seen.add(text)
    return duplicates / len(long_turns) if long_turns else 0.0


def openings(sessions: list[Session]) -> Counter[str]:
    """The first sentence of each dialogue's first user turn."""
    first = [next((m.text for m in s.messages if m.role is Role.USER), "") for s in sessions]
    return Counter(re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] for text in first)


# values a sentence's shape leaves out: emails, dates, numbers, capitalised names after the first word
_MASKS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "EMAIL"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "DATE"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "N"),
    (re.compile(r"(?<=[a-z,:] )[A-Z][\w'-]*(?: [A-Z][\w'-]*)*"), "NAME"),
)


def shapes(turns: list[str]) -> tuple[Counter[str], Counter[str], int]:
    """Sentence shapes (values masked): how often each is said, its bigrams, and all bigrams of the turns."""
    said: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    total = 0
    for text in turns:
        total += max(len(words(text)) - 1, 0)
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            shape = sentence
            for pattern, mask in _MASKS:
                shape = pattern.sub(mask, shape)
            said[shape.lower()] += 1
            bigrams[shape.lower()] += max(len(words(sentence)) - 1, 0)
    return said, bigrams, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dialogues", type=int, default=300)
    parser.add_argument("--db", default=None, help="a SQLite file instead of the built-in domains")
    parser.add_argument("--seed-start", type=int, default=0, help="first seed (another corpus of the same make-up)")
    parser.add_argument("--show", type=int, default=0, help="print the N most repeated user turns")
    parser.add_argument("--shapes", type=int, default=0, help="print the N sentence shapes holding most bigrams")
    args = parser.parse_args()
    started = time.perf_counter()
    sessions = corpus(args.dialogues, args.db, args.seed_start)
    turns = user_turns(sessions)
    first = openings(sessions)
    print(f"dialogues {len(sessions)}, user turns {len(turns)}")
    print(f"user-turn distinct-2: {distinct_2(turns):.4f}")
    print(f"exact-duplicate user turns (over three words): {duplicate_share(turns):.1%}")
    top = sum(n for _, n in first.most_common(18))
    print(f"distinct first sentences: {len(first)}; the 18 most common open {top} of {len(sessions)} dialogues")
    if args.show:
        counts = Counter(" ".join(words(t)) for t in turns if len(words(t)) > 3)
        for text, n in counts.most_common(args.show):
            print(f"{n:4d}  {text}")
    if args.shapes:
        said, held, total = shapes(turns)
        top = sorted(held, key=lambda k: -held[k])[: args.shapes]
        print(
            f"the {len(top)} sentence shapes holding most bigrams hold {sum(held[k] for k in top) / total:.1%} of them"
        )
        for shape in top:
            print(f"{said[shape]:4d}  {held[shape] / total:.2%}  {shape}")
    print(f"elapsed {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
