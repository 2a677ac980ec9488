"""Hugging Face / TRL conversational JSONL: `{"messages", "tools"}` per line.

As TRL's SFT trainer and `apply_chat_template` take them: tool calls are
`{"id", "type": "function", "function": {"name", "arguments"}}`, tool results carry
`tool_call_id` and `name`, and every `content` is a string ("" for an assistant turn that only
calls tools), since many chat templates cannot render null. A kept reasoning trace is the
assistant message's `reasoning_content`, as Qwen3's and gpt-oss's templates read it.

Encoding (`ExportOptions.json_strings`, on by default): `tools` is one JSON string and each
call's `arguments` a JSON string. That is the only form every `datasets` release loads as
written: before 4.7, nested objects are read into Arrow structs that pad each call with the
other tools' arguments as nulls, turn date strings into datetimes and refuse a column whose
type differs between rows. Decode both with `json.loads` before `apply_chat_template` (or
export with `--no-json-strings` for datasets >= 4.7, whose `Json()` type keeps objects).
"""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.export.options import ExportOptions
from turnloom.core.export.record_checks import check_chat_order
from turnloom.core.export.toolsets import ListedTools
from turnloom.core.models import ChatMessage, Role, Session


def build(session: Session, messages: list[ChatMessage], tools: ListedTools, options: ExportOptions) -> dict[str, Any]:
    """One training example.

    Args:
        session: the session (for context only).
        messages: the transcript to export (already checked by `check_messages`).
        tools: the tools to list (made portable once per toolset: `toolsets`).
        options: the export's options (`json_strings`, `keep_reasoning`).

    Returns:
        The JSON-ready record.

    Raises:
        RecordRejected: role order.
    """
    check_chat_order(messages)
    strings = options.strings_for("hf")
    out: list[dict[str, Any]] = []
    names = {call.id: call.name for m in messages for call in m.tool_calls}
    for message in messages:
        item: dict[str, Any] = {"role": str(message.role), "content": message.content or ""}
        if message.tool_calls:
            item["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": call.arguments if strings else json.loads(call.arguments),
                    },
                }
                for call in message.tool_calls
            ]
        if options.keep_reasoning and message.role is Role.ASSISTANT and message.reasoning:
            item["reasoning_content"] = message.reasoning
        if message.role is Role.TOOL:
            item["tool_call_id"] = message.tool_call_id
            item["name"] = names[message.tool_call_id or ""]
        out.append(item)
    return {"messages": out, "tools": tools.json_text() if strings else tools.objects()}
