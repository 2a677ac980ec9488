"""The calls a dialogue already made, keyed by tool and arguments: what the offline roles must not ask again."""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.models import ChatMessage, Role

CallKey = tuple[str, str]


def call_key(tool: str, arguments: dict[str, Any]) -> CallKey:
    """A call as (tool, its arguments in canonical JSON): equal for the same question however written."""
    return tool, json.dumps(arguments, sort_keys=True, default=str)


def calls_made(messages: list[ChatMessage]) -> dict[CallKey, object]:
    """`call_key` -> the parsed result, for every call of the transcript that got a result."""
    calls: dict[str, CallKey] = {}
    made: dict[CallKey, object] = {}
    for message in messages:
        for call in message.tool_calls:
            try:
                calls[call.id] = call_key(call.name, call.parsed_arguments())
            except (ValueError, RecursionError):
                continue  # arguments that are not JSON: a call that answered nothing
        if message.role is Role.TOOL and message.tool_call_id in calls and not message.meta.tool_error:
            try:
                made[calls[message.tool_call_id]] = json.loads(message.content or "null")
            except json.JSONDecodeError:
                continue
    return made
