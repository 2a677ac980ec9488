"""Roles: every turn speaks in its own role, as a person or an agent would write it.

`in_role` catches what a real model does when a role slips, which no value-level check sees:
- the user simulator's scaffolding in a user turn: its JSON reply (`user_message`,
  `is_task_complete`), its prompt's transcript lines ("Assistant: ...", "Result of get_x: ..."),
  the word "subtask", an AI disclaimer, chat-template tokens;
- the user speaking as the agent ("How can I help you today?");
- a tool call written into an assistant reply's text instead of made (`<tool_call>`,
  `[TOOL_CALLS]`, `{"name": "get_order", "arguments": ...}`), reasoning left in it (`<think>`),
  template tokens (`<|eot_id|>`);
- the assistant speaking as the user ("Thanks, that's all I needed");
- a user turn with no words (an assistant message with neither text nor a call cannot be stored);
- a turn that repeats an earlier one of its role word for word: a user who asks the very same
  sentence again, or a reply that repeats an earlier reply although the tool results behind it
  differ and do not hold the values it states (it answers from the other results).

One pass over the transcript with a few anchored patterns, so the check costs little beside the others.
The user-behaviour rules "Stay the user" and "No reasoning or markup" (core/rules/check.py) look for
more (a user's "you're welcome", any mention of subtasks), but only under a rule set that has them
and with flagged violations allowed; these patterns are the narrow set that holds for every
dialogue, on any database (a `subtasks` table is a thing a user may ask about; "Subtask 2:" is not).
"""

from __future__ import annotations

import json
import re

from turnloom.core.models import ChatMessage, Role
from turnloom.core.quality.checks.finding import Finding
from turnloom.core.quality.checks.view import SessionView

# each pattern runs on the lowered text; one search per turn tells which kind of slip it found
_TEMPLATE = r"(?P<template><\|[a-z_]+\|>|\[/?inst\]|<</?sys>>|<start_of_turn>|<end_of_turn>)"
_USER_SLIPS = re.compile(
    # the simulator's reply fields, its prompt's transcript lines, a numbered subtask, an AI disclaimer
    r'(?P<scaffold>"?(?:user_message|is_task_complete)"?\s*:|\bsub-?task\s*#?\s*\d+(?:\s*of\s*\d+)?\s*[:.)]|'
    r"^\s*(?:user|assistant)\s*:|^\s*assistant called \w+|^\s*result of \w+\s*:|\bas an ai\b|\bi'?m an ai\b|"
    r"\buser simulator\b|\bsimulated user\b|\bmy hidden goal\b)|"
    # the agent's voice
    r"(?P<agent>\bhow (?:can|may) i (?:help|assist)\b|\b(?:anything|something) else i can (?:help|assist|do)\b|"
    r"\bi(?:'d| would) be (?:happy|glad) to (?:help|assist)\b|\bthank you for contacting\b|"
    r"\bi(?:'ve| have) (?:updated|cancelled|canceled|changed|booked|processed) your\b)|" + _TEMPLATE,
    re.MULTILINE,
)
_REPLY_SLIPS = re.compile(
    # a tool call or reasoning written as text
    r"(?P<call></?tool_call>|\[tool_calls\]|<function[=>]|</?think>|\bto=functions\.\w+|"
    r"\"(?:arguments|parameters)\"\s*:\s*[{\"])|" + _TEMPLATE + "|"
    # the user's voice
    r"(?P<user>\b(?:that'?s|that is) (?:all|everything) i (?:need|needed|wanted|was after)\b|"
    r"\bthanks?(?: you)?(?: so much| very much)?,? (?:for your help|bye)\b)",
    re.MULTILINE,
)
_WORD = re.compile(r"[a-z0-9]")
_VALUE = re.compile(r"\d[\d.:-]*\d|\d")
_REPEAT_WORDS = 6  # a turn this long repeated word for word is a loop, not an "okay, thanks"


