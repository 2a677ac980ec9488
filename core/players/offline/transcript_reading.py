"""What the offline user reads off the transcript: the last result, the rows listed, what was changed.

Small readings the user simulator (`user`) makes of the conversation so far: the latest list a
tool returned and its dated rows, whether the last answer found nothing, whether the latest turn
was a follow-up question, what a write set as a person names it, what a request is about, how a
request named its record and whether its call was already made.
"""

from __future__ import annotations

import json
import re

from turnloom.core.domains.base import Intent
from turnloom.core.domains.progress import format_value
from turnloom.core.models import ChatMessage, Role, Task
from turnloom.core.players.offline.calls_made import CallKey, call_key
from turnloom.core.players.offline.references import said_in, shown


def dated_list(messages: list[ChatMessage]) -> list[dict]:
    """The rows of the first dated list a tool returned since the last user turn."""
    since = next((k for k in range(len(messages) - 1, -1, -1) if messages[k].role is Role.USER), -1)
    for message in messages[since + 1 :]:
        if message.role is not Role.TOOL:
            continue
        try:
            result = json.loads(message.content or "null")
        except json.JSONDecodeError:
            continue
        if isinstance(result, list) and result and all(isinstance(r, dict) and date_of(r) for r in result):
            return result
    return []


def date_of(row: dict) -> str | None:
    """The first date a record holds (an order's date, a booking's, a visit's)."""
    return next((v for v in row.values() if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)), None)


def changed_value(intent: Intent, slots: dict, created: bool) -> str | None:
    """What a write set, as the user would name it: the new city or date, the new account's name."""
    if created:
        name = next((v for k, v in slots.items() if k == "name" or k.endswith("_name")), None)
        return str(name) if name is not None else None
    arguments = list(intent.steps[-1].arguments.values())[1:]
    for template in arguments:
        if template.startswith("{") and template.endswith("}") and template[1:-1] in slots:
            if template[1:-1].endswith("_id"):
                return None  # a row id is no value a person checks for ("make sure 5 went through")
            return format_value(slots[template[1:-1]])
        if not template.startswith(("{", "$")):
            return template.replace("_", " ")
    return None


def found_nothing(messages: list[ChatMessage]) -> bool:
    """Whether a tool called since the last user turn came back empty (nothing to thank for)."""
    for message in reversed(messages):
        if message.role is Role.USER:
            return False
        if message.role is Role.TOOL and not message.meta.tool_error:
            try:
                result = json.loads(message.content or "null")
            except json.JSONDecodeError:
                continue
            if result is None or result == [] or result == {}:
                return True
    return False


def first_call(intent: Intent, slot: str, row: dict) -> CallKey:
    """The first call a follow-up about `row` makes."""
    first = intent.steps[0]
    return call_key(first.tool, {k: row["id"] if v == "{" + slot + "}" else v for k, v in first.arguments.items()})


def is_follow_up(message: ChatMessage) -> bool:
    """A user turn that asked about something the last answer raised: no subtask, no simulator note, not a goodbye."""
    notes = message.meta.notes
    noted = notes is not None and (notes.verify or notes.revise or notes.gave_up)
    return (
        not message.meta.subtasks and not noted and not message.meta.goal_done and message.meta.task_index is not None
    )


def followed_up(messages: list[ChatMessage]) -> bool:
    """Whether the latest user turn was a follow-up question (answered since)."""
    last_user = next((m for m in reversed(messages) if m.role is Role.USER), None)
    return last_user is not None and is_follow_up(last_user) and messages[-1].role is Role.ASSISTANT


def last_result(messages: list[ChatMessage]) -> object:
    for message in reversed(messages):
        if message.role is Role.TOOL:
            try:
                return json.loads(message.content or "null")
            except json.JSONDecodeError:
                return None
        if message.role is Role.USER:
            break
    return None


def listed_rows(messages: list[ChatMessage]) -> list[dict]:
    """The rows of the latest list a tool returned before the last message."""
    for message in reversed(messages[-6:]):
        if message.role is Role.TOOL:
            try:
                result = json.loads(message.content or "null")
            except json.JSONDecodeError:
                return []
            return [r for r in result if isinstance(r, dict) and "id" in r] if isinstance(result, list) else []
    return []


def topic(task: Task, indexes: list[int]) -> str | None:
    """What the first request is about, as a noun for the opening ("a booking"): its first id slot's entity."""
    for i in indexes[:1]:
        for slot in task.subtasks[i].slots:
            if slot.endswith("_id"):
                return slot[:-3].replace("_", " ")
    return None


def asked_by_id(subtask: int, slots: dict, messages: list[ChatMessage]) -> bool:
    """Whether the user turn that asked for the subtask named its record by id ("player 16"), as
    against by its name or date; without that turn, whether the conversation showed the id."""
    ids = [(s.removesuffix("_id"), slots[s]) for s in slots if s.endswith("_id")]
    asked = next((m.text for m in reversed(messages) if m.role is Role.USER and subtask in m.meta.subtasks), None)
    if asked is None:
        return any(shown(entity, record, messages) for entity, record in ids)
    return any(said_in(entity, record, [asked]) for entity, record in ids)


def asked_before(intent: Intent, slot: str, record: object, made: dict[CallKey, object]) -> bool:
    """Whether the dialogue already made the call that answers `intent` about `record` (`made`: its calls,
    `calls_made.CallsMade`)."""
    last = intent.steps[-1]
    arguments = {k: record if v == "{" + slot + "}" else v for k, v in last.arguments.items()}
    return call_key(last.tool, arguments) in made
