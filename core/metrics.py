"""Per-dialogue statistics in the paper's Table 1 terms, and a few more.

Turn = every message (user, assistant, tool call, tool output); Step = the
tool-calling assistant messages needed by one user request (reported per
request and per dialogue, since the paper is ambiguous); Task = tasks completed.
Dataset-level tables (`turnloom stats`) aggregate these.
"""

from __future__ import annotations

from .models import Role, Session


def dialogue_stats(session: Session) -> dict:
    """Counts for one dialogue.

    Returns:
        turns, user_turns, steps (tool-calling assistant messages), steps_per_request
        (mean over user turns that led to tool use), tool_calls, tool_errors, writes,
        tasks, tasks_done, subtasks_per_user_turn, violations, finish_reason.
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
    tasks_done = sum(1 for m in messages if m.role is Role.USER and m.meta.completes_task)
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
    }
