"""Small modal dialogs: a yes/no confirmation, an error report and a three-way choice.

Each dialog returns its answer through `dismiss`; the caller passes a callback to
`push_screen` (or awaits `push_screen_wait` inside a worker).
"""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ChoiceScreen(ModalScreen[str | None]):
    """A question with buttons; dismisses with the chosen button's id (None on escape)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", show=False)]

    def __init__(
        self,
        title: str,
        question: str,
        choices: list[tuple[str, str]],
        *,
        primary: str | None = None,
        keys: dict[str, str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="dialog-screen")
        self._title = title
        self._question = question
        self._choices = choices
        self._primary = primary or choices[0][0]
        # key -> choice id: answer without moving the focus (y/n on a confirmation)
        self._keys = keys or {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self._title
            yield Static(Text(self._question), classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                shortcut = {choice: key for key, choice in self._keys.items()}
                for choice_id, label in self._choices:
                    variant: Literal["primary", "default"] = "primary" if choice_id == self._primary else "default"
                    key = shortcut.get(choice_id)
                    yield Button(f"{label} ({key})" if key else label, id=choice_id, variant=variant)

    def on_mount(self) -> None:
        self.query_one(f"#{self._primary}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def on_key(self, event) -> None:
        choice = self._keys.get(event.key)
        if choice is not None:
            event.stop()
            self.dismiss(choice)


def confirm(title: str, question: str, yes: str = "Yes") -> ChoiceScreen:
    """A yes/no dialog: dismisses with "yes", "no" or None."""
    return ChoiceScreen(title, question, [("yes", yes), ("no", "Cancel")], primary="no", keys={"y": "yes", "n": "no"})


class ErrorScreen(ModalScreen[None]):
    """An error the curator must read (a file that fails to load, ...); the app keeps running."""

    BINDINGS = [Binding("escape,enter", "close", "Close", show=False)]

    def __init__(self, title: str, message: str) -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error-dialog") as box:
            box.border_title = self._title
            with VerticalScroll(classes="dialog-scroll"):
                yield Static(Text(self._message), classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="error")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
