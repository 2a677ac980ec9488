"""The rule preview: the next user turn under the current rules beside the one under the changed rules.

Shown under the Conversation pane after the curator changes a rule or a parameter in
the Rules pane. It only paints what the screen gives it (a waiting note, a pair of
proposed turns, or an error); computing the preview is the screen's job
(`screens.rule_preview_flow`). Model text is shown literally, never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Static

from turnloom.core.models import ChatMessage, Rule
from turnloom.tui.widgets.message_text import clean


def rule_changes(before: list[Rule], after: list[Rule]) -> list[str]:
    """What changed between two rule lists, as short items: `+terse`, `−turn_feedback`, `terse.max_words 20→3`.

    Only rules in force count: a parameter changed on a rule that is off is no change.
    """
    old = {rule.id: rule for rule in before if rule.enabled}
    new = {rule.id: rule for rule in after if rule.enabled}
    changes = [f"+{rule_id}" for rule_id in new if rule_id not in old]
    changes += [f"−{rule_id}" for rule_id in old if rule_id not in new]
    for rule_id, rule in new.items():
        if rule_id in old:
            was = old[rule_id].params
            changes += [
                f"{rule_id}.{name} {was.get(name)!s}→{value!s}"
                for name, value in rule.params.items()
                if was.get(name) != value
            ]
    return changes


def turn_text(message: ChatMessage) -> Text:
    """The proposed turn's text, then one line per rule it breaks."""
    text = Text(clean(message.text or "(no text)"))
    for verdict in message.meta.violations:
        detail = f" — {verdict.detail}" if verdict.detail else ""
        text.append(f"\n⚠ {verdict.rule_id}{clean(detail)}", style="bold")
    if message.meta.goal_done:
        text.append("\n(ends the dialogue)", style="italic")
    return text


class RulePreview(Vertical):
    """Two columns, "Current rules" and "Changed rules", over a line naming the changes.

    `pair` holds the turns shown (current rules, changed rules), `note` what the summary says.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pair: tuple[ChatMessage, ChatMessage] | None = None
        self.note = ""

    def compose(self) -> ComposeResult:
        yield Static(id="preview-summary")
        with Horizontal(id="preview-columns"):
            with Vertical(classes="preview-column"):
                yield Label("Current rules", classes="preview-title")
                with VerticalScroll(classes="preview-scroll"):
                    yield Static(id="preview-current", classes="preview-turn")
            with Vertical(classes="preview-column"):
                yield Label("Changed rules (next user turn)", classes="preview-title")
                with VerticalScroll(classes="preview-scroll"):
                    yield Static(id="preview-changed", classes="preview-turn")

    def _summary(self, changes: list[str], note: str, pair: tuple[ChatMessage, ChatMessage] | None = None) -> None:
        self.note, self.pair = note, pair
        line = Text("Changes: ", style="bold")
        line.append(clean(", ".join(changes)))
        if note:
            line.append(f"  ·  {note}", style="italic")
        self.query_one("#preview-summary", Static).update(line)

    def _columns(self, current: Text | str, changed: Text | str) -> None:
        self.query_one("#preview-current", Static).update(current)
        self.query_one("#preview-changed", Static).update(changed)

    def show_waiting(self, changes: list[str], reason: str) -> None:
        """No preview yet: say why and when it will appear."""
        self.display = True
        self.remove_class("-error")
        self._summary(changes, reason)
        self._columns(Text("—", style="italic"), Text("—", style="italic"))

    def show_busy(self, changes: list[str]) -> None:
        self.display = True
        self.remove_class("-error")
        self._summary(changes, "generating the preview…")
        self._columns(Text("…", style="italic"), Text("…", style="italic"))

    def show_pair(self, changes: list[str], current: ChatMessage, changed: ChatMessage) -> None:
        """The two proposed turns; neither is committed."""
        self.display = True
        self.remove_class("-error")
        same = current.text == changed.text and current.meta.violations == changed.meta.violations
        note = "the same turn under both" if same else "preview of the next user turn, not committed"
        self._summary(changes, note, (current, changed))
        self._columns(turn_text(current), turn_text(changed))

    def show_error(self, changes: list[str], error: str) -> None:
        self.display = True
        self.add_class("-error")
        self._summary(changes, "the preview failed")
        self._columns(Text(clean(error)), Text(""))

    def hide(self) -> None:
        self.display = False
        self.pair, self.note = None, ""
