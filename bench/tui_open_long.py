"""Open a long session in the TUI: read the file, build the app, first paint (issue 18, item 2).

    python bench/tui_open_long.py [--messages 2000] [--runs 7]

A real offline retail dialogue of `--messages` messages is made once and saved as JSON.
Each run then opens it the way the workbench does (`LiveSession.open`: read, validate,
journal check), builds the app (`build_app`) and runs it headless at 120x40 until the first
frame is painted (`pilot.pause()`); the time from opening the file to that frame is the
figure, with the process's CPU time over the same span (steadier on a loaded machine).
Imports are loaded by a warm-up run first. Prints the median, min and max.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path


async def make_session(folder: Path, messages: int) -> Path:
    from turnloom.core.lifecycle.live_session import LiveSession

    live = LiveSession.new(folder, seed=7, tasks=1_000)
    live.session.config.max_messages = 100_000
    await live.engine.run(max_steps=messages)
    path = live.save()
    live.close()
    return path


async def open_and_paint(path: Path) -> tuple[float, float, int]:
    from turnloom.core.config import TurnloomConfig
    from turnloom.core.lifecycle.live_session import LiveSession
    from turnloom.tui.app import build_app

    started, cpu = time.perf_counter(), time.process_time()
    live = LiveSession.open(path, TurnloomConfig(sessions_dir=str(path.parent)))
    app = build_app(TurnloomConfig(sessions_dir=str(path.parent)), live)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        from turnloom.tui.widgets.transcript import Transcript

        shown = app.screen.query_one(Transcript).message_count
    return elapsed, cpu, shown


async def main_async(messages: int, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="tl-open-") as tmp:
        path = await make_session(Path(tmp), messages)
        await open_and_paint(path)  # warm-up: imports, theme files
        times, cpus = [], []
        for _ in range(runs):
            elapsed, cpu, shown = await open_and_paint(path)
            times.append(elapsed)
            cpus.append(cpu)
        print(
            f"open {shown}-message session and paint: median {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}); CPU median {statistics.median(cpus):.3f} s; "
            f"{runs} runs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main_async(args.messages, args.runs))


if __name__ == "__main__":
    main()
