"""Grounding: every value the assistant states must come from a tool result or earlier context.

Values are the tokens a reader would check: numbers, dates, emails, and IDs.
A value counts as grounded when it appears in a tool result committed before
the assistant's message, or in a user message before it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
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
    # texts repeat from dialogue to dialogue (replies, results of the same records): each is scanned once
    # (a long one each time, and not kept)
    return list(_stated_values(text) if len(text) <= 8192 else _scan(text))


def _scan(text: str) -> tuple[str, ...]:
    # the email branch is tried at every character: a text without an "@" has no email to find
    return tuple(value.rstrip(".") for value in (_VALUE if "@" in text else _NO_EMAIL).findall(text))


_stated_values = functools.lru_cache(maxsize=4096)(_scan)


def ungrounded_values(
    messages: list[ChatMessage], tool_results_only: bool = False, listed: Mapping[int, int] | None = None
) -> list[UngroundedValue]:
    """Values in assistant text that no earlier tool result (or user message) contains.

    Args:
        tool_results_only: count only tool calls and their results as evidence, not what the user
            said: an id the assistant looked up ("player 27") is grounded by its own call.
        listed: message index -> how many rows that tool result's JSON array holds, for results
            the caller has parsed already (the others are parsed here).
    """
    sources = (Role.TOOL,) if tool_results_only else (Role.TOOL, Role.USER, Role.SYSTEM)
    evidence = _Evidence()
    problems: list[UngroundedValue] = []
    for index, message in enumerate(messages):
        if message.role in sources:
            evidence.add(message.content or "")
            if message.role is Role.TOOL and (count := _listed(index, message.content, listed)) is not None:
                evidence.tokens.add(str(count))  # "3 appointments match" counts the rows a result listed
        if message.role is Role.ASSISTANT and message.tool_calls:
            evidence.add("\n".join(call.arguments for call in message.tool_calls))
        elif message.role is Role.ASSISTANT and message.content:
            problems += [UngroundedValue(index, v) for v in stated_values(message.content) if not evidence.holds(v)]
    return problems


def _listed(index: int, content: str | None, listed: Mapping[int, int] | None) -> int | None:
    if listed is not None and index in listed:
        return listed[index]
    return _rows_listed(content)


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


# evidence up to this size is searched for each value a reply states (a few values against a few
# kilobytes: cheaper than finding every value in every result); past it every piece is tokenised
# once and looked up, as searching a growing corpus for every value would be quadratic
DIRECT_SEARCH_CHARS = 200_000


class _Evidence:
    """The texts a reply may take its values from, so far: a value is grounded when some text
    states it (`stated_values` of that text holds it) or it stands in them as a value."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.size = 0
        self.tokens: set[str] = set()  # `stated_values` of pieces[:tokenised]
        self.tokenised = 0
        self._corpus, self._joined = "", 0  # "\n".join(pieces[:_joined])
        # values found to hold: evidence only grows (a piece joins the end after a "\n"), so they hold for good
        self._held: set[str] = set()

    def add(self, text: str) -> None:
        self.pieces.append(text)
        self.size += len(text) + 1

    def holds(self, value: str) -> bool:
        if value in self._held:
            return True
        if self.size > DIRECT_SEARCH_CHARS:
            self._tokenise()
        if value in self.tokens:
            return True
        if self._joined < len(self.pieces):
            self._corpus, self._joined = "\n".join(self.pieces), len(self.pieces)
        if value not in self._corpus:
            return False  # every stated value is a substring of its text: no text states it either
        if stands_in(self._corpus, value):  # as `(?<![\w.])value(?![\w])` would find it
            self._held.add(value)
            return True
        self._tokenise()  # a value some text states though it does not stand alone there ("x2025-01-01")
        return value in self.tokens

    def _tokenise(self) -> None:
        for piece in self.pieces[self.tokenised :]:
            self.tokens.update(stated_values(piece))
        self.tokenised = len(self.pieces)


def stands_in(haystack: str, needle: str) -> bool:
    """Whether `needle` occurs in `haystack` with no word character or "." right before it and no
    word character right after it (callers that ignore case pass both in lower case). A number is
    not one when it is a piece of a date, time or code: the `10` of `2025-10-21`, `10:30` or `3/10`."""
    number = needle.isdigit()
    start = haystack.find(needle)
    while start >= 0:
        before = haystack[start - 1] if start else " "
        end = start + len(needle)
        after = haystack[end] if end < len(haystack) else " "
        if not (before.isalnum() or before in "._") and not (after.isalnum() or after == "_"):
            if not number or not (_joins_digits(haystack, start - 1, -1) or _joins_digits(haystack, end, 1)):
                return True
        start = haystack.find(needle, start + 1)
    return False


def _joins_digits(text: str, at: int, step: int) -> bool:
    """Whether text[at] is a "-", "/" or ":" with a digit beyond it (in the direction of `step`)."""
    beyond = at + step
    return 0 <= at < len(text) and 0 <= beyond < len(text) and text[at] in "-/:" and text[beyond].isdigit()
