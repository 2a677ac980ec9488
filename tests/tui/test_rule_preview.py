"""Pilot specifications of the rule preview: the next user turn under the changed rules beside the current ones."""

from __future__ import annotations

from _tui_helpers import idle, main_screen, wait_for
from textual.widgets import Checkbox, Input

from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.models import Role
from turnloom.tui.widgets.rule_preview import RulePreview
from turnloom.tui.widgets.rules_pane import RuleRow, RulesPane


def _row(screen, rule_id: str) -> RuleRow:
    return next(row for row in screen.query_one(RulesPane).query(RuleRow) if row.rule.id == rule_id)


async def _toggle(pilot, screen, rule_id: str) -> None:
    checkbox = _row(screen, rule_id).query_one(Checkbox)
    checkbox.value = not checkbox.value
    await pilot.pause()


async def test_turning_a_rule_off_previews_the_next_user_turn_beside_the_current_one_without_committing(
    make_app, sessions_dir
):
    # retail seed 2: the first task has four subtasks and its opening turn asks for one
    app = make_app(LiveSession.new(sessions_dir, domain="retail", seed=2))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        preview = screen.query_one(RulePreview)
        assert not preview.display
        await _toggle(pilot, screen, "incremental_requests")
        await wait_for(pilot, lambda: preview.pair is not None)
        current, changed = preview.pair
        assert preview.display and "−incremental_requests" in str(preview.query_one("#preview-summary").render())
        assert len(current.meta.subtasks) < len(changed.meta.subtasks)  # a piece at a time vs all at once
        # nothing was committed, journalled or sent to the transcript
        session = screen.bench.session
        assert session.messages == [] and session.tasks == []
        assert screen.transcript.message_count == 0 and screen.transcript.pending is None
        # the pane applies the change from the next user turn: that turn is the previewed one
        screen.transcript.focus()
        await pilot.press("n")
        await idle(pilot)
        assert session.messages[0].content == changed.content
        assert not preview.display  # the changed rules are in force now


async def test_a_parameter_change_off_the_users_turn_says_when_the_preview_appears(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("n")
        await idle(pilot)
        assert screen.bench.engine.next_role() is Role.ASSISTANT
        field = _row(screen, "incremental_requests").query_one(Input)
        field.value = "1"
        field.post_message(Input.Submitted(field, field.value))
        preview = screen.query_one(RulePreview)
        await wait_for(pilot, lambda: preview.display)
        assert "incremental_requests.max_subtasks 2→1" in str(preview.query_one("#preview-summary").render())
        assert "next user turn" in preview.note and preview.pair is None
        screen.transcript.focus()
        while screen.bench.engine.next_role() is not Role.USER:
            await pilot.press("n")
            await idle(pilot)
        await wait_for(pilot, lambda: preview.pair is not None)  # previewed as soon as it is the user's turn
        _, changed = preview.pair
        assert len(changed.meta.subtasks) <= 1


async def test_a_newer_change_replaces_the_preview_and_undoing_every_change_hides_it(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        preview = screen.query_one(RulePreview)
        await _toggle(pilot, screen, "incremental_requests")
        await _toggle(pilot, screen, "turn_feedback")  # before the first preview settles
        await wait_for(pilot, lambda: preview.pair is not None)
        summary = str(preview.query_one("#preview-summary").render())
        assert "−incremental_requests" in summary and "−turn_feedback" in summary
        assert not any(w.group == "preview" and w.is_running for w in screen.workers)
        await _toggle(pilot, screen, "incremental_requests")
        await _toggle(pilot, screen, "turn_feedback")
        await wait_for(pilot, lambda: not preview.display)


async def test_p_hides_and_shows_the_preview_and_explains_itself_with_no_change(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        preview = screen.query_one(RulePreview)
        screen.transcript.focus()
        await pilot.press("p")
        await pilot.pause()
        assert not preview.display
        assert any("change one in the Rules pane" in n.message for n in app._notifications)
        await _toggle(pilot, screen, "incremental_requests")
        await wait_for(pilot, lambda: preview.pair is not None)
        screen.transcript.focus()
        await pilot.press("p")
        await pilot.pause()
        assert not preview.display
        await pilot.press("p")
        await wait_for(pilot, lambda: preview.pair is not None)
