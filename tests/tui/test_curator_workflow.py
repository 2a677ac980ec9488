"""Issue 16 in the workbench: guarded quits, key remaps, markup-safe notes, undo, regenerate, one more task."""

from __future__ import annotations

import pytest
from _tui_helpers import idle, main_screen, wait_for
from textual.command import CommandPalette

from turnloom.tui.screens.dialogs import ChoiceScreen


@pytest.mark.parametrize("key", ["ctrl+q", "ctrl+c"])
async def test_every_quit_key_asks_about_unsaved_work(make_app, key):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await idle(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert app.is_running
        await pilot.press("c")
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceScreen))
        assert app.is_running
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("ctrl+q")  # asked twice: quit, the journal keeps the work
        await wait_for(pilot, lambda: not app.is_running)


async def test_the_palettes_quit_asks_about_unsaved_work(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await idle(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"quit")
        await idle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert app.is_running and main_screen(app).bench.unsaved
