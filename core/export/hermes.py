"""Hermes-style ChatML text: `{"text": ...}` per line.

The system turn lists the tools inside `<tools></tools>` (one JSON function per line) and
says how to call them; an assistant's calls are `<tool_call>\n{"name", "arguments"}\n</tool_call>`
blocks after its text; the results of one batch of calls form one `tool` turn of
`<tool_response>\n{"name", "content"}\n</tool_response>` blocks (content parsed when it is JSON).
Message text may not contain the tags this format uses for structure.
"""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.export.record_checks import RecordRejected, check_chat_order
from turnloom.core.models import ChatMessage, Role, Session, ToolSpec

TAGS = ("<tools>", "</tools>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>")
TOOL_PREAMBLE = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tools}\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{{"name": <function-name>, "arguments": <args-json-object>}}\n</tool_call>'
)


def build(session: Session, messages: list[ChatMessage], tools: list[ToolSpec]) -> dict[str, Any]:
    """One training example.

    Args:
        session: the session (for context only).
        messages: the transcript to export (already checked by `check_messages`).
        tools: the tool specs to list.

    Returns:
        The JSON-ready record.

    Raises:
        RecordRejected: role order, or message text holding one of the format's tags.
    """
    check_chat_order(messages)
    for index, message in enumerate(messages):
        for tag in TAGS:
            if tag in message.text:
                raise RecordRejected(f"message {index} ({message.role}) contains the tag {tag}")
    listed = "\n".join(json.dumps(spec.to_openai(), ensure_ascii=False) for spec in tools)
    system = TOOL_PREAMBLE.format(tools=listed)
    if messages and messages[0].role is Role.SYSTEM:
        system = f"{messages[0].text}\n\n{system}"
        messages = messages[1:]
    turns = [("system", system)]
    names = {call.id: call.name for m in messages for call in m.tool_calls}
    for message in messages:
        if message.role is Role.TOOL:
            block = _response(names[message.tool_call_id or ""], message.text)
            if turns[-1][0] == "tool":
                turns[-1] = ("tool", f"{turns[-1][1]}\n{block}")
            else:
                turns.append(("tool", block))
        elif message.role is Role.ASSISTANT:
            parts = [message.text] if message.text.strip() else []
            parts += [_call(c.name, c.arguments) for c in message.tool_calls]
            turns.append(("assistant", "\n".join(parts)))
        else:
            turns.append((str(message.role), message.text))
    text = "\n".join(f"<|im_start|>{role}\n{body}<|im_end|>" for role, body in turns)
    return {"text": text}


def _call(name: str, arguments: str) -> str:
    payload = {"name": name, "arguments": json.loads(arguments)}
    return f"<tool_call>\n{json.dumps(payload, ensure_ascii=False)}\n</tool_call>"


def _response(name: str, content: str) -> str:
    try:
        value: Any = json.loads(content)
    except json.JSONDecodeError:
        value = content
    payload = {"name": name, "content": value}
    return f"<tool_response>\n{json.dumps(payload, ensure_ascii=False)}\n</tool_response>"
