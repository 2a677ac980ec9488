"""Turn one `ChatMessage` into Rich `Text`: a header line of badges and a body, never markup.

Everything from a model or a tool is wrapped in `rich.text.Text` as plain characters, so
`[bold]`, `[/]` or `[link=...]` in data shows literally. Control characters are replaced
so data can never drive the terminal. Long bodies are cut before any wrapping happens, so
a 100 KB message costs no more to show collapsed than a short one. Styles are passed in
(from the widget's component classes), so colours follow the theme.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from turnloom.core.models import ChatMessage, Role
from turnloom.core.untrusted import safe_text

COLLAPSED_LINES = 8  # body lines shown before "… more"
COLLAPSED_CHARS = 1_600  # body characters considered when collapsed
PRETTY_LIMIT = 40_000  # tool JSON longer than this is shown as it came


def clean(text: str) -> str:
    """Text safe to paint: tabs expanded, carriage returns dropped, control and bidi characters shown as �."""
    return safe_text(text.replace("\r\n", "\n").replace("\r", "").replace("\t", "    "))


@dataclass(frozen=True)
class MessageStyles:
    """Rich styles for the parts of a message, taken from the theme."""

    role: dict[str, Style]
    badge: Style
    operator: Style
    edited: Style
    violation: Style
    error: Style
    call: Style
    more: Style


def pretty_json(text: str) -> str:
    """`text` re-indented if it is JSON and not too long; otherwise as it came."""
    if len(text) > PRETTY_LIMIT:
        return text
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except (ValueError, RecursionError):
        return text


def header_text(index: int | None, message: ChatMessage, styles: MessageStyles, pending: bool = False) -> Text:
    """`  12 user      simulator · task 2 · task 1 done · ⚠ natural_style`."""
    meta = message.meta
    role = message.role.value
    head = Text(f"{'…' if index is None else index:>4} ", style=styles.badge)
    head.append(f"{role:<9} ", style=styles.role.get(role, Style()))
    parts: list[tuple[str, Style]] = []
    if pending:
        head.append("proposed · not committed", style=styles.edited)
        parts.extend((f"⚠ {verdict.rule_id}", styles.violation) for verdict in meta.violations)
        return _append_parts(head, parts, styles)
    provenance = str(meta.provenance)
    badge_style = {"operator": styles.operator, "edited": styles.edited}.get(provenance, styles.badge)
    head.append(provenance, style=badge_style)
    if meta.task_index is not None:
        parts.append((f"task {meta.task_index + 1}", styles.badge))
    if meta.subtasks:
        parts.append(("subtask " + ",".join(str(i + 1) for i in meta.subtasks), styles.badge))
    if meta.goal_done:
        parts.append(("all tasks done", styles.operator))
    elif meta.task_done and meta.task_index:
        parts.append((f"task {meta.task_index} done", styles.operator))
    if meta.tool_error:
        parts.append(("tool error", styles.error))
    for verdict in meta.violations:
        parts.append((f"⚠ {verdict.rule_id}", styles.violation))
    return _append_parts(head, parts, styles)


def _append_parts(head: Text, parts: list[tuple[str, Style]], styles: MessageStyles) -> Text:
    for text, style in parts:
        head.append(" · ", style=styles.badge)
        head.append(clean(text), style=style)
    return head


def body_source(message: ChatMessage) -> list[tuple[str, str]]:
    """The body as (kind, text) pieces: "text", "call" (a tool call) or "result"."""
    pieces: list[tuple[str, str]] = []
    if message.role is Role.TOOL:
        pieces.append(("call", f"← {message.name or 'result'}"))
        pieces.append(("text", pretty_json(message.content or "")))
        return pieces
    if message.content:
        pieces.append(("text", message.content))
    for call in message.tool_calls:
        pieces.append(("call", f"→ {call.name}"))
        pieces.append(("text", pretty_json(call.arguments)))
    if message.meta.violations:
        for verdict in message.meta.violations:
            detail = f" — {verdict.detail}" if verdict.detail else ""
            pieces.append(("violation", f"⚠ rule {verdict.rule_id}{detail}"))
    return pieces


def body_text(
    message: ChatMessage, styles: MessageStyles, expanded: bool, override: str | None = None
) -> tuple[Text, bool]:
    """The body, cut to `COLLAPSED_LINES` unless expanded; returns (text, was_cut)."""
    pieces = [("text", override)] if override is not None else body_source(message)
    body = Text()
    lines_left = COLLAPSED_LINES
    chars_left = COLLAPSED_CHARS
    cut = False
    for kind, raw in pieces:
        if not expanded:
            if lines_left <= 0 or chars_left <= 0:
                cut = True
                break
            if len(raw) > chars_left:
                raw, cut = raw[:chars_left], True
            lines = raw.split("\n")
            if len(lines) > lines_left:
                lines, cut = lines[:lines_left], True
            raw = "\n".join(lines)
            lines_left -= len(lines)
            chars_left -= len(raw)
        style = {"call": styles.call, "violation": styles.violation}.get(kind, Style())
        if message.role is Role.TOOL and message.meta.tool_error and kind == "text":
            style = styles.error
        if body:
            body.append("\n")
        body.append(clean(raw), style=style)
    return body, cut
