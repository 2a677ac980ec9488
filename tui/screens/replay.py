"""Replay a saved session read-only, one message at a time, and branch from any point.

The screen shows the first `position` messages; stepping changes only the view. Branching
dismisses with a fork of the session at `position` (the file replayed is never written);
the workbench screen opens the fork.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from turnloom.core.lifecycle.dialogue import fork_session
from turnloom.core.models import Session
from turnloom.tui.actions import bindings_for
from turnloom.tui.widgets.key_footer import KeyFooter
from turnloom.tui.widgets.transcript import Transcript


class ReplayScreen(Screen[Session | None]):
    """Dismisses with the branched session, or None when closed."""

    BINDINGS = bindings_for("replay")
    ACTION_SCOPE = "replay"

    position: reactive[int] = reactive(0)

    def __init__(self, session: Session, path: Path) -> None:
        super().__init__()
        self.session = session
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="replay-pane") as pane:
            pane.border_title = f"Conversation — replay of {self.path.name} (read-only)"
            yield Transcript(id="replay-transcript")
        yield Static(id="replay-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(Transcript).focus()
        self._show_status()

    @property
    def total(self) -> int:
        return len(self.session.messages)

    def watch_position(self, old: int, new: int) -> None:
        transcript = self.query_one(Transcript)
        if new > old:
            for index in range(old, new):
                transcript.append(index, self.session.messages[index])
        elif new < old:
            transcript.truncate(new)
        self._show_status()

    def _show_status(self) -> None:
        reason = (
            f" · finished: {self.session.finish_reason}"
            if self.session.finish_reason and self.position == self.total
            else ""
        )
        line = Text(f"replay {self.position}/{self.total} · {self.session.domain} · {self.session.config.mode}{reason}")
        status = self.query_one("#replay-status", Static)
        room = status.content_region.width or self.app.size.width - 2
        # whole or not at all; a narrow footer leaves out Branch first, so the hint keeps it longest
        for hint in ("   ← back · → forward · b branch here · esc close", "   b branch here"):
            if len(line) + len(hint) <= room:
                line.append(hint, style="dim")
                break
        status.update(line)

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_status)  # once the status line has its new width

    def action_forward(self) -> None:
        self.position = min(self.total, self.position + 1)

    def action_back(self) -> None:
        self.position = max(0, self.position - 1)

    def action_to_end(self) -> None:
        self.position = self.total

    def action_to_start(self) -> None:
        self.position = 0

    def action_expand(self) -> None:
        """Show the selected (or last shown) message in full, or truncate it again, as in the workbench."""
        transcript = self.query_one(Transcript)
        index = transcript.selected_or_last()
        if index is not None:
            transcript.toggle_expanded(index)

    def action_branch(self) -> None:
        self.dismiss(fork_session(self.session, self.position, str(self.path)))

    def action_close(self) -> None:
        self.dismiss(None)
