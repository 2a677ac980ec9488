"""Issue 16 in the workbench: guarded quits, key remaps, markup-safe notes, undo, regenerate, one more task."""

from __future__ import annotations

import pytest
from _tui_helpers import idle, main_screen, wait_for
from rich.console import Console
from textual.command import CommandPalette
from textual.widgets._toast import Toast

from turnloom.tui.screens.dialogs import ChoiceScreen
from turnloom.tui.screens.help import HelpScreen, help_table


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


def _notes(app):
    return [n.message for n in app._notifications]


async def test_a_remap_that_takes_another_actions_key_names_the_action_left_without_one(make_app):
    app = make_app(keys={"step": "e"})
    async with app.run_test(size=(120, 40)) as pilot:
        await idle(pilot)
        notes = _notes(app)
        assert any("step = 'e'" in n and "edit" in n and "[keys]" in n for n in notes), notes


async def test_a_nonsense_key_name_is_refused_with_a_note_and_the_default_kept(make_app):
    app = make_app(keys={"step": "[/x]", "save": "ctrl+nope"})
    async with app.run_test(size=(120, 40)) as pilot:
        await idle(pilot)
        notes = _notes(app)
        assert any("'[/x]'" in n and "not a key name" in n for n in notes), notes
        assert any("ctrl+nope" in n for n in notes)
        await pilot.press("n")  # step kept its default key
        await idle(pilot)
        assert len(main_screen(app).bench.session.messages) == 1


async def test_notifications_show_config_text_literally(make_app):
    app = make_app(keys={"no_such_binding": "z"})
    async with app.run_test(size=(120, 40)) as pilot:
        await idle(pilot)
        shown = [Toast(n).render().plain for n in app._notifications if not n.title]
        assert any("[keys] names unknown binding id(s): no_such_binding" in text for text in shown), shown


async def test_help_lists_the_binding_ids_to_remap(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await idle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200, record=True)
        console.print(help_table(app.key_remaps))
        text = console.export_text()
        assert "Binding id" in text and "auto_run" in text and "replay_branch" in text


def test_key_names_textual_can_send_are_accepted():
    from turnloom.tui.keymap import is_key_name

    for good in ("n", "ctrl+s", "f5", "question_mark", "shift+right", "?", "escape", "ctrl+shift+up", "space"):
        assert is_key_name(good), good
    for bad in ("[/x]", "ctrl+nope", "", "ctrl+", "hyperdrive"):
        assert not is_key_name(bad), bad


async def _steps(pilot, app, n):
    for _ in range(n):
        await pilot.press("n")
        await idle(pilot)
    return main_screen(app).bench


async def test_regenerate_shows_old_and_new_side_by_side_and_keep_old_changes_nothing(make_app):
    from turnloom.tui.screens.regenerate_compare import RegenerateCompareScreen

    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        bench = await _steps(pilot, app, 10)
        before = [m.model_dump() for m in bench.session.messages]
        await pilot.press("r")  # the last message: a user turn
        await wait_for(pilot, lambda: isinstance(app.screen, RegenerateCompareScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RegenerateCompareScreen))
        await idle(pilot)
        assert [m.model_dump() for m in bench.session.messages] == before
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RegenerateCompareScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, RegenerateCompareScreen))
        await idle(pilot)
        assert bench.session.messages[-1].content != before[-1]["content"]
        await pilot.press("ctrl+z")
        await idle(pilot)
        assert [m.model_dump() for m in bench.session.messages] == before
        assert main_screen(app).transcript.message_count == len(before)


