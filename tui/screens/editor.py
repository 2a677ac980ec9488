"""A modal text editor for a user turn or a message: ctrl+s submits, escape cancels.

A text area paints its text as it is, so what it is given is made terminal-safe first
(`untrusted.safe_text`): a message read from a crafted file cannot drive the terminal.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from turnloom.core.untrusted import safe_text


class EditorScreen(ModalScreen[str | None]):
    """Edit `text`; dismisses with the new text, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="editor_submit", tooltip="Commit the text"),
        Binding("escape", "cancel", "Cancel", id="editor_cancel"),
    ]

    def __init__(self, title: str, text: str, hint: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._text = safe_text(text)
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog editor-dialog") as box:
            box.border_title = self._title
            if self._hint:
                yield Static(self._hint, classes="dialog-hint", markup=False)
            yield TextArea(self._text, id="editor-text", soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Commit (ctrl+s)", id="submit", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            self.notify("The text is empty; write something or press escape", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
