"""Issue 16: the workbench at 80x24 — every footer key whole (Help and Quit always), the status line cut
between its parts, rule titles wrapped at words, and rules that read as on or off without colour."""

from __future__ import annotations

from _tui_helpers import idle, main_screen, wait_for
from textual.widgets._footer import FooterKey

from turnloom.tui.screens.replay import ReplayScreen
from turnloom.tui.widgets.key_footer import KeyFooter, key_width
from turnloom.tui.widgets.rules_pane import RulesPane, RuleToggle
from turnloom.tui.widgets.status_line import StatusLine

SMALL = (80, 24)


async def _laid_out_toggles(pilot) -> list[RuleToggle]:
    """The Rules pane's toggles once the pane has been filled and laid out."""

    def toggles() -> list[RuleToggle]:
        return list(main_screen(pilot.app).query_one(RulesPane).query(RuleToggle))

    await wait_for(pilot, lambda: bool(toggles()) and all(t.size.width > 0 for t in toggles()))
    return toggles()


async def _footer_keys(pilot) -> list[FooterKey]:
    """The footer's keys once it has been laid out again for the terminal's width."""

    def keys() -> list[FooterKey]:
        return list(pilot.app.screen.query_one(KeyFooter).query(FooterKey))

    def settled() -> bool:
        shown = keys()
        return bool(shown) and all(k.region.width > 0 and k.region.right <= pilot.app.size.width for k in shown)

    await wait_for(pilot, settled)
    await pilot.pause(0.1)  # a resize recomposes the footer once more after it is laid out
    await wait_for(pilot, settled)
    return keys()


async def test_the_footer_at_80x24_shows_help_quit_and_the_palette_and_no_key_is_cut(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        keys = await _footer_keys(pilot)
        shown = {key.action for key in keys}
        assert {"help", "quit_app", "command_palette", "step", "toggle_auto_run", "override"} <= shown
        palette = next(key for key in keys if key.has_class("-command-palette"))
        for key in keys:
            assert key.region.right <= SMALL[0], key.description
            assert key.region.width == key_width(key), key.description  # drawn whole, as wide as it needs
            if key is not palette:
                assert key.region.right <= palette.region.x, f"{key.description} runs under the palette key"


async def test_the_footer_shows_more_keys_when_the_terminal_grows_and_fewer_when_it_shrinks(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        narrow = {key.action for key in await _footer_keys(pilot)}
        await pilot.resize_terminal(140, 45)
        wide = {key.action for key in await _footer_keys(pilot)}
        assert narrow < wide and {"fork", "save", "replay"} <= wide - narrow
        await pilot.resize_terminal(*SMALL)
        assert {key.action for key in await _footer_keys(pilot)} == narrow


async def test_the_status_line_at_80_columns_leaves_out_whole_parts_and_says_so(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("n")
        await idle(pilot)
        status = main_screen(app).query_one(StatusLine)
        text = str(status.render())
        assert len(text) <= status.content_region.width
        assert text.endswith(" · …")
        assert "0 tool steps" in text  # the counts come first and are kept whole
        await pilot.resize_terminal(160, 45)
        await idle(pilot)
        assert str(status.render()).endswith("offline")  # everything fits: nothing left out


async def test_rules_read_as_on_or_off_without_colour(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = main_screen(app)
        toggles = await _laid_out_toggles(pilot)
        on = [t for t in toggles if t.value]
        off = [t for t in toggles if not t.value]
        assert on and off  # the paper set in force, and other rules available
        assert all(t.render().plain.startswith("▐✓▌") for t in on)
        assert all(t.render().plain.startswith("▐ ▌") for t in off)
        first = on[0]
        first.value = False
        await wait_for(pilot, lambda: screen.bench.session.config.rules[0].enabled is False)
        assert first.render().plain.startswith("▐ ▌")


async def test_a_long_rule_title_wraps_at_a_word_in_the_narrow_pane(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        toggles = await _laid_out_toggles(pilot)
        wrapped = [t for t in toggles if t.size.height > 1]
        assert wrapped  # "Incremental requests" does not fit beside the box at 80 columns
        for toggle in toggles:
            lines = toggle.render().plain.split("\n")
            assert len(lines) == toggle.size.height
            assert all(len(line.rstrip()) <= toggle.size.width for line in lines)
            title = " ".join(line[3:].strip() for line in lines)
            assert title == str(toggle.label).strip()  # every word shown, none cut


async def test_the_replay_screen_at_80x24_keeps_close_help_and_quit_and_cuts_no_hint(make_app, tmp_path):
    from pathlib import Path

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        for _ in range(4):
            await pilot.press("n")
            await idle(pilot)
        await app.push_screen(ReplayScreen(main_screen(app).bench.session, Path("demo.session.json")))
        keys = await _footer_keys(pilot)
        assert {"close", "help", "quit_app", "forward", "back"} <= {key.action for key in keys}
        status = app.screen.query_one("#replay-status")
        text = str(status.render())
        assert len(text) <= status.content_region.width and text.endswith("   b branch here")
        await pilot.resize_terminal(140, 45)
        await wait_for(pilot, lambda: "esc close" in str(status.render()))
