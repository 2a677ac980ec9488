"""Specifications of the session flows: save, open, crash recovery, fork, replay, new session, export, quit."""

from __future__ import annotations

import json

from _tui_helpers import idle, main_screen, wait_for
from textual.widgets import Input, OptionList

from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.storage.journal import open_session
from turnloom.core.storage.snapshot import load_session
from turnloom.tui.screens.dialogs import ChoiceScreen, ErrorScreen
from turnloom.tui.screens.export import ExportScreen
from turnloom.tui.screens.new_session import NewSessionScreen
from turnloom.tui.screens.open_session import OpenSessionScreen
from turnloom.tui.screens.replay import ReplayScreen


async def _steps(pilot, count: int) -> None:
    for _ in range(count):
        await pilot.press("n")
        await idle(pilot)


async def test_save_writes_the_snapshot_and_folds_the_journal(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await _steps(pilot, 4)
        await pilot.press("ctrl+s")
        await pilot.pause()
        path = screen.bench.path
        assert load_session(path).messages == screen.bench.session.messages
        assert not screen.bench.unsaved


async def test_open_picks_a_session_from_the_sessions_folder(make_app, sessions_dir):
    saved = LiveSession.new(sessions_dir, domain="airline", seed=5)
    saved.session.title = "to open"
    saved.save()
    saved.close()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, OpenSessionScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, OpenSessionScreen))
        assert main_screen(app).bench.session.id == saved.session.id


async def test_a_session_file_that_fails_to_load_shows_an_error_and_the_app_keeps_running(
    make_app, sessions_dir, tmp_path
):
    bad = tmp_path / "broken.session.json"
    bad.write_text('{"schema_version": 1, "domain": ')
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        before = main_screen(app).bench.session.id
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, OpenSessionScreen))
        app.screen.query_one(Input).value = str(bad)
        app.screen.query_one(Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is main_screen(app))
        assert main_screen(app).bench.session.id == before
        await pilot.press("n")
        await idle(pilot)
        assert len(main_screen(app).bench.session.messages) == 1


async def test_reopening_after_a_crash_restores_every_committed_message(make_app, sessions_dir):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await _steps(pilot, 5)
        path = screen.bench.path
        expected = [m.model_dump() for m in screen.bench.session.messages]
    # no save, no clean close of the journal: as after a crash
    assert not path.exists()
    session, _ = open_session(path)
    assert [m.model_dump() for m in session.messages] == expected
    reopened = make_app(workbench=LiveSession.open(path))
    async with reopened.run_test(size=(120, 40)) as pilot:
        screen = main_screen(reopened)
        assert screen.transcript.message_count == 5
        assert screen.bench.unsaved  # the snapshot is still owed


async def test_fork_starts_a_new_session_and_leaves_the_parent_untouched(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await _steps(pilot, 6)
        await pilot.press("ctrl+s")
        parent_path = screen.bench.path
        parent_text = parent_path.read_text()
        parent_id = screen.bench.session.id
        await pilot.press("home", "down", "down")  # message 2
        await pilot.press("f")
        await pilot.pause()
        child = screen.bench.session
        assert child.id != parent_id
        assert len(child.messages) == 3
        assert child.parent is not None and child.parent.session_id == parent_id
        assert parent_path.read_text() == parent_text
        assert screen.bench.path.exists()
        await pilot.press("n")
        await idle(pilot)
        assert len(child.messages) == 4
        assert len(load_session(parent_path).messages) == 6


async def test_replay_steps_forward_and_back_then_branches(make_app, sessions_dir):
    source = LiveSession.new(sessions_dir, seed=2)
    import asyncio

    for _ in range(6):
        await source.engine.step()
    source.save()
    source.close()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, OpenSessionScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        await pilot.press("right", "right", "right", "left")
        assert replay.position == 2
        await pilot.press("shift+right")
        assert replay.position == 6
        await pilot.press("shift+left", "right", "right", "right", "right")
        await pilot.press("b")
        await wait_for(pilot, lambda: app.screen is main_screen(app))
        bench = main_screen(app).bench
        assert len(bench.session.messages) == 4
        assert bench.session.parent is not None and bench.session.parent.at == 4
        assert len(load_session(source.path).messages) == 6  # replay never writes
        await asyncio.sleep(0)


async def test_new_session_dialog_starts_the_session_asked_for(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewSessionScreen))
        form = app.screen
        form.query_one("#domain").value = "clinic"
        form.query_one("#mode").value = "task-oriented"
        form.query_one("#seed", Input).value = "42"
        form.query_one("#tasks", Input).value = "2"
        await pilot.click("#create")
        await wait_for(pilot, lambda: app.screen is main_screen(app))
        session = main_screen(app).bench.session
        assert (session.domain, session.config.seed, session.config.tasks) == ("clinic", 42, 2)
        assert str(session.config.mode) == "task-oriented"
        await pilot.press("n")
        await idle(pilot)
        assert len(session.messages) == 1


async def test_new_session_with_a_bad_database_file_shows_an_error(make_app, tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewSessionScreen))
        app.screen.query_one("#db-path", Input).value = str(junk)
        await pilot.click("#create")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))


async def test_export_from_the_palette_action_writes_jsonl(make_app, tmp_path):
    app = make_app()
    out = tmp_path / "out.jsonl"
    async with app.run_test(size=(120, 40)) as pilot:
        await _steps(pilot, 4)
        for _ in range(8):  # on to the first answer in words: a record needs one to learn from
            if any(m.role == "assistant" and m.content for m in main_screen(app).bench.session.messages):
                break
            await _steps(pilot, 1)
        await main_screen(app).run_action("export")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen) and bool(app.screen.query("#out")))
        app.screen.query_one("#out", Input).value = str(out)
        await pilot.click("#export")
        await wait_for(pilot, lambda: out.exists())
        record = json.loads(out.read_text().splitlines()[0])
        assert record["messages"][0]["role"] in ("user", "system")


async def test_quit_asks_only_when_something_is_unsaved(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await idle(pilot)
        path = main_screen(app).bench.path
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.click("#save")
        await wait_for(pilot, lambda: not app.is_running)
    assert len(load_session(path).messages) == 1
    assert not path.with_suffix(".journal").exists()


async def test_quit_without_changes_exits_at_once(make_app, sessions_dir):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)
    assert not sessions_dir.exists() or not any(sessions_dir.iterdir())


async def test_open_picker_lists_a_crashed_unsaved_session(make_app, sessions_dir):
    crashed = LiveSession.new(sessions_dir, seed=3)
    await crashed.engine.step()  # journal written, never saved
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, OpenSessionScreen))
        option_list = app.screen.query_one(OptionList)
        assert "unsaved" in str(option_list.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is main_screen(app))
        assert main_screen(app).bench.session.id == crashed.session.id
        assert len(main_screen(app).bench.session.messages) == 1
