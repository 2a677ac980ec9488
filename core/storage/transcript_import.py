"""Import a plain chat transcript (OpenAI Chat Completions shape) as turnloom messages.

Accepted: `{"messages": [...]}` (optionally with `"tools": [...]` in the
Chat Completions tools shape) or a bare list of messages. Roles are
`system` (or `developer`), `user`, `assistant` and `tool`. Assistant tool
calls may be in the API's nested form (`{"id", "type", "function": {"name",
"arguments"}}`) or flat (`{"id", "name", "arguments"}`); arguments may be a JSON
string or an object. Content may be a string, null, or a list of text parts.
`tools` may also be one JSON string of that list (as hf exports write it). An
assistant message's `weight` (0 or 1, OpenAI's training mask) is kept in its
meta. Other keys (`refusal`, ...) are ignored.

Every message comes back marked `provenance=imported`. Errors name the file,
the index of the offending message and what is wrong. Building a session
around the messages (domain, tasks, seed) is left to the caller.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from turnloom.core.errors import SessionFileError
from turnloom.core.models import ChatMessage, MessageMeta, Provenance, Role, ToolCall, ToolOrigin, ToolSpec
from turnloom.core.storage.snapshot import read_text
from turnloom.core.untrusted import writable_data

_ROLES = {
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
    "tool": Role.TOOL,
}


class TranscriptError(SessionFileError):
    """A transcript file that cannot be imported; the message names the file and the message index."""


@dataclass
class Transcript:
    """An imported transcript: its messages, and any tools it declared."""

    messages: list[ChatMessage]
    tools: list[ToolSpec] = field(default_factory=list)


def looks_like_transcript(data: Any) -> bool:
    """Whether parsed JSON is a plain transcript rather than a turnloom session."""
    if isinstance(data, list):
        return True
    return isinstance(data, dict) and "messages" in data and "schema_version" not in data


def load_transcript(path: str | os.PathLike[str]) -> Transcript:
    """Read and import a transcript file.

    Args:
        path: a JSON file holding `{"messages": [...]}` or a bare list.

    Returns:
        The imported transcript.

    Raises:
        TranscriptError: unreadable or invalid JSON (line and column), a wrong top-level
            shape, or a bad message (its index and what is wrong).
    """
    text = read_text(path)
    return parse_transcript(_parse_json(text, path), path)


def parse_transcript(data: Any, source: str | os.PathLike[str] = "<transcript>") -> Transcript:
    """Import already-parsed transcript data.

    Args:
        data: `{"messages": [...], "tools": [...]?}` or a list of messages.
        source: the file name to put in error messages.

    Returns:
        The imported transcript.

    Raises:
        TranscriptError: as `load_transcript`.
    """
    tools_data: Any = []
    if isinstance(data, dict):
        if "messages" not in data:
            raise TranscriptError(f'{source}: expected {{"messages": [...]}} or a list of messages')
        raw_messages, tools_data = data["messages"], data.get("tools") or []
        if isinstance(tools_data, str):
            try:
                tools_data = json.loads(tools_data)
            except json.JSONDecodeError as exc:
                raise TranscriptError(f'{source}: "tools" is a string but not JSON ({exc.msg})') from None
    else:
        raw_messages = data
    if not isinstance(raw_messages, list):
        raise TranscriptError(f'{source}: "messages" must be a list, not {type(raw_messages).__name__}')
    if not raw_messages:
        raise TranscriptError(f"{source}: the transcript has no messages")
    messages = [_message(raw, index, source) for index, raw in enumerate(raw_messages)]
    _check_calls_answered(messages, source)
    names = {c.id: c.name for m in messages for c in m.tool_calls}
    for message in messages:
        if message.role is Role.TOOL and message.name is None:
            message.name = names.get(message.tool_call_id or "")
    return Transcript(messages, _tools(tools_data, source))


def _parse_json(text: str, source: str | os.PathLike[str]) -> Any:
    try:
        return writable_data(json.loads(text))
    except RecursionError:
        raise TranscriptError(f"{source}: nested too deeply to be a transcript") from None
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{") and "\n{" in text:
            raise TranscriptError(
                f"{source}: line {exc.lineno}: holds several JSON documents (JSONL?); "
                "a transcript file holds one conversation"
            ) from None
        raise TranscriptError(f"{source}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise TranscriptError(f"{source}: holds a number with thousands of digits; is it a transcript?") from None


def _message(raw: Any, index: int, source: str | os.PathLike[str]) -> ChatMessage:
    where = f"{source}: message {index}"
    if not isinstance(raw, dict):
        raise TranscriptError(f'{where}: expected an object with "role" and "content", not {type(raw).__name__}')
    role_name = raw.get("role")
    if not isinstance(role_name, str) or role_name not in _ROLES:
        known = ", ".join(sorted(_ROLES))
        raise TranscriptError(f"{where}: unknown role {role_name!r} (expected one of {known})")
    role = _ROLES[role_name]
    content = _content(raw.get("content"), where)
    raw_calls = raw.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise TranscriptError(f"{where}: tool_calls must be a list of calls, not {type(raw_calls).__name__}")
    calls = [_call(c, where, n) for n, c in enumerate(raw_calls)]
    if calls and role is not Role.ASSISTANT:
        raise TranscriptError(f"{where}: a {role_name} message cannot carry tool_calls")
    reasoning = raw.get("reasoning", raw.get("reasoning_content"))
    weight = raw.get("weight")
    if weight is not None and (role is not Role.ASSISTANT or isinstance(weight, bool) or weight not in (0, 1)):
        raise TranscriptError(
            f"{where}: weight must be 0 or 1 on an assistant message, not {weight!r} on a {role_name}"
        )
    if role is Role.TOOL and not raw.get("tool_call_id"):
        raise TranscriptError(f'{where}: a tool message needs "tool_call_id" (the id of the call it answers)')
    try:
        return ChatMessage(
            role=role,
            content=content,
            tool_calls=calls,
            tool_call_id=str(raw["tool_call_id"]) if role is Role.TOOL else None,
            name=raw.get("name") if role is Role.TOOL and isinstance(raw.get("name"), str) else None,
            reasoning=reasoning if isinstance(reasoning, str) else None,
            meta=MessageMeta(provenance=Provenance.IMPORTED, weight=weight),
        )
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise TranscriptError(f"{where}: {reason}") from None


def _content(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts
        texts = []
        for part in value:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise TranscriptError(f"{where}: content part of type {kind!r} is not supported (text only)")
        return "".join(texts)
    if isinstance(value, dict):  # a tool result given as an object
        return json.dumps(value, ensure_ascii=False)
    raise TranscriptError(f"{where}: content must be text, null or a list of text parts, not {type(value).__name__}")


def _call(raw: Any, where: str, n: int) -> ToolCall:
    if not isinstance(raw, dict):
        raise TranscriptError(f"{where}: tool_calls[{n}] must be an object")
    function = raw.get("function", raw)
    if not isinstance(function, dict):
        raise TranscriptError(f"{where}: tool_calls[{n}].function must be an object")
    name, arguments, call_id = function.get("name"), function.get("arguments", "{}"), raw.get("id")
    if not isinstance(call_id, str) or not call_id:
        raise TranscriptError(f'{where}: tool_calls[{n}] has no "id"; tool results refer to calls by id')
    if not isinstance(name, str) or not name:
        raise TranscriptError(f"{where}: tool_calls[{n}] has no function name")
    if isinstance(arguments, dict):
        arguments = json.dumps(arguments, ensure_ascii=False)
    try:
        return ToolCall(id=call_id, name=name, arguments=arguments if isinstance(arguments, str) else "")
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise TranscriptError(f"{where}: tool_calls[{n}] ({name}): {reason}") from None


def _check_calls_answered(messages: list[ChatMessage], source: str | os.PathLike[str]) -> None:
    """Every call answered exactly once, by a tool message after it."""
    open_calls: dict[str, int] = {}
    seen: set[str] = set()
    for index, message in enumerate(messages):
        if message.role is not Role.TOOL and open_calls:
            call_id, at = next(iter(open_calls.items()))
            raise TranscriptError(
                f"{source}: message {at}: tool call {call_id!r} has no result before message {index}; "
                "add its tool message or drop the call"
            )
        if message.role is Role.ASSISTANT:
            for call in message.tool_calls:
                if call.id in seen:
                    raise TranscriptError(f"{source}: message {index}: duplicate tool call id {call.id!r}")
                seen.add(call.id)
                open_calls[call.id] = index
        elif message.role is Role.TOOL:
            if open_calls.pop(message.tool_call_id or "", None) is None:
                raise TranscriptError(
                    f"{source}: message {index}: tool result answers {message.tool_call_id!r}, which is no "
                    "earlier unanswered tool call"
                )
    if open_calls:
        call_id, at = next(iter(open_calls.items()))
        raise TranscriptError(
            f"{source}: message {at}: tool call {call_id!r} has no result; add its tool message or drop the call"
        )


def _tools(raw: Any, source: str | os.PathLike[str]) -> list[ToolSpec]:
    if not isinstance(raw, list):
        raise TranscriptError(f'{source}: "tools" must be a list')
    tools = []
    for n, item in enumerate(raw):
        function = item.get("function", item) if isinstance(item, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise TranscriptError(f'{source}: tools[{n}] must be {{"type": "function", "function": {{"name", ...}}}}')
        try:
            tools.append(
                ToolSpec(
                    name=function["name"],
                    description=str(function.get("description") or function["name"]),
                    parameters=function.get("parameters") or {"type": "object", "properties": {}},
                    origin=ToolOrigin.IMPORTED,
                )
            )
        except ValidationError as exc:
            raise TranscriptError(f"{source}: tools[{n}]: {exc.errors()[0]['msg']}") from None
    return tools
