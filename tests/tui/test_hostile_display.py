"""Hostile data in the TUI: no widget hands the terminal an escape sequence or a bidi override, a dangling
link in the sessions folder is passed over, and file names built from session data stay in the folder."""

from __future__ import annotations

import os

from _tui_helpers import idle, main_screen, wait_for
from textual.widgets import OptionList, TextArea

from turnloom.core.lifecycle.live_session import LiveSession, default_path
from turnloom.core.models import ChatMessage, MessageMeta, Provenance
from turnloom.tui.screens.editor import EditorScreen
from turnloom.tui.screens.open_session import OpenSessionScreen, session_files
from turnloom.tui.widgets.message_text import clean

HOSTILE = "order 1\x1b]0;pwned\x07\x1b[2J\u009b31m please \u202eevil\u2066"


def test_display_text_never_carries_control_or_bidi_characters():
    shown = clean(HOSTILE)
    assert not any(ch in shown for ch in "\x1b\x07\u009b\u202e\u2066")
    assert shown.startswith("order 1\ufffd]0;pwned")


async def test_the_edit_dialog_shows_a_crafted_message_without_its_escape_sequences(make_app, sessions_dir):
    bench = LiveSession.new(sessions_dir, domain="retail", seed=1)
    bench.session.messages.append(
        ChatMessage(role="user", content=HOSTILE, meta=MessageMeta(provenance=Provenance.IMPORTED))
    )
    app = make_app(workbench=bench)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        screen.transcript.focus()
        await pilot.press("home", "e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        text = app.screen.query_one(TextArea).text
        assert "pwned" in text
        assert not any(ch in text for ch in "\x1b\x07\u009b\u202e\u2066")
        await pilot.press("escape")
        await idle(pilot)


async def test_a_dangling_link_in_the_sessions_folder_is_passed_over(make_app, sessions_dir, tmp_path):
    saved = LiveSession.new(sessions_dir, domain="airline", seed=5)
    saved.save()
    saved.close()
    os.symlink(tmp_path / "gone.session.json", sessions_dir / "dangling.session.json")
    os.symlink(tmp_path / "gone.session.journal", sessions_dir / "dangling2.session.journal")
    assert [path.name for path, _ in session_files(sessions_dir)] == [saved.path.name]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, OpenSessionScreen))
        assert app.screen.query_one(OptionList).option_count == 1
        await pilot.press("escape")


def test_a_crafted_domain_or_id_cannot_put_a_file_outside_the_sessions_folder(sessions_dir):
    bench = LiveSession.new(sessions_dir, domain="retail", seed=1)
    bench.session.domain = "../../outside"
    bench.session.id = "../x"
    path = default_path(sessions_dir, bench.session)
    assert path.parent == sessions_dir
    assert path.name.endswith(".session.json") and "/" not in path.name
