"""The workbench's cut (`delete`): drop the selected message and what follows, kept as a branch that undo brings back."""

from __future__ import annotations

from _tui_helpers import idle, main_screen, wait_for

from turnloom.tui.screens.dialogs import ChoiceScreen


async def test_cut_drops_from_the_selected_message_after_asking_and_undo_brings_it_back(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        for _ in range(4):
            await pilot.press("n")
            await idle(pilot)
        messages = list(screen.bench.session.messages)
        screen.transcript.select(2)
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("n")  # asked first: no leaves the dialogue as it was
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.bench.session.messages == messages
        await pilot.press("delete", "y")
        await wait_for(pilot, lambda: len(screen.bench.session.messages) == 2)
        assert screen.transcript.message_count == 2
        branch = screen.bench.session.dropped_branches[-1]
        assert (branch.action, branch.at, branch.messages) == ("truncate", 2, messages[2:])
        await pilot.press("ctrl+z")
        assert screen.bench.session.messages == messages and screen.transcript.message_count == len(messages)
