"""Specifications of app-wide features: themes, key remapping, command palette, help, tools and rules panes."""

from __future__ import annotations

from _tui_helpers import idle, main_screen, wait_for
from textual.widgets import Checkbox, Input

from turnloom.tui.actions import ACTIONS
from turnloom.tui.commands import ActionCommands
from turnloom.tui.screens.help import HelpScreen
from turnloom.tui.widgets.rules_pane import RulesPane
from turnloom.tui.widgets.tools_pane import ToolsPane


async def test_builtin_themes_are_registered_and_ctrl_t_cycles_them(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for name in ("turnloom-dark", "turnloom-light", "turnloom-high-contrast"):
            assert name in app.available_themes
        assert app.theme == "turnloom-dark"
        await pilot.press("ctrl+t")
        assert app.theme != "turnloom-dark"
        seen = {app.theme}
        for _ in range(3):
            await pilot.press("ctrl+t")
            seen.add(app.theme)
        assert {"turnloom-dark", "turnloom-light", "turnloom-high-contrast"} <= seen


async def test_a_broken_user_theme_notifies_and_falls_back(make_app, tmp_path):
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    (themes / "bad-toml.toml").write_text("name = \n")
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff0000"\ndark = true\n')
    app = make_app(theme_dirs=[themes], theme="broken")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == "turnloom-dark"
        assert "mine" in app.available_themes
        messages = [n.message for n in app._notifications]
        assert any("broken.toml" in m for m in messages)
        assert any("bad-toml.toml" in m for m in messages)


async def test_keys_are_remapped_from_the_config(make_app):
    app = make_app(keys={"step": "s", "no_such_binding": "z"})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("s")
        await idle(pilot)
        assert len(screen.bench.session.messages) == 1
        assert any("no_such_binding" in n.message for n in app._notifications)


def test_every_action_has_a_key_a_palette_name_and_a_help_line():
    ids = [a.id for a in ACTIONS]
    assert len(ids) == len(set(ids))
    for action in ACTIONS:
        assert action.key and action.help and ": " in action.palette_name


async def test_the_palette_offers_every_main_screen_action_as_category_action(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        provider = ActionCommands(app.screen)
        names = [hit.display for hit in [h async for h in provider.discover()]]
        for expected in (
            "Dialogue: Step",
            "Dialogue: Override user turn",
            "Session: Save",
            "Session: Export",
            "View: Switch theme",
            "App: Quit",
        ):
            assert expected in names
        hits = [h async for h in provider.search("fork")]
        assert hits
        await hits[0].command()
        await pilot.pause()
        assert len(main_screen(app).bench.session.messages) == 0  # forked an empty session


async def test_help_lists_every_action_with_its_remapped_key(make_app):
    app = make_app(keys={"step": "s"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        table = app.screen._keymap
        assert table["step"] == "s"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_disabling_a_tool_keeps_it_from_the_assistant(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        tools = screen.query_one(ToolsPane)
        name = tools.highlighted_tool
        await pilot.press("d")
        assert name in screen.bench.session.disabled_tools
        assert name not in [t.name for t in screen.bench.session.active_tools()]
        await pilot.press("d")
        assert name not in screen.bench.session.disabled_tools


async def test_rule_toggles_and_params_change_the_rules_in_force(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        pane = screen.query_one(RulesPane)
        first = screen.bench.session.config.rules[0]
        checkbox = pane.query(Checkbox).first()
        checkbox.value = False
        await pilot.pause()
        assert screen.bench.session.config.rules[0].enabled is False
        field = pane.query(Input).first()
        original = screen.bench.session.config.rules[0].params[field.name]
        field.value = "not a number" if isinstance(original, int) else str(original)
        field.focus()
        await pilot.press("enter")
        if isinstance(original, int):
            assert screen.bench.session.config.rules[0].params[field.name] == original
            field.value = str(original + 1)
            await pilot.press("enter")
            assert screen.bench.session.config.rules[0].params[field.name] == original + 1
        assert screen.bench.session.config.rules[0].id == first.id
        await pilot.press("escape")
        await idle(pilot)


async def test_a_broken_rule_file_is_listed_with_its_error(make_app, tmp_path, monkeypatch):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "oops.toml").write_text("id = \n")
    monkeypatch.setattr("turnloom.tui.rule_sources.user_rule_dir", lambda: rules)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        errors = main_screen(app).query(".rule-error")
        assert errors and "oops.toml" in str(errors.first().render())


async def test_an_empty_conversation_says_how_to_start_with_the_keys_as_mapped(make_app):
    from _tui_helpers import screen_text

    app = make_app(keys={"step": "s"})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.pause()
        text = screen_text(screen.transcript)
        assert (
            "Press s to step one message, a to auto-run, o to write the first user turn yourself, ? or f1 for help"
            in text
        )
        await pilot.press("s")
        await idle(pilot)
        assert "No messages yet" not in screen_text(screen.transcript)


async def test_a_theme_picked_in_the_app_is_there_after_a_restart(tmp_path):
    from turnloom.core.config import load_config
    from turnloom.core.lifecycle.live_session import LiveSession
    from turnloom.tui.app import build_app

    config_file = tmp_path / "turnloom.toml"
    config_file.write_text('# mine\n[keys]\nstep = "n"\n', encoding="utf-8")

    def start():
        config = load_config(config_file)
        bench = LiveSession.new(tmp_path / "sessions", domain="retail", seed=1)
        return build_app(config, bench, theme_dirs=[tmp_path / "none"], settings_file=config_file)

    app = start()
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.theme == "turnloom-dark"
        await pilot.press("ctrl+t")
        picked = app.theme
        await wait_for(pilot, lambda: f'theme = "{picked}"' in config_file.read_text(encoding="utf-8"))
        await pilot.press("q")
    assert picked != "turnloom-dark"
    assert config_file.read_text(encoding="utf-8").startswith('# mine\ntheme = "')
    again = start()
    async with again.run_test(size=(120, 40)):
        assert again.theme == picked
