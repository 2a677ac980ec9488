"""The calls a dialogue already made, keyed by tool and arguments: what the offline roles must not ask again.

`CallsMade` keeps the index as the transcript grows: each player asks it once per turn, and only
the messages committed since are read (a 1,000-message dialogue re-read every call at each user
turn). A transcript that changed behind it (a fork, an edited or regenerated turn) is read again.
"""

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
    return CallsMade().of(messages)


class CallsMade:
    """`call_key` -> parsed result for the calls of one growing transcript, read incrementally."""

    def __init__(self) -> None:
        self._seen: list[ChatMessage] = []  # the messages read so far, to tell a grown transcript from another
        self._calls: dict[str, CallKey] = {}  # call id -> key, for calls whose result may still come
        self._made: dict[CallKey, object] = {}

    def of(self, messages: list[ChatMessage]) -> dict[CallKey, object]:
        """The calls of `messages` that got a result (a view: do not change it)."""
        seen = self._seen
        # the transcript read before, grown: its first and last messages read are still in place (an edit, a
        # fork or a regenerated turn truncates the transcript, so new messages take their place)
        if seen and (
            len(messages) < len(seen) or messages[len(seen) - 1] is not seen[-1] or messages[0] is not seen[0]
        ):
            self._seen, self._calls, self._made = [], {}, {}  # not the transcript read before: start again
            seen = self._seen
        for message in messages[len(seen) :]:
            self._read(message)
            seen.append(message)
        return self._made

    def _read(self, message: ChatMessage) -> None:
        for call in message.tool_calls:
            try:
                self._calls[call.id] = call_key(call.name, call.parsed_arguments())
            except (ValueError, RecursionError):
                continue  # arguments that are not JSON: a call that answered nothing
        if message.role is Role.TOOL and message.tool_call_id in self._calls and not message.meta.tool_error:
            try:
                self._made[self._calls[message.tool_call_id]] = json.loads(message.content or "null")
            except json.JSONDecodeError:
                return
