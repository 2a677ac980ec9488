"""Pilot-driven specifications of the workbench controls: step, auto-run, pause, override, edit, regenerate."""

from __future__ import annotations

from _tui_helpers import idle, main_screen, wait_for
from textual.widgets import TextArea

from turnloom.core.models import Provenance, Role, check_transcript
from turnloom.tui.screens.dialogs import ChoiceScreen
from turnloom.tui.screens.editor import EditorScreen
from turnloom.tui.screens.regenerate_compare import RegenerateCompareScreen


async def test_step_commits_exactly_one_message(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("n")
        await idle(pilot)
        assert len(screen.bench.session.messages) == 1
        assert screen.transcript.message_count == 1
        await pilot.press("n")
        await idle(pilot)
        assert [m.role for m in screen.bench.session.messages] == [Role.USER, Role.ASSISTANT]


async def test_every_commit_reaches_the_journal_before_save(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        for _ in range(3):
            await pilot.press("n")
            await idle(pilot)
        journal = screen.bench.path.with_suffix(".journal")
        assert journal.exists()
        assert journal.read_text().count('"ev":"message"') == 3
        assert screen.bench.unsaved


async def test_auto_run_then_escape_pauses_with_a_consistent_session(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        screen.auto_run_delay = 0.05
        await pilot.press("a")
        await wait_for(pilot, lambda: len(screen.bench.session.messages) >= 4)
        await pilot.press("escape")
        await idle(pilot)
        assert not screen.auto_running
        count = len(screen.bench.session.messages)
        await pilot.pause(0.1)
        assert len(screen.bench.session.messages) == count
        check_transcript(screen.bench.session.messages)
        assert screen.transcript.message_count == count
        await pilot.press("n")  # carries on from where it stopped
        await idle(pilot)
        assert len(screen.bench.session.messages) == count + 1


async def test_auto_run_key_toggles_it_off(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        screen.auto_run_delay = 0.05
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.auto_running and len(screen.bench.session.messages) >= 2)
        await pilot.press("a")
        await idle(pilot)
        assert not screen.auto_running


async def test_override_commits_an_operator_turn_and_the_simulator_carries_on(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        area = app.screen.query_one(TextArea)
        assert area.text  # prefilled with the simulator's proposal
        area.text = "Hi, can you list your toys items? [bold]thanks[/]"
        await pilot.press("ctrl+s")
        await idle(pilot)
        first = screen.bench.session.messages[0]
        assert first.meta.provenance is Provenance.OPERATOR
        assert first.content.endswith("[bold]thanks[/]")
        for _ in range(3):
            await pilot.press("n")
            await idle(pilot)
        assert screen.bench.session.messages[1].role is Role.ASSISTANT
        assert len(screen.bench.session.messages) == 4


async def test_override_cancelled_leaves_the_session_unchanged(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        await pilot.press("escape")
        await idle(pilot)
        assert screen.bench.session.messages == []


async def test_override_is_refused_when_it_is_not_the_users_turn(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("n")
        await idle(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert not isinstance(app.screen, EditorScreen)
        assert len(screen.bench.session.messages) == 1


async def test_edit_asks_then_drops_later_messages(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        for _ in range(5):
            await pilot.press("n")
            await idle(pilot)
        screen.transcript.focus()
        await pilot.press("home")  # select message 0
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        app.screen.query_one(TextArea).text = "Please show me order 3."
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.click("#yes")
        await idle(pilot)
        messages = screen.bench.session.messages
        assert len(messages) == 1
        assert messages[0].content == "Please show me order 3."
        assert messages[0].meta.provenance is Provenance.EDITED
        assert screen.transcript.message_count == 1


async def _edit_first_message_up_to_the_confirmation(app, pilot, text: str) -> None:
    for _ in range(3):
        await pilot.press("n")
        await idle(pilot)
    await pilot.press("home", "e")
    await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
    app.screen.query_one(TextArea).text = text
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))


async def test_the_confirmation_answers_to_y_from_the_keyboard(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _edit_first_message_up_to_the_confirmation(app, pilot, "Please show me order 3.")
        await pilot.press("y")
        await idle(pilot)
        assert [m.content for m in main_screen(app).bench.session.messages] == ["Please show me order 3."]


async def test_edit_cancelled_at_the_confirmation_changes_nothing(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _edit_first_message_up_to_the_confirmation(app, pilot, "Something else")
        await pilot.press("escape")
        await idle(pilot)
        assert len(main_screen(app).bench.session.messages) == 3


async def test_regenerate_replaces_the_selected_message_and_drops_the_rest(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        for _ in range(4):
            await pilot.press("n")
            await idle(pilot)
        await pilot.press("home", "down")  # message 1
        await pilot.press("r")  # old and new side by side; the later messages are kept as a branch
        await wait_for(pilot, lambda: isinstance(app.screen, RegenerateCompareScreen))
        await pilot.click("#compare-new")
        await idle(pilot)
        messages = screen.bench.session.messages
        assert len(messages) == 2
        assert messages[1].role is Role.ASSISTANT
        assert screen.transcript.message_count == 2


async def test_a_failing_backend_notifies_pauses_and_keeps_the_session(make_app, monkeypatch):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("n")
        await idle(pilot)

        async def broken(ctx, tools):
            raise RuntimeError("endpoint went away")

        monkeypatch.setattr(screen.bench.engine.roles.assistant, "propose", broken)
        await pilot.press("a")
        await idle(pilot)
        assert not screen.auto_running
        assert len(screen.bench.session.messages) == 1
        assert any("endpoint went away" in n.message for n in app._notifications)
        check_transcript(screen.bench.session.messages)
