"""Regenerate, reviewed: the message as it was and the new draw side by side, before anything is committed.

Dismisses with "new" (commit the new draw), "again" (draw another) or "old" (put the old
messages back; escape too). The caller does the committing and undoing (`MainScreen`).
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from turnloom.core.models import ChatMessage
from turnloom.tui.widgets.message_text import MessageStyles, body_text

CHOICES = (("new", "Keep new (enter)"), ("again", "Draw again (r)"), ("old", "Keep old (esc)"))


class RegenerateCompareScreen(ModalScreen[str]):
    """Old and new draws of message `index` side by side."""

    BINDINGS = [
        Binding("enter", "choose('new')", "Keep new", show=False),
        Binding("r", "choose('again')", "Draw again", show=False),
        Binding("escape", "choose('old')", "Keep old", show=False),
    ]

    def __init__(self, index: int, old: ChatMessage, new: ChatMessage, later: int) -> None:
        super().__init__(classes="dialog-screen")
        self._index = index
        self._old = old
        self._new = new
        self._later = later

    def compose(self) -> ComposeResult:
        plain = Style()
        styles = MessageStyles(
            role={},
            badge=plain,
            operator=plain,
            edited=plain,
            violation=Style(italic=True),
            error=Style(italic=True),
            call=Style(bold=True),
            more=plain,
        )
        with Vertical(classes="dialog compare-dialog") as box:
            box.border_title = f"Regenerate message {self._index} ({self._new.role})"
            with Horizontal(classes="compare-columns"):
                for title, message in (("Before", self._old), ("New draw", self._new)):
                    with VerticalScroll(classes="compare-column") as column:
                        column.border_title = title
                        yield Static(body_text(message, styles, expanded=True)[0])
            kept = f"; the {self._later} message(s) after it are kept as a branch too" if self._later else ""
            note = f"Either way nothing is lost: the old message is kept as a branch (ctrl+z returns to it){kept}."
            yield Static(Text(note), classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                for choice, label in CHOICES:
                    yield Button(label, id=f"compare-{choice}", variant="primary" if choice == "new" else "default")

    def on_mount(self) -> None:
        self.query_one("#compare-new", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((event.button.id or "compare-old").removeprefix("compare-"))

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
