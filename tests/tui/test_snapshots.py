"""Snapshot tests of the main states at 120x40 (and one at 80x24), built through the CLI's factory.

Update with `pytest tests/tui/test_snapshots.py --snapshot-update` after a deliberate change.
"""

from __future__ import annotations

from pathlib import Path

from _tui_helpers import idle, main_screen, wait_for

from turnloom.core.models import Role
from turnloom.tui.screens.editor import EditorScreen
from turnloom.tui.screens.replay import ReplayScreen

SIZE = (120, 40)


async def _steps(pilot, count: int) -> None:
    for _ in range(count):
        await pilot.press("n")
        await idle(pilot)


def test_main_screen_new_session(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_main_screen_after_steps(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await _steps(pilot, 7)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_main_screen_with_a_message_selected(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await _steps(pilot, 5)
        await pilot.press("home", "down", "down")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_override_editor(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, EditorScreen))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, press=["f1"])


def test_replay_screen(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await _steps(pilot, 6)
        session = main_screen(pilot.app).bench.session
        await pilot.app.push_screen(ReplayScreen(session, Path("demo.session.json")))
        await pilot.press("right", "right", "right")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_light_theme(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await _steps(pilot, 4)

    assert snap_compare(make_app(theme="turnloom-light"), terminal_size=SIZE, run_before=run_before)


def test_small_terminal(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await _steps(pilot, 4)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_rule_preview(snap_compare, make_app):
    from textual.widgets import Checkbox

    from turnloom.tui.widgets.rule_preview import RulePreview
    from turnloom.tui.widgets.rules_pane import RuleRow

    async def run_before(pilot) -> None:
        screen = main_screen(pilot.app)
        await _steps(pilot, 1)
        while screen.bench.engine.next_role() is not Role.USER:  # to the next user turn
            await _steps(pilot, 1)
        row = next(r for r in screen.query(RuleRow) if r.rule.id == "turn_feedback")
        row.query_one(Checkbox).value = False
        await wait_for(pilot, lambda: screen.query_one(RulePreview).pair is not None)
        screen.transcript.focus()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