async def test_editing_a_tool_call_turn_opens_its_calls_and_keeps_them(make_app):
    from textual.widgets import TextArea

    from turnloom.tui.screens.editor import EditorScreen

    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        bench = await _steps(pilot, app, 3)
        index = next(i for i, m in enumerate(bench.session.messages) if m.tool_calls)
        name = bench.session.messages[index].tool_calls[0].name
        main_screen(app).transcript.select(index)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        area = app.screen.query_one(TextArea)
        assert f'"name": "{name}"' in area.text
        area.text = area.text.replace('"text": ""', '"text": "Let me look that up."')
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, EditorScreen))
        if isinstance(app.screen, ChoiceScreen):
            await pilot.press("y")
        await idle(pilot)
        edited = bench.session.messages[index]
        assert edited.content == "Let me look that up." and edited.tool_calls[0].name == name
        assert main_screen(app).transcript.selected == index


async def _finished_bench(sessions_dir):
    from turnloom.core.lifecycle.live_session import LiveSession

    bench = LiveSession.new(sessions_dir, domain="retail", seed=1, tasks=1)
    await bench.run()
    assert bench.session.finish_reason == "user_done"
    return bench


@pytest.mark.parametrize("how", ["key", "palette"])
async def test_one_more_task_goes_on_from_a_finished_dialogue(make_app, sessions_dir, how):
    bench = await _finished_bench(sessions_dir)
    length = len(bench.session.messages)
    app = make_app(workbench=bench)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")  # no dead end: the note names the way on
        await idle(pilot)
        assert any("one more task" in n for n in _notes(app))
        if how == "key":
            await pilot.press("t")
        else:
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"one more task")
            await idle(pilot)
            await pilot.press("enter")
        await wait_for(pilot, lambda: bench.session.finish_reason is None)
        for _ in range(4):
            await pilot.press("n")
            await idle(pilot)
        assert len(bench.session.messages) > length + 2
        assert len(bench.session.tasks) == 2


def test_the_readme_lists_every_binding_id():
    from pathlib import Path

    from turnloom.tui.actions import ACTIONS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = readme.split("Binding ids:", 1)[1].split("Themes are", 1)[0]
    assert [a.id for a in ACTIONS if f"`{a.id}`" not in listed] == []


async def test_enter_in_the_new_session_form_creates_it_on_retail_by_default(make_app):
    from textual.widgets import Input

    from turnloom.tui.screens.new_session import NewSessionScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewSessionScreen))
        assert app.screen.query_one("#domain").value == "retail"
        app.screen.query_one("#seed", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is main_screen(app))
        assert main_screen(app).bench.session.domain == "retail"


async def test_enter_in_the_export_form_exports(make_app, tmp_path):
    from textual.widgets import Input

    from turnloom.tui.screens.export import ExportScreen

    out = tmp_path / "out.jsonl"
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        bench = await _steps(pilot, app, 10)
        assert any(m.role == "assistant" and m.content for m in bench.session.messages)
        await main_screen(app).run_action("export")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen) and bool(app.screen.query("#out")))
        field = app.screen.query_one("#out", Input)
        field.value = str(out)
        field.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: out.exists())


async def test_fork_names_the_selected_message_and_the_status_counts_one_msg(make_app):
    from turnloom.tui.widgets.status_line import StatusLine

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _steps(pilot, app, 1)
        assert "1 msg ·" in str(app.screen.query_one(StatusLine).render()) or "1 msg " in str(
            app.screen.query_one(StatusLine).render()
        )
        await _steps(pilot, app, 3)
        main_screen(app).transcript.select(2)
        await pilot.press("f")
        await idle(pilot)
        assert any("after message 2 (3 message(s) kept)" in n for n in _notes(app))


async def test_x_expands_a_long_message_in_replay(make_app, sessions_dir):
    from turnloom.core.lifecycle.live_session import LiveSession
    from turnloom.tui.screens.replay import ReplayScreen
    from turnloom.tui.widgets.transcript import Transcript

    bench = LiveSession.new(sessions_dir, domain="retail", seed=1)
    for _ in range(3):
        await bench.step()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ReplayScreen(bench.session, bench.path))
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("shift+right")
        transcript = app.screen.query_one(Transcript)
        last = transcript.selected_or_last()
        expanded = transcript._entries[last].expanded
        await pilot.press("x")
        await idle(pilot)
        assert transcript._entries[last].expanded is not expanded
