"""A user turn held back for breaking a rule: show it, and commit, override or regenerate it.

A mixin for `MainScreen`. Under the "pause" violation policy, auto-run stops before
committing a user turn that breaks a rule and holds it (`LiveSession.held`; see
`DialogueEngine.step(apply_policy=True)`). The screen shows it as the pending
proposal with its violations; `c` (or `n`) commits it as it is, `o` opens the editor
on it, `r` draws another one for the same turn (still held, for review). Anything that
moves the transcript drops it (the engine does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from turnloom.core.engine.engine import Proposal
from turnloom.tui.screens.editor import EditorScreen

if TYPE_CHECKING:
    from turnloom.core.lifecycle.live_session import LiveSession
    from turnloom.tui.widgets.transcript import Transcript

ENGINE = "engine"
HELD_NOTE = "Held back: it breaks {rules}. c commit it as it is · o override it · r draw another"
REDRAWN_NOTE = "Drawn again; it breaks no rule. c commit it · o override it · r draw another"


class HeldProposalFlow:
    """Commit, override or regenerate the user turn the live session holds."""

    bench: LiveSession
    _held_attempts: int = 0

    if TYPE_CHECKING:

        @property
        def transcript(self) -> Transcript: ...

    @property
    def held(self) -> Proposal | None:
        return self.bench.held

    def show_held(self) -> None:
        """Show the held proposal (if any) after the last message, with its violations and the keys."""
        held = self.held
        if held is None:
            return
        rules = ", ".join(verdict.rule_id for verdict in held.message.meta.violations)
        self.transcript.set_pending(held.message, note=HELD_NOTE.format(rules=rules) if rules else REDRAWN_NOTE)
        self.state = "held: rule violation"

    def action_commit_held(self) -> None:
        if self.held is None:
            self.notify("No proposal is held back; n steps one message", severity="information")  # type: ignore[attr-defined]
        elif not self.busy():  # type: ignore[attr-defined]
            self.commit_held_worker()

    @work(exclusive=True, group=ENGINE, exit_on_error=False)
    async def commit_held_worker(self, edited_text: str | None = None) -> None:
        held = self.held
        if held is not None:
            self._held_attempts = 0
            await self.bench.commit(held, edited_text=edited_text)

    @work(exclusive=True, group=ENGINE, exit_on_error=False)
    async def override_held_worker(self) -> None:
        held = self.held
        if held is None:
            return
        hint = "Held back for breaking a rule; change it and commit it as your own user turn."
        text = await self.app.push_screen_wait(EditorScreen("Override user turn", held.message.text, hint))  # type: ignore[attr-defined]
        if text is not None and self.held is held:
            self._held_attempts = 0
            await self.bench.commit(held, edited_text=text)

    @work(exclusive=True, group=ENGINE, exit_on_error=False)
    async def regenerate_held_worker(self) -> None:
        """Another draw for the held turn; it stays held so the curator sees it first."""
        self._held_attempts += 1
        await self.bench.redraw_held(self._held_attempts)
