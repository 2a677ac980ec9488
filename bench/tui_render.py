"""Append-and-render cost of the Conversation pane on a 2,000-message session, while auto-running.

A 2,000-message offline session is loaded into the real app (headless, 120x40, built by
`build_app`), then auto-run (`a`) commits `--messages` more. For each committed message we
time, synchronously inside the commit event: the screen's handler (transcript append, tools
and status updates), a forced layout + compositor update of the whole screen (every
visible line rendered), and turning that update into terminal output. That is the work one
message costs before it is on screen; Textual's own frame pacing (up to 1/60 s) is not in it.
Memory is the process RSS before the app starts, once the session is shown, and after
the run.

    python bench/tui_render.py [--base 2000] [--messages 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def bench(base: int, extra: int) -> dict[str, float]:
    from turnloom.core.config import TurnloomConfig
    from turnloom.core.engine.engine import MessageCommitted
    from turnloom.core.lifecycle.live_session import LiveSession
    from turnloom.tui.app import build_app

    folder = Path(tempfile.mkdtemp(prefix="tl-bench-"))
    bench_ = LiveSession.new(folder, seed=7, tasks=1_000)
    bench_.session.config.max_messages = 100_000
    await bench_.engine.run(max_steps=base)
    bench_.recorder.changes = 0
    rss_before = rss_mib()
    app = build_app(TurnloomConfig(sessions_dir=str(folder)), bench_)
    timings: list[float] = []
    handler: list[float] = []
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.main_screen
        assert screen is not None
        load_s = time.perf_counter() - started
        rss_loaded = rss_mib()
        engine = screen.bench.engine
        marks: dict[str, float] = {}

        def before(event: object) -> None:
            if isinstance(event, MessageCommitted):
                marks["t0"] = time.perf_counter()

        def display(_screen: object, update: object) -> None:
            # headless apps skip writing frames; write this one to nowhere, as a terminal would get it
            if update is not None:
                update.render_segments(app.console)  # type: ignore[attr-defined]

        def after(event: object) -> None:
            if isinstance(event, MessageCommitted):
                handler.append((time.perf_counter() - marks["t0"]) * 1000)
                screen._on_timer_update()  # the next frame: layout if needed, compositor update, output
                timings.append((time.perf_counter() - marks["t0"]) * 1000)

        app._display = display  # type: ignore[method-assign]

        engine._listeners.insert(0, before)
        engine.subscribe(after)
        screen.auto_run_delay = 0.0
        await pilot.press("a")
        while len(timings) < extra:
            await asyncio.sleep(0.01)
        await pilot.press("escape")
        await pilot.pause()
        rss_after = rss_mib()
        shown = screen.transcript.message_count
    return {
        "messages_at_start": base,
        "messages_shown_at_end": shown,
        "load_and_first_paint_s": load_s,
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 0.95),
        "p99_ms": percentile(timings, 0.99),
        "max_ms": max(timings),
        "handler_p50_ms": statistics.median(handler),
        "handler_p95_ms": percentile(handler, 0.95),
        "samples": len(timings),
        "slowest_ms": [round(t, 1) for t in sorted(timings)[-8:]],
        "slowest_at": sorted(range(len(timings)), key=timings.__getitem__)[-8:],
        "rss_before_app_mib": rss_before,
        "rss_session_shown_mib": rss_loaded,
        "rss_after_run_mib": rss_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=2_000, help="messages in the session before auto-run")
    parser.add_argument("--messages", type=int, default=300, help="messages to auto-run and time")
    args = parser.parse_args()
    result = asyncio.run(bench(args.base, args.messages))
    for key, value in result.items():
        print(f"{key:24} {value:.2f}" if isinstance(value, float) else f"{key:24} {value}")


if __name__ == "__main__":
    main()
