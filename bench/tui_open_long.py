"""Open a long session in the TUI: read the file, build the app, first paint (issue 18, item 2).

    python bench/tui_open_long.py [--messages 2000] [--runs 7]

A real offline retail dialogue of `--messages` messages is made once and saved as JSON.
Each run is a fresh process (so no earlier run's objects are in the heap, as for a user's
`turnloom FILE`) that imports the app first, then opens the file the way the workbench does
(`LiveSession.open`: read, validate, journal check), builds the app (`build_app`) and runs
it headless at 120x40. Two spans are timed from opening the file, with the process's CPU
time over each (steadier on a loaded machine):

- first frame: until the first frame that shows the transcript's messages is composed
  (`App._display`, once the Conversation pane has painted lines of laid-out messages);
- idle: until `pilot.pause()` returns (every message the start-up queued is handled: the
  panes' later frames and the heap settling after the first paint).

Prints the median, min and max of each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
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


async def open_and_paint(path: Path) -> dict[str, float | int]:
    """One open in this process: the spans (wall and CPU seconds) and the messages shown."""
    from textual.app import App

    from turnloom.core.config import TurnloomConfig
    from turnloom.core.lifecycle.live_session import LiveSession
    from turnloom.tui.app import build_app
    from turnloom.tui.widgets.transcript import Transcript

    marks: dict[str, float] = {}
    display, render_line = App._display, Transcript.render_line

    def painted_line(self: Transcript, y: int):  # type: ignore[no-untyped-def]
        if self._offsets and "lines" not in marks:  # laid out: message lines, not a blank pane
            marks["lines"] = 1
        return render_line(self, y)

    def shown(self: App, screen, renderable):  # type: ignore[no-untyped-def]
        if renderable is not None and "lines" in marks and "frame" not in marks:
            marks["frame"], marks["frame_cpu"] = time.perf_counter() - started, time.process_time() - cpu
        return display(self, screen, renderable)

    Transcript.render_line = painted_line  # type: ignore[method-assign]
    App._display = shown  # type: ignore[method-assign]
    started, cpu = time.perf_counter(), time.process_time()
    live = LiveSession.open(path, TurnloomConfig(sessions_dir=str(path.parent)))
    app = build_app(TurnloomConfig(sessions_dir=str(path.parent)), live)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        idle, idle_cpu = time.perf_counter() - started, time.process_time() - cpu
        count = app.screen.query_one(Transcript).message_count
    return {
        "frame": marks["frame"],
        "frame_cpu": marks["frame_cpu"],
        "idle": idle,
        "idle_cpu": idle_cpu,
        "shown": count,
    }


def one_run(path: Path) -> dict[str, float | int]:
    out = subprocess.run(
        [sys.executable, __file__, "--one", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--one", metavar="FILE", help=argparse.SUPPRESS)  # a run's child process
    args = parser.parse_args()
    if args.one:
        import turnloom.tui.app  # noqa: F401  imports are not part of the figure

        print(json.dumps(asyncio.run(open_and_paint(Path(args.one)))))
        return
    with tempfile.TemporaryDirectory(prefix="tl-open-") as tmp:
        path = asyncio.run(make_session(Path(tmp), args.messages))
        runs = [one_run(path) for _ in range(args.runs)]
    shown = runs[0]["shown"]
    for key, label in (("frame", "first frame with messages"), ("idle", "idle after start-up")):
        walls = [float(r[key]) for r in runs]
        cpus = [float(r[f"{key}_cpu"]) for r in runs]
        print(
            f"open {shown}-message session, {label}: median {statistics.median(walls):.3f} s "
            f"(min {min(walls):.3f}, max {max(walls):.3f}); CPU median {statistics.median(cpus):.3f} s; {args.runs} runs"
        )


if __name__ == "__main__":
    main()
