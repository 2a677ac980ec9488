"""Hermes-style ChatML text: `{"text": ...}` per line.

The system turn lists the tools inside `<tools></tools>` (one JSON function per line) and
says how to call them; an assistant's calls are `<tool_call>\n{"name", "arguments"}\n</tool_call>`
blocks after its text; the results of one batch of calls form one `tool` turn of
`<tool_response>\n{"name", "content"}\n</tool_response>` blocks (content parsed when it is JSON).

Hostile text cannot break the tags:
- the JSON inside `<tools>`, `<tool_call>` and `<tool_response>` writes `<`, `>` and `&` as
  `\u003c`, `\u003e`, `\u0026` (the same JSON once parsed), so no argument or result can close a
  tag early or start one;
- user, system and assistant text may not contain the tags this format uses for structure
  (a tool result may: it is written inside that escaped JSON), and the text an
  assistant writes beside its calls may not hold `<` or `&`: Hermes' own call extractor parses
  that turn as XML, where either one is an error. Such records are skipped with the reason.

A kept reasoning trace opens its assistant turn as `<think>\n...\n</think>\n`.
"""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.export.options import ExportOptions
from turnloom.core.export.record_checks import RecordRejected, check_chat_order
from turnloom.core.export.toolsets import ListedTools
from turnloom.core.models import ChatMessage, Role, Session

TAGS = ("<tools>", "</tools>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>")
TOOL_PREAMBLE = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tools}\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{{"name": <function-name>, "arguments": <args-json-object>}}\n</tool_call>'
)


_XML_SPECIAL = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def build(session: Session, messages: list[ChatMessage], tools: ListedTools, options: ExportOptions) -> dict[str, Any]:
    """One training example.

    Args:
        session: the session (for context only).
        messages: the transcript to export (already checked by `check_messages`).
        tools: the tools to list (made portable once per toolset: `toolsets`).
        options: the export's options (`keep_reasoning`).

    Returns:
        The JSON-ready record.

    Raises:
        RecordRejected: role order, message text holding one of the format's tags, or text
            beside tool calls holding `<` or `&`.
    """
    check_chat_order(messages)
    for index, message in enumerate(messages):
        for tag in TAGS if message.role is not Role.TOOL else ():  # results go inside escaped JSON
            if tag in message.text:
                raise RecordRejected(f"message {index} ({message.role}) contains the tag {tag}")
        if message.tool_calls and ("<" in message.text or "&" in message.text):
            raise RecordRejected(
                f"message {index} (assistant): its text beside tool calls holds '<' or '&', "
                "which Hermes' XML extraction of tool calls refuses"
            )
    listed = "\n".join(tool.function_text.translate(_XML_SPECIAL) for tool in tools)  # `_json` of each
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
            if options.keep_reasoning and message.reasoning:
                parts.insert(0, f"<think>\n{message.reasoning}\n</think>")
            parts += [_call(c.name, c.arguments) for c in message.tool_calls]
            turns.append(("assistant", "\n".join(parts)))
        else:
            turns.append((str(message.role), message.text))
    text = "\n".join(f"<|im_start|>{role}\n{body}<|im_end|>" for role, body in turns)
    return {"text": text}


def _call(name: str, arguments: str) -> str:
    payload = {"name": name, "arguments": json.loads(arguments)}
    return f"<tool_call>\n{_json(payload)}\n</tool_call>"


def _response(name: str, content: str) -> str:
    try:
        value: Any = json.loads(content)
    except json.JSONDecodeError:
        value = content
    payload = {"name": name, "content": value}
    return f"<tool_response>\n{_json(payload)}\n</tool_response>"


def _json(value: Any) -> str:
    """Compact-enough JSON in which no `<`, `>` or `&` can open or close a tag."""
    return json.dumps(value, ensure_ascii=False).translate(_XML_SPECIAL)
