"""Grounding: every value the assistant states must come from a tool result or earlier context.

Values are the tokens a reader would check: numbers, dates, emails, and IDs.
A value counts as grounded when it appears in a tool result committed before
the assistant's message, or in a user message before it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from turnloom.core.models import ChatMessage, Role

_VALUE = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # email
    r"|\d{4}-\d{2}-\d{2}(?:T[\d:+.]+)?"  # date / date-time
    r"|(?<![\w.])\d+(?:\.\d+)?(?![\w])"  # number
)


@dataclass(frozen=True)
class UngroundedValue:
    message_index: int
    value: str


_NO_EMAIL = re.compile(_VALUE.pattern.split("|", 1)[1])  # the same without the email branch


def stated_values(text: str) -> list[str]:
    """The checkable values in a piece of text."""
    # the email branch is tried at every character; a text without an "@" has no email to find
    return [value.rstrip(".") for value in (_VALUE if "@" in text else _NO_EMAIL).findall(text)]


def ungrounded_values(messages: list[ChatMessage], tool_results_only: bool = False) -> list[UngroundedValue]:
    """Values in assistant text that no earlier tool result (or user message) contains.

    Args:
        tool_results_only: count only tool calls and their results as evidence, not what the user
            said: an id the assistant looked up ("player 27") is grounded by its own call.
    """
    sources = (Role.TOOL,) if tool_results_only else (Role.TOOL, Role.USER, Role.SYSTEM)
    evidence: list[str] = []
    tokens: set[str] = set()  # the values the evidence states: most lookups end here, without a scan
    problems: list[UngroundedValue] = []
    for index, message in enumerate(messages):
        if message.role in sources:
            evidence.append(message.content or "")
            tokens.update(stated_values(message.content or ""))
            if message.role is Role.TOOL and (count := _rows_listed(message.content)) is not None:
                tokens.add(str(count))  # "3 appointments match" counts the rows a result listed
        if message.role is Role.ASSISTANT and message.tool_calls:
            arguments = "\n".join(call.arguments for call in message.tool_calls)
            evidence.append(arguments)
            tokens.update(stated_values(arguments))
        elif message.role is Role.ASSISTANT and message.content:
            corpus: str | None = None
            for value in stated_values(message.content):
                if value in tokens:
                    continue
                corpus = "\n".join(evidence) if corpus is None else corpus
                if not _appears(value, corpus):
                    problems.append(UngroundedValue(index, value))
    return problems


def _rows_listed(content: str | None) -> int | None:
    """How many records a tool result lists (a JSON array), or None for any other result."""
    text = (content or "").lstrip()
    if not text.startswith("["):
        return None
    try:
        rows = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return len(rows) if isinstance(rows, list) else None


def _appears(value: str, corpus: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w])", corpus) is not None
