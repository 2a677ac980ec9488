"""The turnloom Textual app: themes, key remaps, the command palette, help and quit.

`build_app` is the one factory the CLI, the tests and the benchmarks use. Everything about
a session lives in `screens.main.MainScreen`; this module stays small on purpose.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme

from turnloom.core.config import TurnloomConfig, load_config, save_setting, settings_path
from turnloom.core.errors import ConfigError
from turnloom.themes import DEFAULT_THEME, load_themes
from turnloom.tui.actions import bindings_for
from turnloom.tui.commands import ActionCommands
from turnloom.tui.keymap import checked_keymap
from turnloom.tui.screens.dialogs import ChoiceScreen
from turnloom.tui.screens.help import HelpScreen

if TYPE_CHECKING:
    from turnloom.core.lifecycle.live_session import LiveSession
    from turnloom.tui.screens.main import MainScreen

QUIT_QUESTION = "quit-question"


class TurnloomApp(App[None]):
    """The curator's workbench."""

    CSS_PATH = "app.tcss"
    TITLE = "turnloom"
    BINDINGS = bindings_for("app")
    COMMANDS = App.COMMANDS | {ActionCommands}

    def __init__(
        self,
        config: TurnloomConfig,
        workbench: LiveSession | None,
        theme_dirs: list[Path] | None = None,
        settings_file: Path | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.settings_file = settings_file  # where a theme picked here is saved (None: not saved)
        self.sessions_dir = Path(config.sessions_dir or "sessions").expanduser()
        self._workbench = workbench
        self._startup_notes: list[tuple[str, str]] = []
        loaded = load_themes(theme_dirs)
        self.theme_names = [theme.name for theme in loaded.themes]
        for theme in loaded.themes:
            self.register_theme(theme)
        for error in loaded.errors:
            self._startup_notes.append((f"Theme not loaded: {error}", "warning"))
        wanted = config.theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            self._startup_notes.append((f"Unknown theme {wanted!r}; using {DEFAULT_THEME}", "warning"))
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        self._saved_theme = wanted
        keymap, notes = checked_keymap(config.keys)
        self._startup_notes.extend((note, "warning") for note in notes)
        self.key_remaps = keymap
        self.set_keymap(keymap)

    def first_screen(self) -> Screen[None]:
        """The screen the app opens on: the workbench on its session (`tui.review` opens a folder instead)."""
        from turnloom.tui.screens.main import MainScreen

        if self._workbench is None:
            raise ValueError("the workbench needs a session")
        return MainScreen(self._workbench)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._save_theme)
        self.push_screen(self.first_screen())
        for message, severity in self._startup_notes:
            self.notify(message, severity=severity, timeout=8)  # type: ignore[arg-type]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification is plain text: what it shows comes from files, models and the user (`[keys]`)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    @property
    def main_screen(self) -> MainScreen | None:
        return next(iter(self.main_screens), None)

    @property
    def main_screens(self) -> list[MainScreen]:
        """Every screen holding a session: the workbench, and a dialogue opened from a review list over it."""
        # imported here: the review list starts without the workbench's engine (it loads when a dialogue opens)
        from turnloom.tui.screens.main import MainScreen

        return [screen for screen in self.screen_stack if isinstance(screen, MainScreen)]

    def open_review(self, folder: Path) -> None:
        """Show the review list of `folder` over the current screen (escape comes back)."""
        from turnloom.tui.review.screen import ReviewScreen

        self.push_screen(ReviewScreen(folder, self.config, closable=True))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(dict(self.key_remaps)))

    def action_next_theme(self) -> None:
        names = self.theme_names or [self.theme]
        position = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(position + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def _save_theme(self, theme: Theme) -> None:
        """Keep the theme picked (ctrl+t or the palette) for the next start, in the config in force."""
        if self.settings_file is None or theme.name == self._saved_theme:
            return
        try:
            save_setting(self.settings_file, "theme", theme.name)
        except ConfigError as exc:
            self.notify(f"Theme not saved: {exc}", severity="warning", timeout=8)
            return
        self._saved_theme = theme.name

    async def action_quit(self) -> None:
        """Textual's own quit (`ctrl+q`, the palette's "Quit") asks first like `q` does."""
        self.action_quit_app()

    def action_help_quit(self) -> None:
        """`ctrl+c` outside a text field quits (asking first), rather than naming another key."""
        self.action_quit_app()

    def action_quit_app(self) -> None:
        unsaved = any(main.bench.unsaved for main in self.main_screens)
        asking = isinstance(self.screen, ChoiceScreen) and self.screen.id == QUIT_QUESTION
        if not unsaved or asking:
            # a second quit while the question is up means it: the journal keeps the work
            self._close_and_exit()
            return
        question = ChoiceScreen(
            "Quit",
            "This session has unsaved changes (kept in its autosave journal).",
            [("save", "Save and quit"), ("quit", "Quit"), ("cancel", "Cancel")],
            keys={"s": "save", "q": "quit", "c": "cancel"},
            id=QUIT_QUESTION,
        )
        self.push_screen(question, self._quit_answer)

    def _quit_answer(self, answer: str | None) -> None:
        if answer == "save":
            for main in self.main_screens:
                if main.bench.unsaved:
                    main.action_save()
            self._close_and_exit()
        elif answer == "quit":
            self._close_and_exit()

    def _close_and_exit(self) -> None:
        for main in self.main_screens:
            main.bench.pause()
            main.workers.cancel_group(main, "engine")
            main.bench.close()
        self.exit()


def build_app(
    config: TurnloomConfig | None = None,
    workbench: LiveSession | None = None,
    theme_dirs: list[Path] | None = None,
    settings_file: Path | None = None,
) -> TurnloomApp:
    """The app on `workbench`, or on a new offline retail session in the sessions folder.

    `settings_file` is where a theme picked in the app is saved (`turnloom` passes the config in
    force, `config.settings_path`); without it nothing is written.
    """
    from turnloom.core.lifecycle.live_session import LiveSession

    config = config or TurnloomConfig()
    if workbench is None:
        folder = Path(config.sessions_dir or "sessions").expanduser()
        workbench = LiveSession.new(folder, config=config)
    return TurnloomApp(config, workbench, theme_dirs, settings_file)


def main(args: argparse.Namespace, session_path: str | None = None) -> int:
    """`turnloom [FILE]` with no subcommand: open the TUI on FILE, or on a new offline session.

    Raises:
        SessionFileError: FILE cannot be opened (before the TUI starts).
    """
    from turnloom.core.lifecycle.live_session import LiveSession

    config = load_config(getattr(args, "config", None))
    workbench = None
    if session_path is not None:
        from turnloom.core.lifecycle.session_paths import session_file

        workbench = LiveSession.open(session_file(session_path), config)
    app = build_app(config, workbench, settings_file=settings_path(config))
    app.run()
    return app.return_code or 0
