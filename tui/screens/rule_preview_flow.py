"""Rule preview for the workbench screen: what the next user turn becomes under the changed rules.

A mixin for `MainScreen`. Changes in the Rules pane go into the session at once and
apply from the next user turn (the pane's contract); the rules as they were when the
last user turn was committed are kept as the *baseline*. While the rules differ from
the baseline and it is the user's turn, the preview proposes the next user turn under
both (`core.engine.preview.preview_user_turn`: nothing is committed, no event is sent)
and shows them side by side. When it is not the user's turn the panel says when the
preview will appear, and it appears as soon as generation stops at a user turn.

The preview runs in an exclusive worker of its own group, so a newer change cancels a
preview in flight, and so does any change to the transcript.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from textual import work

from turnloom.core.engine.preview import preview_user_turn
from turnloom.core.models import Role, Rule
from turnloom.tui.widgets.rule_preview import RulePreview, rule_changes

if TYPE_CHECKING:
    from turnloom.core.lifecycle.live_session import LiveSession

PREVIEW = "preview"


def _fingerprint(rules: list[Rule]) -> str:
    return json.dumps([rule.model_dump(mode="json") for rule in rules], sort_keys=True)


class RulePreviewFlow:
    """Keeps the baseline rules and the preview panel in step with the session."""

    bench: LiveSession
    _rules_baseline: list[Rule]
    _preview_key: tuple[int, int, str] | None = None
    preview_hidden: bool = False  # the curator hid the panel (p)

    @property
    def rule_preview(self) -> RulePreview:
        return self.query_one(RulePreview)  # type: ignore[attr-defined]

    def reset_rule_baseline(self) -> None:
        """The rules now in force become the baseline (a session attached, a user turn committed)."""
        self._rules_baseline = [rule.model_copy(deep=True) for rule in self.bench.session.config.rules]
        self.discard_preview()
        self.rule_preview.hide()

    def discard_preview(self) -> None:
        """Forget the preview shown or in flight; the transcript or the rules moved."""
        self._preview_key = None
        self.workers.cancel_group(self, PREVIEW)  # type: ignore[attr-defined]

    def rule_changes(self) -> list[str]:
        return rule_changes(self._rules_baseline, self.bench.session.config.rules)

    def rules_changed(self) -> None:
        """The curator changed a rule: show the panel again (even if hidden) and preview the change."""
        self.preview_hidden = False
        self.refresh_preview()

    def refresh_preview(self) -> None:
        """Show the preview, or say when it will appear; hide it when no rule differs from the baseline."""
        changes = self.rule_changes()
        panel = self.rule_preview
        if not changes or self.preview_hidden:
            self.discard_preview()
            panel.hide()
            return
        engine = self.bench.engine
        if engine.finished:
            self.discard_preview()
            panel.show_waiting(
                changes, "the dialogue has finished; the preview appears if it goes on (o writes a user turn)"
            )
        elif self.busy():  # type: ignore[attr-defined]
            self.discard_preview()
            panel.show_waiting(changes, "the preview appears when generation stops at the next user turn")
        elif engine.next_role() is not Role.USER:
            self.discard_preview()
            panel.show_waiting(
                changes, f"it is the {engine.next_role()}'s turn; the preview appears at the next user turn (n steps)"
            )
        else:
            messages = self.bench.session.messages
            key = (len(messages), id(messages[-1]) if messages else 0, _fingerprint(self.bench.session.config.rules))
            if key == self._preview_key:
                return
            self.discard_preview()
            self._preview_key = key
            panel.show_busy(changes)
            baseline = [rule.model_copy(deep=True) for rule in self._rules_baseline]
            changed = [rule.model_copy(deep=True) for rule in self.bench.session.config.rules]
            self.preview_worker(changes, baseline, changed)

    @work(exclusive=True, group=PREVIEW, exit_on_error=False)
    async def preview_worker(self, changes: list[str], baseline: list[Rule], changed: list[Rule]) -> None:
        engine = self.bench.engine
        panel = self.rule_preview
        try:
            current_turn = await preview_user_turn(engine, baseline)
            changed_turn = await preview_user_turn(engine, changed)
        except Exception as exc:  # noqa: BLE001 - any failure is shown in the panel, never fatal
            panel.show_error(changes, f"{type(exc).__name__}: {exc}")
            return
        panel.show_pair(changes, current_turn, changed_turn)

    def action_rule_preview(self) -> None:
        """Show or hide the rule preview."""
        if not self.rule_changes():
            self.notify(  # type: ignore[attr-defined]
                "No rule differs from the rules of the last user turn; change one in the Rules pane to preview it",
                severity="information",
            )
            return
        self.preview_hidden = not self.preview_hidden
        self.refresh_preview()
