"""The export dialog: a training-data format and an output file; dismisses with both."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from turnloom.core.export import FORMATS


class ExportScreen(ModalScreen[tuple[str, Path] | None]):
    """Choose a format and a `.jsonl` path."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, default_path: Path) -> None:
        super().__init__(classes="dialog-screen")
        self._default = default_path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form-dialog") as box:
            box.border_title = "Export"
            yield Label("Format")
            yield Select([(f, f) for f in FORMATS], value="openai", allow_blank=False, id="format", compact=True)
            yield Label("Output file")
            yield Input(str(self._default), id="out", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", id="export", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        self.action_export()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the file name exports, as the Export button does."""
        event.stop()
        self.action_export()

    def action_export(self) -> None:
        out = self.query_one("#out", Input).value.strip()
        if not out:
            self.notify("Give an output file", severity="error")
            return
        self.dismiss((str(self.query_one("#format", Select).value), Path(out).expanduser()))

    def action_cancel(self) -> None:
        self.dismiss(None)
