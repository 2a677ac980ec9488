"""The transcript and tool list a record is built from, shaped by the export's options.

- `with_system_prompt`: the assistant's system prompt (the one the LLM assistant is given)
  placed first, unless the transcript already opens with a system message.
- `sequential_calls`: a parallel step (one assistant message with several calls) becomes
  call -> result pairs, in the order the results were committed. The engine runs the calls of
  a step one after another in that order, so a read that saw a write's effect stays after that
  write, and one that ran before it stays before it: every result still reads true.
- `cut_before_unweighted`: for formats with no per-turn loss mask, the record ends at the last
  assistant reply before the first assistant message of weight 0.
- `listed_tools`: every tool, or the ones the record calls plus N distractors drawn (seeded
  by the session) from the rest.

Owns: these functions. Leaves to others: the options themselves (`export.options`), the
checks (`record_checks`), the formats.
"""

from __future__ import annotations

import random
from typing import Any

from turnloom.core.export.options import ToolSelection
from turnloom.core.export.record_checks import RecordRejected
from turnloom.core.models import ChatMessage, Role, Session, ToolSpec
from turnloom.core.prompts import render


def with_system_prompt(session: Session, messages: list[ChatMessage]) -> list[ChatMessage]:
    """`messages` opened by the assistant's system prompt for the session's domain (kept if present)."""
    if messages and messages[0].role is Role.SYSTEM:
        return messages
    return [ChatMessage(role=Role.SYSTEM, content=render("assistant.md", domain=session.domain)), *messages]


def sequential_calls(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Every parallel step split into one call and its result at a time.

    The first of the split messages keeps the step's text and reasoning; each keeps its weight.
    Results stay in the order they were committed, each right after its own call.
    """
    out: list[ChatMessage] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        index += 1
        if message.role is not Role.ASSISTANT or len(message.tool_calls) < 2:
            out.append(message)
            continue
        calls = {call.id: call for call in message.tool_calls}
        results: list[ChatMessage] = []
        while index < len(messages) and messages[index].role is Role.TOOL:
            results.append(messages[index])
            index += 1
        for n, result in enumerate(results):
            update: dict[str, Any] = {"tool_calls": [calls[result.tool_call_id or ""]]}
            if n:
                update |= {"content": None, "reasoning": None}
            out.append(message.model_copy(update=update))
            out.append(result)
    return out


def cut_before_unweighted(messages: list[ChatMessage], fmt: str) -> list[ChatMessage]:
    """The transcript up to the last assistant reply before the first weight-0 assistant message.

    Raises:
        RecordRejected: the first assistant reply already has weight 0 (nothing left to train on).
    """
    last_reply = None
    for index, message in enumerate(messages):
        if message.role is not Role.ASSISTANT:
            continue
        if message.meta.weight == 0:
            if last_reply is None:
                raise RecordRejected(
                    f"message {index} has weight 0 and no assistant reply comes before it; "
                    f"{fmt} has no per-turn mask, so nothing is left to train on"
                )
            return messages[: last_reply + 1]
        if not message.tool_calls:
            last_reply = index
    return messages


def listed_tools(session: Session, messages: list[ChatMessage], selection: ToolSelection) -> list[ToolSpec]:
    """The tool schemas a record lists, in the session's order.

    Args:
        session: the session (its tools, disabled tools, seed and id).
        messages: the messages the record holds.
        selection: all, or used plus N distractors.

    Returns:
        Without `used_only`: every tool not disabled, plus any disabled one the record calls.
        With it: the tools the record calls, plus `distractors` others drawn from the enabled
        rest by a generator seeded with the session's id and seed (the same draw every export).
    """
    called = {call.name for m in messages for call in m.tool_calls}
    disabled = set(session.disabled_tools)
    if not selection.used_only:
        return [s for s in session.tools if s.name not in disabled or s.name in called]
    rest = [s.name for s in session.tools if s.name not in called and s.name not in disabled]
    draw = random.Random(f"{session.id}:{session.config.seed}")
    chosen = called | set(draw.sample(rest, min(selection.distractors, len(rest))))
    return [s for s in session.tools if s.name in chosen]
