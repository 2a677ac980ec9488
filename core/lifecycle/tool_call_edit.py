"""An assistant turn with tool calls, as a JSON document the curator edits, and read back.

`tool_call_document(message)` is what the editor opens with:

    {
      "text": "",
      "tool_calls": [
        {"name": "get_order_by_id", "arguments": {"id": 13}}
      ]
    }

`read_tool_call_document(text, message, session)` reads it back, checking each call's tool
(offered in this session) and its arguments (against the tool's parameter schema), so an edit
that the engine could not run is refused with the line or call at fault. A call keeps its
id where it stays at its place; the results are produced again when the dialogue steps on.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from turnloom.core.errors import TurnloomError
from turnloom.core.models import ChatMessage, Session, ToolCall
from turnloom.core.tools.sqlenv import validate_arguments


def tool_call_document(message: ChatMessage) -> str:
    """The editable JSON of an assistant turn: its text and its calls with parsed arguments."""
    calls = [{"name": call.name, "arguments": call.parsed_arguments()} for call in message.tool_calls]
    return json.dumps({"text": message.content or "", "tool_calls": calls}, indent=2, ensure_ascii=False) + "\n"


def read_tool_call_document(text: str, original: ChatMessage, session: Session) -> tuple[str, list[ToolCall]]:
    """The text and tool calls an edited document holds.

    Raises:
        TurnloomError: not JSON (naming the line and column), not the document's shape, an
            unknown or disabled tool, or arguments that do not fit the tool's schema.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TurnloomError(f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or set(data) - {"text", "tool_calls"}:
        raise TurnloomError('the document is an object with "text" and "tool_calls" only')
    content = data.get("text") or ""
    raw_calls = data.get("tool_calls") or []
    if not isinstance(content, str) or not isinstance(raw_calls, list):
        raise TurnloomError('"text" is a string and "tool_calls" a list')
    offered = {tool.name: tool for tool in session.active_tools()}
    calls = []
    for position, raw in enumerate(raw_calls):
        calls.append(_read_call(position, raw, original, offered))
    if not calls and not content.strip():
        raise TurnloomError("an assistant turn needs text or at least one tool call")
    return content, calls


def _read_call(position: int, raw: Any, original: ChatMessage, offered: dict) -> ToolCall:
    where = f"tool_calls[{position}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise TurnloomError(f'{where}: give {{"name": TOOL, "arguments": {{...}}}}')
    name, arguments = raw["name"], raw.get("arguments", {})
    spec = offered.get(name)
    if spec is None:
        raise TurnloomError(f"{where}: no tool {name!r} is offered in this session (see the Tools pane)")
    problem = validate_arguments(spec, arguments)
    if problem is not None:
        raise TurnloomError(f"{where} ({name}): {problem}")
    kept = original.tool_calls[position] if position < len(original.tool_calls) else None
    call_id = kept.id if kept is not None and kept.name == name else f"call_edit_{uuid.uuid4().hex[:12]}"
    return ToolCall(id=call_id, name=name, arguments=json.dumps(arguments, ensure_ascii=False))
