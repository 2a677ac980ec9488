"""Whose turn it is, and whether the dialogue should stop: pure functions of the transcript."""

from __future__ import annotations

from turnloom.core.models import ChatMessage, FinishReason, Role, Session, ToolCall


def next_role(messages: list[ChatMessage]) -> Role:
    """Whose turn it is, as a pure function of the transcript.

    Empty, or last message assistant text (or system) -> user; user -> assistant;
    assistant with tool calls -> tool until every call has a result; then assistant.
    """
    if not messages:
        return Role.USER
    last = messages[-1]
    if last.role is Role.USER:
        return Role.ASSISTANT
    if last.role is Role.ASSISTANT:
        return Role.TOOL if last.tool_calls else Role.USER
    if last.role is Role.TOOL:
        return Role.TOOL if pending_calls(messages) else Role.ASSISTANT
    return Role.USER


def pending_calls(messages: list[ChatMessage]) -> list[ToolCall]:
    """The tool calls of the latest assistant message that have no result yet."""
    answered: set[str] = set()
    for message in reversed(messages):
        if message.role is Role.TOOL:
            answered.add(message.tool_call_id or "")
        elif message.role is Role.ASSISTANT:
            return [c for c in message.tool_calls if c.id not in answered]
        else:
            return []
    return []


def stop_reason(session: Session, repeats: int = 3) -> FinishReason | None:
    """Why the dialogue should stop after its last message, or None to go on.

    The user reported every task done; the transcript reached its message limit
    (never between a call and its result); the last tool calls failed in a row;
    or the same user text, or the same set of tool calls, came `repeats` times running.
    """
    messages = session.messages
    last = messages[-1]
    if last.role is Role.USER and last.meta.goal_done:
        return FinishReason.USER_DONE
    if len(messages) >= session.config.max_messages and next_role(messages) is not Role.TOOL:
        return FinishReason.MAX_MESSAGES
    if last.role is Role.TOOL and _tool_error_streak(messages) >= session.config.tool_error_streak:
        return FinishReason.TOOL_ERROR_STREAK
    if _loop_detected(messages, repeats):
        return FinishReason.LOOP_DETECTED
    return None


def _tool_error_streak(messages: list[ChatMessage]) -> int:
    streak = 0
    for message in reversed(messages):
        if message.role is Role.TOOL:
            if not message.meta.tool_error:
                break
            streak += 1
        elif message.role is not Role.ASSISTANT:
            break
    return streak


def _loop_detected(messages: list[ChatMessage], repeats: int) -> bool:
    last = messages[-1]
    if last.role is Role.USER:
        texts = [m.text.strip().lower() for m in reversed(messages[-12:]) if m.role is Role.USER]
        return len(texts) >= repeats and len(set(texts[:repeats])) == 1
    if last.role is Role.ASSISTANT and last.tool_calls:
        signature = _call_signature(last)
        count = 0
        for message in reversed(messages[-8 * repeats :]):
            if message.role is Role.USER:
                break
            if message.role is Role.ASSISTANT and message.tool_calls:
                if _call_signature(message) != signature:
                    break
                count += 1
        return count >= repeats
    return False


def _call_signature(message: ChatMessage) -> tuple:
    return tuple(sorted((c.name, c.arguments) for c in message.tool_calls))
