"""The Tools pane: every tool of the session with its call count, and the highlighted tool's details.

The pane shows; it does not change the session. Disabling is the screen's job: it reads
`highlighted_tool` and calls `show_tools` again.
"""

from __future__ import annotations

import json
from collections import Counter

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from turnloom.core.models import ChatMessage, Role, Session, ToolSpec
from turnloom.tui.widgets.message_text import clean


def tool_details(spec: ToolSpec, disabled: bool) -> Text:
    """Description, provenance, parameters, SQL and output schema, as literal text."""
    text = Text()
    text.append(clean(spec.name), style="bold")
    text.append(f"  {spec.origin}" + (" · writes" if spec.writes else "") + (" · DISABLED" if disabled else ""))
    text.append("\n" + clean(spec.description) + "\n")
    text.append("\nparameters\n", style="bold")
    text.append(clean(json.dumps(spec.parameters, indent=2, ensure_ascii=False)) + "\n")
    if spec.sql:
        text.append("\nsql\n", style="bold")
        text.append(clean(spec.sql) + "\n")
    if spec.output_schema:
        text.append("\noutput schema\n", style="bold")
        text.append(clean(json.dumps(spec.output_schema, indent=2, ensure_ascii=False)))
    return text


class ToolsPane(Vertical):
    """Tool list (name ×calls) above the highlighted tool's details."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._session: Session | None = None
        self._calls: Counter[str] = Counter()

    def compose(self) -> ComposeResult:
        yield OptionList(id="tool-list")
        with VerticalScroll(id="tool-detail-scroll"):
            yield Static(id="tool-detail")

    def show_tools(self, session: Session) -> None:
        """Show `session`'s tools, counting calls over its whole transcript."""
        self._session = session
        self._calls = Counter(c.name for m in session.messages if m.role is Role.ASSISTANT for c in m.tool_calls)
        self._rebuild()

    def note_message(self, message: ChatMessage) -> None:
        """Count the calls of one newly committed message."""
        if message.role is Role.ASSISTANT and message.tool_calls:
            if self._session is None:
                return
            option_list = self.query_one("#tool-list", OptionList)
            disabled = set(self._session.disabled_tools)
            for call in message.tool_calls:
                self._calls[call.name] += 1
                for i, spec in enumerate(self._session.tools):
                    if spec.name == call.name and i < option_list.option_count:
                        option_list.replace_option_prompt_at_index(i, self._prompt(spec, disabled))

    def _prompt(self, spec: ToolSpec, disabled: set[str]) -> Text:
        prompt = Text(clean(spec.name))
        prompt.append(f" ×{self._calls.get(spec.name, 0)}", style="dim")
        if spec.name in disabled:
            prompt.append(" off", style="bold reverse")
            prompt.stylize("strike", 0, len(spec.name))
        return prompt

    def _rebuild(self) -> None:
        if self._session is None:
            return
        option_list = self.query_one("#tool-list", OptionList)
        disabled = set(self._session.disabled_tools)
        highlighted = option_list.highlighted
        if option_list.option_count == len(self._session.tools):
            for i, spec in enumerate(self._session.tools):
                option_list.replace_option_prompt_at_index(i, self._prompt(spec, disabled))
        else:
            option_list.clear_options()
            option_list.add_options(Option(self._prompt(s, disabled), id=s.name) for s in self._session.tools)
        if self._session.tools:
            option_list.highlighted = min(highlighted or 0, len(self._session.tools) - 1)
        self._show_detail()

    @property
    def highlighted_tool(self) -> str | None:
        option_list = self.query_one("#tool-list", OptionList)
        if option_list.highlighted is None or self._session is None or not self._session.tools:
            return None
        return self._session.tools[option_list.highlighted].name

    def _show_detail(self) -> None:
        detail = self.query_one("#tool-detail", Static)
        name = self.highlighted_tool
        spec = self._session.tool(name) if (self._session and name) else None
        detail.update(tool_details(spec, name in self._session.disabled_tools) if spec and self._session else "")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_detail()