def check_in_role(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    said: dict[str, int] = {}  # a user turn's words -> where the user first said them
    replied: dict[str, tuple[int, tuple[str, ...]]] = {}  # a reply's words -> where, and the results behind it
    results: list[str] = []  # the tool results since the last user turn
    for index, message in enumerate(view.messages):
        if message.role is Role.USER:
            results = []
            findings += _user_turn(index, message.text, said)
        elif message.role is Role.TOOL:
            results.append(message.text)
        elif message.role is Role.ASSISTANT:
            findings += _assistant_turn(index, message, replied, tuple(results))
    return findings


def _user_turn(index: int, text: str, said: dict[str, int]) -> list[Finding]:
    lowered = text.lower()
    if _WORD.search(lowered) is None:
        return [Finding("in_role", (index,), f"user turn {index} says nothing")]
    found: list[Finding] = []
    slip = _USER_SLIPS.search(lowered) if any(marker in lowered for marker in _MARKERS) else None
    if slip is not None:
        what = "speaks as the assistant" if slip.lastgroup == "agent" else "carries the simulator's own words"
        found.append(Finding("in_role", (index,), f"user turn {index} {what}: {slip.group(0)!r}"))
    elif lowered.lstrip()[0] == "{" and _json_object(text):
        found.append(Finding("in_role", (index,), f"user turn {index} is a JSON object, not something a person says"))
    words = " ".join(lowered.split())
    first = said.setdefault(words, index)
    if first != index and words.count(" ") + 1 >= _REPEAT_WORDS:
        found.append(Finding("in_role", (first, index), f"user turn {index} repeats turn {first} word for word"))
    return found


# the words every user-slip pattern needs ("<" and "[" for template tokens)
_MARKERS = (
    "user",
    "task",
    "assist",
    "result of",
    "an ai",
    "simulat",
    "hidden goal",
    "help",
    "contact",
    "i've",
    "i have",
    "<",
    "[",
)
_REPLY_MARKERS = ("<", "[", '"', "to=functions", "all i", "everything i", "thank")


def _stale(text: str, results: tuple[str, ...]) -> bool:
    """Whether a repeated reply states a value its own results do not hold (a bare confirmation
    such as "Done, I've updated the visit date." may fit two changes; a value from the other results may not)."""
    if not results:
        return False
    joined = "\n".join(results)
    return any(value not in joined for value in _VALUE.findall(text))


def _json_object(text: str) -> bool:
    """Whether the turn is a whole JSON object (a structured reply that was never unpacked)."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return False
    try:
        return isinstance(json.loads(stripped), dict)
    except (ValueError, RecursionError):
        return False


def _assistant_turn(
    index: int, message: ChatMessage, replied: dict[str, tuple[int, tuple[str, ...]]], results: tuple[str, ...]
) -> list[Finding]:
    text = message.text
    if not text.strip():
        return []  # a call with no text (a message with neither is refused when a session is read)
    lowered = text.lower()
    found: list[Finding] = []
    slip = _REPLY_SLIPS.search(lowered) if any(marker in lowered for marker in _REPLY_MARKERS) else None
    if slip is not None and slip.lastgroup != "user":
        found.append(
            Finding(
                "in_role",
                (index,),
                f"message {index} writes {slip.group(0)!r} into its text: a tool call or template markup, not a reply",
            )
        )
    elif slip is not None and not message.tool_calls:
        found.append(Finding("in_role", (index,), f"message {index} speaks as the user: {slip.group(0)!r}"))
    if message.tool_calls:
        return found
    words = " ".join(lowered.split())
    earlier = replied.setdefault(words, (index, results))
    if (
        earlier[0] != index
        and earlier[1] != results
        and words.count(" ") + 1 >= _REPEAT_WORDS
        and _stale(text, results)
    ):
        found.append(
            Finding(
                "in_role",
                (earlier[0], index),
                f"message {index} repeats message {earlier[0]} word for word, though the results behind it differ",
            )
        )
    return found
