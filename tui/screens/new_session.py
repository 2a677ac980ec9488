"""The new-session form: domain or .sqlite file, mode, execution, backend profile, seed, tasks."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from turnloom.core.models import Mode, ToolExecution


@dataclass(frozen=True)
class NewSessionSpec:
    """What the form asks for; `db_path` wins over `domain` when given."""

    domain: str
    db_path: str | None
    mode: Mode
    execution: ToolExecution
    profile: str
    seed: int
    tasks: int


class NewSessionScreen(ModalScreen[NewSessionSpec | None]):
    """Dismisses with a `NewSessionSpec`, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("ctrl+s", "create", "Create", show=False),
    ]

    def __init__(self, domains: list[str], profiles: list[str]) -> None:
        super().__init__(classes="dialog-screen")
        self._domains = domains
        self._profiles = ["offline", *[p for p in profiles if p != "offline"]]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form-dialog") as box:
            box.border_title = "New session"
            with VerticalScroll(classes="form"):
                yield Label("Domain")
                yield Select(
                    [(d, d) for d in self._domains],
                    value="retail" if "retail" in self._domains else self._domains[0],  # as everywhere else
                    allow_blank=False,
                    id="domain",
                    compact=True,
                )
                yield Label("…or a SQLite file (overrides the domain)")
                yield Input(placeholder="path/to/file.sqlite", id="db-path", compact=True)
                yield Label("Mode")
                yield Select(
                    [(m.value, m.value) for m in Mode],
                    value=Mode.USER_ORIENTED.value,
                    allow_blank=False,
                    id="mode",
                    compact=True,
                )
                yield Label("Tool execution")
                yield Select(
                    [(e.value, e.value) for e in ToolExecution],
                    value=ToolExecution.SQL.value,
                    allow_blank=False,
                    id="execution",
                    compact=True,
                )
                yield Label("Backend profile")
                yield Select(
                    [(p, p) for p in self._profiles], value="offline", allow_blank=False, id="profile", compact=True
                )
                with Horizontal(classes="form-row"):
                    with Vertical():
                        yield Label("Seed")
                        yield Input("0", id="seed", type="integer", compact=True)
                    with Vertical():
                        yield Label("Tasks")
                        yield Input("3", id="tasks", type="integer", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", id="create", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "create":
            self.action_create()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a field creates the session, as the Create button does."""
        event.stop()
        self.action_create()

    def action_create(self) -> None:
        try:
            seed = int(self.query_one("#seed", Input).value or 0)
            tasks = int(self.query_one("#tasks", Input).value or 0)
        except ValueError:
            self.notify("Seed and tasks must be whole numbers", severity="error")
            return
        if tasks < 0:
            self.notify("Tasks must be 0 or more", severity="error")
            return
        db_path = self.query_one("#db-path", Input).value.strip() or None
        self.dismiss(
            NewSessionSpec(
                domain=str(self.query_one("#domain", Select).value),
                db_path=db_path,
                mode=Mode(str(self.query_one("#mode", Select).value)),
                execution=ToolExecution(str(self.query_one("#execution", Select).value)),
                profile=str(self.query_one("#profile", Select).value),
                seed=seed,
                tasks=tasks,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
