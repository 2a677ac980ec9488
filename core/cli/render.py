"""Plain-text rendering of transcripts for the terminal (colour on a tty, plain otherwise).

The TUI renders with Textual; this is for headless commands (`run`, `replay`).
Colour is plain ANSI so the core stays free of UI libraries.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from turnloom.core.models import ChatMessage, Role, Session

_COLOURS = {Role.USER: "36", Role.ASSISTANT: "32", Role.TOOL: "33", Role.SYSTEM: "35"}
_MAX_RESULT = 600


def use_colour(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if colour else text


def _clean(text: str) -> str:
    # model text must never drive the terminal: drop control characters but newlines and tabs
    return "".join(ch for ch in text if ch in "\n\t" or (ch >= " " and not "\x7f" <= ch <= "\x9f"))


def badge(message: ChatMessage) -> str:
    meta = message.meta
    parts = [str(meta.provenance)]
    if meta.task_index is not None:
        parts.append(f"task {meta.task_index + 1}")
    if meta.is_task_complete:
        parts.append("all done")
    elif meta.completes_task and meta.task_index:
        parts.append(f"task {meta.task_index} done")
    if meta.tool_error:
        parts.append("error")
    if meta.violations:
        parts.append("violations: " + ", ".join(v.rule_id for v in meta.violations))
    return "[" + " · ".join(parts) + "]"


def format_message(index: int, message: ChatMessage, colour: bool = False, provenance: bool = True) -> str:
    """One message as a few lines of text."""
    head = _paint(f"{index:>3} {message.role.value:<9}", _COLOURS.get(message.role, "0"), colour)
    tag = f" {_paint(badge(message), '2', colour)}" if provenance else ""
    lines: list[str] = []
    if message.role is Role.ASSISTANT and message.tool_calls:
        if message.content:
            lines.append(_clean(message.content))
        for call in message.tool_calls:
            lines.append(f"→ {call.name}({_clean(_compact(call.arguments))})")
    elif message.role is Role.TOOL:
        text = _clean(message.content or "")
        if len(text) > _MAX_RESULT:
            text = text[:_MAX_RESULT] + f" … ({len(message.content or '')} chars)"
        lines.append(f"← {message.name or ''} {text}")
    else:
        lines.append(_clean(message.content or ""))
    body = "\n".join(lines).replace("\n", "\n              ")
    return f"{head}{tag}\n              {body}"


def _compact(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False)
    except json.JSONDecodeError:
        return arguments


def print_header(session: Session, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    config = session.config
    stream.write(
        f"# turnloom · {session.domain} · {config.mode} · {config.execution} · seed {config.seed} · "
        f"{config.tasks} task(s) · session {session.id}\n"
    )


def print_transcript(
    session: Session, stream: TextIO | None = None, upto: int | None = None, provenance: bool = True
) -> None:
    stream = stream or sys.stdout
    colour = use_colour(stream)
    for index, message in enumerate(session.messages[:upto]):
        stream.write(format_message(index, message, colour, provenance) + "\n")


def finish_text(session: Session) -> str:
    """How the dialogue ended, with the cause when the reason alone does not say it."""
    if session.finish_reason is None:
        return "not finished"
    if session.finish_detail:
        return f"{session.finish_reason}: {_clean(session.finish_detail)}"
    return str(session.finish_reason)
