"""The curator's label on a session: the new label a key asks for, and the reason-and-tags dialog.

`relabelled` keeps what the curator wrote (reason, tags) when only the kind changes, so
pressing `2` on a `keep: duplicate` session makes it `drop: duplicate`. `LabelNoteScreen`
asks for the kind, a reason and tags (comma- or space-separated, `#` optional) and
dismisses with the new label; saving it is the review screens' job (`core.review.labels`).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from turnloom.core.models import SessionLabel
from turnloom.core.review.index import ReviewRow
from turnloom.core.review.labels import LABEL_KINDS


def relabelled(row: ReviewRow, kind: str) -> SessionLabel | None:
    """The label `row` gets for `kind` (keeping its reason and tags); "" removes the label."""
    if not kind:
        return None
    return SessionLabel(kind=kind, reason=row.reason, tags=list(row.tags))  # type: ignore[arg-type]  # one of LABEL_KINDS


def parse_tags(text: str) -> list[str]:
    """`"tone, #wrong-total  slow"` -> `["tone", "wrong-total", "slow"]` (each once, in order)."""
    words = (word.strip().lstrip("#") for word in text.replace(",", " ").split())
    return list(dict.fromkeys(word for word in words if word))


class LabelNoteScreen(ModalScreen[SessionLabel | None]):
    """Kind, reason and tags for one session's label; enter or ctrl+s saves, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Save", id="label_note_submit", tooltip="Save the label"),
        Binding("escape", "cancel", "Cancel", id="label_note_cancel"),
    ]

    def __init__(self, row: ReviewRow) -> None:
        super().__init__(classes="dialog-screen")
        self._row = row

    def compose(self) -> ComposeResult:
        row = self._row
        kind = row.label or "needs-fix"
        with Vertical(classes="dialog label-dialog") as box:
            box.border_title = f"Label {row.path}"
            yield Static(
                "What the curator says of this session: the kind, why, and tags to group it by.", classes="dialog-hint"
            )
            with RadioSet(id="label-kind"):
                for name in LABEL_KINDS:
                    yield RadioButton(name, value=name == kind, id=f"kind-{name}")
            yield Label("Reason")
            yield Input(row.reason, placeholder="why (optional)", id="label-reason")
            yield Label("Tags")
            yield Input(" ".join(row.tags), placeholder="tags, comma- or space-separated (optional)", id="label-tags")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (enter)", id="submit", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#label-reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        pressed = self.query_one(RadioSet).pressed_button
        kind = pressed.id.removeprefix("kind-") if pressed is not None and pressed.id else "needs-fix"
        reason = self.query_one("#label-reason", Input).value.strip()
        tags = parse_tags(self.query_one("#label-tags", Input).value)
        self.dismiss(SessionLabel(kind=kind, reason=reason, tags=tags))  # type: ignore[arg-type]  # one of LABEL_KINDS

    def action_cancel(self) -> None:
        self.dismiss(None)
