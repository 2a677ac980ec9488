"""The help screen: every action with its (possibly remapped) key, palette name and help line."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from turnloom.tui.actions import ACTIONS, effective_key


def help_table(keymap: dict[str, str]) -> Table:
    table = Table(box=None, expand=True, padding=(0, 1))
    table.add_column("Key", no_wrap=True, style="bold")
    table.add_column("Action", no_wrap=True)
    table.add_column("What it does", ratio=1)
    table.add_column("Binding id", no_wrap=True, style="dim")
    for spec in ACTIONS:
        table.add_row(Text(effective_key(spec, keymap)), Text(spec.palette_name), Text(spec.help), Text(spec.id))
    table.add_row(
        Text("up/down, j/k"),
        Text("Conversation: Select"),
        Text("Move the selection; click selects, double-click expands"),
        Text(""),
    )
    return table


class HelpScreen(ModalScreen[None]):
    """Escape, q or f1 closes it."""

    BINDINGS = [Binding("escape,f1,question_mark", "close", "Close", show=False)]

    def __init__(self, keymap: dict[str, str]) -> None:
        super().__init__(classes="dialog-screen")
        self._keymap = keymap

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog") as box:
            box.border_title = 'Help — remap a key in turnloom.toml: \\[keys] binding_id = "key"'
            with VerticalScroll():
                yield Static(help_table(self._keymap))

    def action_close(self) -> None:
        self.dismiss(None)
