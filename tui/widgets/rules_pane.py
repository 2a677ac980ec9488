"""The Rules pane: user-behaviour rules with on/off toggles and editable parameters.

Rules in force come first, then the other available rules (off). A rule file that fails
to load is listed with its error. The pane never changes the session: it posts
`RulesPane.Changed` with the rule as the curator left it, and the screen applies it
from the next user turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Static

from turnloom.core.models import Rule
from turnloom.tui.widgets.message_text import clean


def parse_param(original: Any, text: str) -> Any:
    """`text` converted to the type of the parameter's current value.

    Raises:
        ValueError: when it does not convert.
    """
    if isinstance(original, bool):
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise ValueError(f"{text!r} is not true or false")
    if isinstance(original, int):
        return int(text)
    if isinstance(original, float):
        return float(text)
    return text


class RuleToggle(Checkbox):
    """A rule's on/off box that reads without colour: `✓` inside when the rule is on, blank when off.

    Textual's checkbox draws the same `X` either way and tells on from off by colour alone,
    which a colour-blind curator or a terminal under NO_COLOR cannot see.
    """

    ON_MARK = "✓"
    OFF_MARK = " "

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = self.ON_MARK if self.value else self.OFF_MARK
        return super()._button

    def _title_lines(self, width: int) -> list[Content]:
        """The title wrapped at words to the room beside the box (Textual's toggles cut it at the edge)."""
        label = self._label.pad(1, 1).stylize_before(self.get_visual_style("toggle--label"))
        room = max(1, width - len(self.BUTTON_LEFT + self.BUTTON_INNER + self.BUTTON_RIGHT))
        return label.wrap(room) or [Content("")]

    def render(self) -> Content:
        button = self._button
        lines = self._title_lines(self.content_region.width or self.size.width)
        indent = Content(" " * (button.cell_length + 1))  # under the title, past its leading space
        return Content("\n").join([button + lines[0], *(indent + line for line in lines[1:])])

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._title_lines(width))


class RuleRow(Vertical):
    """One rule: a checkbox with its title, then one input per parameter."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(classes="rule-row")
        self.rule = rule

    def compose(self) -> ComposeResult:
        yield RuleToggle(Text(clean(self.rule.title)), self.rule.enabled, tooltip=clean(self.rule.description))
        for name, value in self.rule.params.items():
            with Horizontal(classes="rule-param"):
                yield Label(Text(clean(name)), classes="rule-param-name")
                yield Input(str(value), name=name, classes="rule-param-value", compact=True)


class RulesPane(VerticalScroll):
    """Every rule the session could use; changes are posted, not applied."""

    @dataclass
    class Changed(Message):
        """The curator turned `rule` on or off or changed a parameter."""

        rule: Rule

    def show_rules(self, in_force: list[Rule], available: list[Rule], errors: list[str]) -> None:
        """Rebuild the pane: rules in force, other available rules (off), load errors."""
        self.remove_children()
        seen = {rule.id for rule in in_force}
        rows: list[Static | RuleRow] = [RuleRow(rule) for rule in in_force]
        rows += [RuleRow(rule.model_copy(update={"enabled": False})) for rule in available if rule.id not in seen]
        rows += [Static(Text("⚠ " + clean(error)), classes="rule-error") for error in errors]
        if not rows:
            rows.append(Static("No rules (task-oriented mode, or the `none` rule set).", classes="rule-empty"))
        self.mount_all(rows)

    @on(Checkbox.Changed)
    def _toggled(self, event: Checkbox.Changed) -> None:
        event.stop()
        row = event.checkbox.query_ancestor(RuleRow)
        row.rule = row.rule.model_copy(update={"enabled": event.value})
        self.post_message(self.Changed(row.rule))

    @on(Input.Submitted)
    @on(Input.Blurred)
    def _param_done(self, event: Input.Submitted | Input.Blurred) -> None:
        event.stop()
        field = event.input
        row = field.query_ancestor(RuleRow)
        name = field.name or ""
        try:
            value = parse_param(row.rule.params.get(name), field.value)
        except ValueError:
            field.add_class("-invalid")
            self.notify(f"{row.rule.id}.{name}: {field.value!r} is not a valid value", severity="warning")
            return
        field.remove_class("-invalid")
        if row.rule.params.get(name) == value:
            return
        row.rule = row.rule.model_copy(update={"params": {**row.rule.params, name: value}})
        self.post_message(self.Changed(row.rule))
