"""OpenAI chat fine-tuning JSONL: `{"messages", "tools", "parallel_tool_calls"}` per line.

Tool-call arguments stay JSON strings, as the Chat Completions API carries them. An assistant
message gets a `weight` (0 or 1) only when its `meta.weight` sets one. `tools` is a list of
function objects, as OpenAI's API takes it; with `json_strings` it is one JSON string instead
(for loading the file with `datasets` releases before 4.7, which pad nested objects).
"""

from __future__ import annotations

from typing import Any

from turnloom.core.export.options import ExportOptions
from turnloom.core.export.record_checks import RecordRejected, check_chat_order
from turnloom.core.export.toolsets import ListedTools
from turnloom.core.models import ChatMessage, Role, Session


def build(session: Session, messages: list[ChatMessage], tools: ListedTools, options: ExportOptions) -> dict[str, Any]:
    """One training example.

    Args:
        session: the session (for context only).
        messages: the transcript to export (already checked by `check_messages`).
        tools: the tools to list (made portable once per toolset: `toolsets`).
        options: the export's options (`json_strings`).

    Returns:
        The JSON-ready record.

    Raises:
        RecordRejected: role order, or a `weight` that is not 0 or 1.
    """
    check_chat_order(messages)
    out = []
    for index, message in enumerate(messages):
        item = message.to_openai()
        if message.role is Role.ASSISTANT and message.meta.weight is not None:
            weight = message.meta.weight
            if weight not in (0, 1) or isinstance(weight, bool):
                raise RecordRejected(f"message {index}: weight must be 0 or 1, not {weight!r}")
            item["weight"] = weight
        out.append(item)
    return {
        "messages": out,
        "tools": tools.json_text() if options.strings_for("openai") else tools.objects(),
        "parallel_tool_calls": any(len(m.tool_calls) > 1 for m in messages),
    }
