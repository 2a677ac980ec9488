"""Hugging Face / TRL conversational JSONL: `{"messages", "tools"}` per line.

As TRL's SFT trainer and `apply_chat_template` take them: tool-call arguments are objects
(`{"type": "function", "function": {"name", "arguments": {...}}}`, with the call `id`), tool
results carry `tool_call_id` and `name`, and every `content` is a string ("" for an
assistant turn that only calls tools), since many chat templates cannot render null.
"""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.export.record_checks import check_chat_order
from turnloom.core.models import ChatMessage, Role, Session, ToolSpec


def build(session: Session, messages: list[ChatMessage], tools: list[ToolSpec]) -> dict[str, Any]:
    """One training example.

    Args:
        session: the session (for context only).
        messages: the transcript to export (already checked by `check_messages`).
        tools: the tool specs to list.

    Returns:
        The JSON-ready record.

    Raises:
        RecordRejected: role order.
    """
    check_chat_order(messages)
    out: list[dict[str, Any]] = []
    names = {call.id: call.name for m in messages for call in m.tool_calls}
    for message in messages:
        item: dict[str, Any] = {"role": str(message.role), "content": message.content or ""}
        if message.tool_calls:
            item["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.loads(call.arguments)},
                }
                for call in message.tool_calls
            ]
        if message.role is Role.TOOL:
            item["tool_call_id"] = message.tool_call_id
            item["name"] = names[message.tool_call_id or ""]
        out.append(item)
    return {"messages": out, "tools": [spec.to_openai() for spec in tools]}
