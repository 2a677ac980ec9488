"""Per-dialogue statistics in the paper's Table 1 terms, and a few more.

Turn = every message (user, assistant, tool call, tool output); Step = the
tool-calling assistant messages needed by one user request (reported per
request and per dialogue, since the paper is ambiguous); Task = tasks completed.
Dataset-level tables (`turnloom stats`) aggregate these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from turnloom.core.models import Role, Session
from turnloom.core.tools.sqlenv import validate_arguments


def dialogue_stats(session: Session) -> dict:
    """Counts for one dialogue.

    Returns:
        turns, user_turns, steps (tool-calling assistant messages), steps_per_request
        (mean over user turns that led to tool use), tool_calls, tool_errors, writes,
        tasks, tasks_done, subtasks_per_user_turn, violations, finish_reason; and
        read_calls / write_calls (by the called tool's kind), parallel_steps (steps
        with more than one call), distinct_tools, invalid_arguments (calls whose
        arguments do not fit the tool's schema), prompt_tokens, completion_tokens,
        tokens, generation_s (summed message latencies).
    """
    messages = session.messages
    user_turns = 0
    steps = 0
    per_request: list[int] = []
    current = 0
    tool_calls = tool_errors = 0
    subtasks = 0
    violations = 0
    for message in messages:
        if message.role is Role.USER:
            if current:
                per_request.append(current)
            current = 0
            user_turns += 1
            subtasks += len(message.meta.subtasks)
            violations += len(message.meta.violations)
        elif message.role is Role.ASSISTANT and message.tool_calls:
            steps += 1
            current += 1
            tool_calls += len(message.tool_calls)
        elif message.role is Role.TOOL and message.meta.tool_error:
            tool_errors += 1
    if current:
        per_request.append(current)
    calls = _call_stats(session)
    tasks_done = sum(1 for m in messages if m.role is Role.USER and m.meta.task_done)
    return {
        "turns": len(messages),
        "user_turns": user_turns,
        "steps": steps,
        "steps_per_request": (sum(per_request) / len(per_request)) if per_request else 0.0,
        "tool_calls": tool_calls,
        "tool_errors": tool_errors,
        "writes": len(session.write_log),
        "tasks": len(session.tasks),
        "tasks_done": tasks_done,
        "subtasks_per_user_turn": subtasks / user_turns if user_turns else 0.0,
        "violations": violations,
        "finish_reason": str(session.finish_reason) if session.finish_reason else None,
        **calls,
        "prompt_tokens": session.usage.prompt_tokens,
        "completion_tokens": session.usage.completion_tokens,
        "tokens": session.usage.total,
        "generation_s": sum(m.meta.latency_ms or 0.0 for m in messages) / 1000,
    }


def _call_stats(session: Session) -> dict[str, int]:
    reads = writes = parallel = invalid = 0
    names: set[str] = set()
    for message in session.messages:
        if message.role is not Role.ASSISTANT or not message.tool_calls:
            continue
        if len(message.tool_calls) > 1:
            parallel += 1
        for call in message.tool_calls:
            names.add(call.name)
            spec = session.tool(call.name)
            if spec is None:
                invalid += 1
                continue
            if spec.writes:
                writes += 1
            else:
                reads += 1
            try:
                arguments: Any = json.loads(call.arguments)
            except json.JSONDecodeError:
                arguments = None
            if validate_arguments(spec, arguments) is not None:
                invalid += 1
    return {
        "read_calls": reads,
        "write_calls": writes,
        "parallel_steps": parallel,
        "distinct_tools": len(names),
        "invalid_arguments": invalid,
    }


def session_cost(session: Session, prices: Mapping[str, Any]) -> float | None:
    """What the session's tokens cost, from per-model prices (per million tokens).

    Args:
        prices: model name -> an object (or dict) with `prompt` and `completion` prices.

    Returns:
        The cost, 0.0 when no tokens were used, None when some tokens came from a
        model with no known price.
    """
    total = 0.0
    spent = [(m.meta.usage, m.meta.model) for m in session.messages]
    judge = session.verdict.judge if session.verdict is not None else None
    if judge is not None:
        spent.append((judge.usage, judge.model))  # the rubric judge's tokens count as the run's
    for usage, model in spent:
        if usage is None or usage.total == 0:
            continue
        price = prices.get(model or "")
        if price is None:
            return None
        prompt = price["prompt"] if isinstance(price, Mapping) else price.prompt
        completion = price["completion"] if isinstance(price, Mapping) else price.completion
        total += (usage.prompt_tokens * prompt + usage.completion_tokens * completion) / 1_000_000
    return total
