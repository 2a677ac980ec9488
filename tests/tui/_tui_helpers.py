"""Helpers for the TUI tests: wait for a condition while the app runs, find the main screen."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from turnloom.tui.app import TurnloomApp
from turnloom.tui.screens.main import MainScreen


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds (fails the test after `timeout` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


def main_screen(app: TurnloomApp) -> MainScreen:
    screen = app.main_screen
    assert screen is not None
    return screen


async def idle(pilot) -> None:
    """Wait until no engine worker is running."""
    app = pilot.app
    await wait_for(pilot, lambda: not main_screen(app).busy())


def screen_text(transcript) -> str:
    """The transcript's visible lines as words (wrapping ignored)."""
    height = transcript.scrollable_content_region.height
    return " ".join(" ".join(transcript.render_line(y).text for y in range(height)).split())


def status_text(screen) -> str:
    from turnloom.tui.widgets.status_line import StatusLine

    return str(screen.query_one(StatusLine).render())
