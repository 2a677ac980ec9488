"""Session file figures: snapshot save/load time, and journal append cost per message.

    python bench/session_io.py [--runs 7] [--appends 500]

1. Save (atomic: temp file, fsync, rename) and load (parse, migrate, validate) of a
   1,000-message session, as JSON and as TOML; median of `--runs` runs.
2. Journal append cost per committed message (`Journal.record_message`, flushed,
   no fsync - the default) when the session already holds 10, 1,000 and 10,000
   messages: the median per-append time over `--appends` appends. The journal
   never rewrites what it holds, so this must stay flat as sessions grow.

The sessions are real offline dialogues (a long multi-task retail run); the
10,000-message one repeats that dialogue's messages with fresh tool-call ids.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import ChatMessage, Session
from turnloom.core.storage.journal import Journal
from turnloom.core.storage.snapshot import load_session, save_session


def long_dialogue(messages: int) -> Session:
    """A real offline dialogue cut to exactly `messages` messages."""
    session = create_session("retail", seed=5, tasks=messages, max_messages=messages + 50)
    engine = open_engine(session)
    asyncio.run(engine.run(max_steps=messages))
    engine.environment.close()
    assert len(session.messages) >= messages, len(session.messages)
    return session


def grown(template: Session, size: int) -> Session:
    """A session of `size` messages: `template`'s messages repeated with fresh call ids."""
    pool = template.messages
    messages: list[ChatMessage] = []
    while len(messages) < size:
        round_ = len(messages) // len(pool)
        for message in pool[: size - len(messages)]:
            messages.append(_renamed(message, round_))
    return template.model_copy(update={"messages": messages, "write_log": [], "finish_reason": None})


def _renamed(message: ChatMessage, round_: int) -> ChatMessage:
    if round_ == 0:
        return message
    update: dict = {}
    if message.tool_calls:
        update["tool_calls"] = [c.model_copy(update={"id": f"{c.id}_r{round_}"}) for c in message.tool_calls]
    if message.tool_call_id:
        update["tool_call_id"] = f"{message.tool_call_id}_r{round_}"
    return message.model_copy(update=update)


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def snapshot_figures(session: Session, folder: Path, runs: int) -> list[tuple[str, float, float, int]]:
    rows = []
    for fmt in ("json", "toml"):
        path = folder / f"bench.session.{fmt}"
        save_ms = median_ms(lambda path=path: save_session(session, path), runs)
        load_ms = median_ms(lambda path=path: load_session(path), runs)
        assert load_session(path) == session
        rows.append((fmt, save_ms, load_ms, path.stat().st_size))
    return rows


def journal_figures(template: Session, folder: Path, sizes: list[int], appends: int) -> list[tuple[int, float, float]]:
    rows = []
    extra = template.messages[:appends]
    for size in sizes:
        session = grown(template, size)
        path = folder / f"j{size}.session.json"
        save_session(session, path)
        journal = Journal.open(path, session)  # light header: the snapshot matches
        per_append = []
        for offset, message in enumerate(extra):
            message = _renamed(message, 10_000 + offset)
            started = time.perf_counter()
            journal.record_message(size + offset, message)
            per_append.append((time.perf_counter() - started) * 1_000_000)
        journal.close()
        rows.append((size, statistics.median(per_append), statistics.quantiles(per_append, n=20)[-1]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per save/load figure (median)")
    parser.add_argument("--appends", type=int, default=500, help="appends timed per journal size")
    args = parser.parse_args()
    template = long_dialogue(1000)
    session = template.model_copy(update={"messages": template.messages[:1000]})
    session = Session.model_validate(session.model_dump())  # a consistent 1,000-message session
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"snapshot of {len(session.messages)} messages, median of {args.runs} runs")
        print(f"{'format':<7} {'save ms':>9} {'load ms':>9} {'size KiB':>10}")
        for fmt, save_ms, load_ms, size in snapshot_figures(session, folder, args.runs):
            print(f"{fmt:<7} {save_ms:>9.1f} {load_ms:>9.1f} {size / 1024:>10.0f}")
        print()
        print(f"journal append per message ({args.appends} appends each)")
        print(f"{'session msgs':>12} {'median µs':>10} {'p95 µs':>8}")
        for size, median_us, p95_us in journal_figures(template, folder, [10, 1000, 10_000], args.appends):
            print(f"{size:>12} {median_us:>10.1f} {p95_us:>8.1f}")


if __name__ == "__main__":
    main()
