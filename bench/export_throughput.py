"""Export throughput on one core: sessions per second for each format (issue 17).

Generates offline dialogues across the built-in domains (user-oriented, SQL execution, 3 tasks),
then times `export_sessions` on them, every check included, writing a real JSONL file: once
with the defaults and once with the shaping options (`--parallel-calls sequential
--tools used+5 --system`). The process is pinned to one core. Reading session files is timed
separately (`read`), since `turnloom export` pays it too; on a build that shares tool lists
between the files a worker reads (`storage.tool_lists`), also that way (`read, shared tools`).

    python bench/export_throughput.py --sessions 300 --repeats 5 [--dir FOLDER]

With `--dir`, the sessions are saved there once and read back on later runs (so two builds
can be timed on the same sessions). Each figure is sessions per CPU second of this process
(`time.process_time`): on a machine shared with other work that is what one core gives,
where wall time would count the waits for it too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from turnloom.core.domains import pack_names
from turnloom.core.export import FORMATS, ExportOptions, ParallelCalls, ToolSelection, export_sessions
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import Session
from turnloom.core.storage.snapshot import load_session, save_session

SHAPED = ExportOptions(parallel_calls=ParallelCalls.SEQUENTIAL, tools=ToolSelection(True, 5), system=True)


def generate(count: int) -> list[Session]:
    sessions = []
    domains = pack_names()
    for seed in range(count):
        session = create_session(domains[seed % len(domains)], seed=seed, tasks=3)
        engine = open_engine(session)
        asyncio.run(engine.run())
        engine.environment.close()
        sessions.append(session)
    return sessions


def timed(run: object, repeats: int) -> list[float]:
    """CPU seconds of this process for each of `repeats` runs."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()  # type: ignore[operator]
        times.append(time.process_time() - start)
    return times


def saved_sessions(folder: Path, count: int) -> list[Path]:
    """`count` generated sessions saved in `folder` (made once; later runs read the same files)."""
    paths = sorted(folder.glob("*.session.json"))
    if paths and len(paths) < count:
        raise SystemExit(f"{folder} holds {len(paths)} sessions, fewer than {count}: give an empty or new folder")
    if not paths:
        folder.mkdir(parents=True, exist_ok=True)
        for number, session in enumerate(generate(count)):
            path = folder / f"{number:05d}-{session.id}.session.json"
            save_session(session, path)
            paths.append(path)
    return paths[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", help="keep the generated sessions here and reuse them on later runs")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with tempfile.TemporaryDirectory() as folder:
        paths = saved_sessions(Path(args.dir or folder), args.sessions)
        sessions = [load_session(p) for p in paths]
        messages = sum(len(s.messages) for s in sessions)
        print(f"{len(sessions)} sessions, {messages / len(sessions):.1f} messages each on average; one core, CPU time")
        read = timed(lambda: [load_session(p) for p in paths], args.repeats)
        print(f"{'read':>10}: {len(sessions) / statistics.median(read):8,.0f} sessions/s")
        try:  # a build with shared tool lists: how `stats` and `export` read (one cache per 48 files)
            from turnloom.core.storage.tool_lists import ToolListCache
        except ImportError:
            pass
        else:

            def read_shared() -> None:
                for start in range(0, len(paths), 48):
                    cache = ToolListCache()
                    for path in paths[start : start + 48]:
                        load_session(path, cache)

            shared = timed(read_shared, args.repeats)
            print(f"{'read, shared tools':>10}: {len(sessions) / statistics.median(shared):8,.0f} sessions/s")
        for label, options in (("defaults", ExportOptions()), ("shaped", SHAPED)):
            for fmt in FORMATS:
                out = Path(folder) / f"{fmt}.jsonl"
                runs = timed(lambda: export_sessions(sessions, fmt, out, env={}, options=options), args.repeats)  # noqa: B023
                rates = [len(sessions) / t for t in runs]
                print(
                    f"{fmt:>10} {label:>8}: median {statistics.median(rates):8,.0f} sessions/s "
                    f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})"
                )


if __name__ == "__main__":
    main()
