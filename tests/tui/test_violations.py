"""Pilot specifications of rule-violation marks and of a user turn held back for breaking a rule."""

from __future__ import annotations

from _tui_helpers import idle, main_screen, screen_text, status_text, wait_for
from textual.widgets import TextArea

from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.models import Provenance, Role
from turnloom.core.rules.rule_files import builtin_rules
from turnloom.tui.screens.editor import EditorScreen


def _strict_bench(sessions_dir, policy: str = "flag") -> LiveSession:
    """A session whose only rule is `terse` with at most 3 words: nearly every simulated turn breaks it."""
    bench = LiveSession.new(sessions_dir, domain="retail", seed=1)
    terse = builtin_rules()["terse"]
    bench.session.config.rules = [
        terse.model_copy(update={"params": {**terse.params, "max_words": 3}, "enabled": True})
    ]
    bench.session.config.violation_policy = policy  # type: ignore[assignment]
    return bench


async def test_a_user_turn_that_breaks_a_rule_is_marked_explained_and_counted(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        assert "0 violations" in status_text(screen)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        app.screen.query_one(TextArea).text = "As an AI language model, I need the toys list for my dataset."
        await pilot.press("ctrl+s")
        await idle(pilot)
        first = screen.bench.session.messages[0]
        broken = [v.rule_id for v in first.meta.violations]
        assert "natural_style" in broken
        text = screen_text(screen.transcript)
        assert "⚠ natural_style" in text  # the mark in the header
        detail = next(v.detail for v in first.meta.violations if v.rule_id == "natural_style")
        assert f"⚠ rule natural_style — {detail}" in text  # and what it was about
        count = len(first.meta.violations)
        assert f"{count} violation{'' if count == 1 else 's'}" in status_text(screen)


async def test_the_pending_proposal_shows_its_violations(make_app, sessions_dir):
    app = make_app(workbench=_strict_bench(sessions_dir))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("o")  # the override editor keeps the proposal on show behind it
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        pending = screen.transcript.pending
        assert pending is not None and [v.rule_id for v in pending.meta.violations] == ["terse"]
        assert "proposed · not committed · ⚠ terse" in screen_text(screen.transcript)
        await pilot.press("escape")
        await idle(pilot)
        assert screen.bench.session.messages == []


async def _held(pilot, screen) -> None:
    await pilot.press("a")
    await wait_for(pilot, lambda: screen.bench.engine.pending_violation is not None and not screen.busy())
    await pilot.pause()


async def test_auto_run_holds_a_violating_turn_and_c_commits_it_as_it_is(make_app, sessions_dir):
    app = make_app(workbench=_strict_bench(sessions_dir, "pause"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await _held(pilot, screen)
        held = screen.bench.engine.pending_violation
        assert screen.bench.session.messages == []
        assert screen.transcript.pending is held.message
        text = screen_text(screen.transcript)
        assert "⚠ terse" in text and "c commit it as it is" in text
        assert "held: rule violation" in status_text(screen)
        await pilot.press("a")  # auto-run does not step over a held turn
        await pilot.pause()
        assert not screen.auto_running and screen.bench.session.messages == []
        await pilot.press("c")
        await idle(pilot)
        (first,) = screen.bench.session.messages
        assert first.content == held.message.content and first.meta.provenance is Provenance.SIMULATOR
        assert [v.rule_id for v in first.meta.violations] == ["terse"]
        assert screen.bench.engine.pending_violation is None and screen.transcript.pending is None
        assert "1 violation" in status_text(screen)


async def test_a_held_turn_can_be_drawn_again_then_overridden(make_app, sessions_dir):
    app = make_app(workbench=_strict_bench(sessions_dir, "pause"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await _held(pilot, screen)
        first_draw = screen.bench.engine.pending_violation
        await pilot.press("r")
        await idle(pilot)
        second_draw = screen.bench.engine.pending_violation
        assert second_draw is not None and second_draw is not first_draw
        assert screen.transcript.pending is second_draw.message
        assert screen.bench.session.messages == []
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        area = app.screen.query_one(TextArea)
        assert area.text == second_draw.message.text  # prefilled with the held turn
        area.text = "Toys, please."
        await pilot.press("ctrl+s")
        await idle(pilot)
        (first,) = screen.bench.session.messages
        assert first.role is Role.USER and first.meta.provenance is Provenance.OPERATOR
        assert not first.meta.violations
        assert screen.bench.engine.pending_violation is None
        await pilot.press("a")  # and auto-run carries on, to the next turn that breaks the rule
        await wait_for(pilot, lambda: len(screen.bench.session.messages) >= 2)
        await pilot.press("escape")
        await idle(pilot)
        assert screen.bench.session.messages[1].role is Role.ASSISTANT
