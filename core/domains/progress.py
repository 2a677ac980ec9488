"""A task's progress, read from the transcript against the domain's intents.

A subtask is done when a successful tool call served it (the last step of its intent, with
its slots), whoever asked for it, so an operator's typed turn counts too; a change is
confirmed by a later call that serves the intent's `verify`. The offline user simulator
decides its next turn from this view (`players.offline.user`), and the rule checks hold any
user turn to the same view (`rules.check`); neither owns it, so it lives here, beside the
intents it reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Protocol

from turnloom.core.domains.base import Intent
from turnloom.core.models import ChatMessage, Role, SimulatorNotes, Task


class Intents(Protocol):
    """Where intents are looked up by name: a `DomainPack`, or the offline players' `DomainKnowledge`."""

    def intent(self, name: str) -> Intent: ...


@dataclass
class SubtaskState:
    """Where one subtask of the current task stands."""

    requested: int = 0  # user turns that asked for it
    done: bool = False
    gave_up: bool = False
    verify_asked: bool = False
    verified: bool = False
    result: object = None

    @property
    def settled(self) -> bool:
        return self.done or self.gave_up


@dataclass
class TaskProgress:
    """The current task (`task_index`) and the state of each of its subtasks."""

    task_index: int
    states: list[SubtaskState]
    user_turns: int = 0
    last_requested: list[int] = field(default_factory=list)
    # the last user turn asked for something (a subtask, a check, a revision)
    last_asked: bool = False
    # the user already declared this task (and the goal) complete: a session continued
    # with new tasks after it finished must not complete the task a second time
    closed: bool = False


def derive_progress(knowledge: Intents, messages: list[ChatMessage], tasks: list[Task]) -> TaskProgress:
    """The current task's progress, re-derived from the transcript.

    The current task is the one the latest user turn belongs to.
    """
    task_index = 0
    for message in reversed(messages):
        if message.role is Role.USER and message.meta.task_index is not None:
            task_index = message.meta.task_index
            break
    task_index = min(task_index, len(tasks) - 1)
    task = tasks[task_index]
    states = [SubtaskState() for _ in task.subtasks]
    progress = TaskProgress(task_index, states)
    calls: dict[str, tuple[str, dict]] = {}
    # the slots each subtask stands for now: a change of mind ("make it Turin") replaces the value asked for
    slots = [dict(subtask.slots) for subtask in task.subtasks]
    unasked: list[tuple[int, object]] = []  # reads that fit a subtask not asked for yet, with their results
    for message in messages[task.introduced_at :]:
        if message.role is Role.USER:
            unasked = []
            if message.meta.task_index == task_index or message.meta.provenance != "simulator":
                progress.user_turns += 1
            if message.meta.goal_done and message.meta.task_index == task_index:
                progress.closed = True
            progress.last_requested = [i for i in message.meta.subtasks if i < len(states)]
            notes = message.meta.notes or SimulatorNotes()
            progress.last_asked = bool(progress.last_requested or notes.verify or notes.revise)
            for i in progress.last_requested:
                states[i].requested += 1
            for i in notes.gave_up:
                if i < len(states):
                    states[i].gave_up = True
            for i in notes.verify:
                if i < len(states):
                    states[i].verify_asked = True
            for i in notes.revise:
                if i < len(states):  # a revised change is to be confirmed again
                    states[i].verify_asked = states[i].verified = False
                    slots[i].update(notes.revised)
        elif message.role is Role.ASSISTANT:
            if message.content and not message.tool_calls:
                _take_stated_changes(knowledge, task, states, slots, message.content)
                for i, result in unasked:  # a read the user did not ask for counts once its answer is shown
                    if not states[i].done and _shows(message.content, result):
                        states[i].done, states[i].result = True, result
                unasked = []
            for call in message.tool_calls:
                try:
                    calls[call.id] = (call.name, json.loads(call.arguments))
                except json.JSONDecodeError:
                    continue
        elif message.role is Role.TOOL and not message.meta.tool_error:
            name, arguments = calls.get(message.tool_call_id or "", ("", {}))
            unasked += _credit(knowledge, task, states, slots, name, arguments, message.content)
    for i, subtask in enumerate(task.subtasks):
        if _known_intent(knowledge, subtask.intent) is None:
            # a task from an older turnloom (or another pack version): nothing here can serve or judge
            # this subtask; it counts as done once the user closed the task, else as given up
            states[i].done, states[i].gave_up = progress.closed, not progress.closed
    return progress


def _known_intent(knowledge: Intents, name: str) -> Intent | None:
    try:
        return knowledge.intent(name)
    except KeyError:
        return None


def _credit(
    knowledge: Intents,
    task: Task,
    states: list[SubtaskState],
    slots: list[dict],
    tool: str,
    arguments: dict,
    content: str | None,
) -> list[tuple[int, object]]:
    """Count one successful tool call: it completes a subtask it serves, and confirms earlier changes it shows.

    A read that fits only a subtask the user has not asked for yet (the lookup inside a change's
    chain) is returned instead, with its result: it completes that subtask once a reply shows it.

    A call completes at most one subtask: when several fit, one the user asked
    for, then the one whose arguments the call matched most closely (a chain's
    last step taking `$prev.id` fits any id), then the first. The same call may also confirm a change made earlier (reading
    booking 28 after upgrading it): both are credited, so a read the user asked
    for is never swallowed as a mere confirmation.
    """
    known = {i: intent for i, s in enumerate(task.subtasks) if (intent := _known_intent(knowledge, s.intent))}
    fitting = [i for i, intent in known.items() if serves(intent, slots[i], tool, arguments)]
    found = _parsed(content) if not fitting and tool.startswith("search_") else None
    if found is not None:
        # a search that found the one record a subtask asks about by id ("my bill from 2025-06-01": invoice 19)
        # showed every field of it: it serves that subtask as reading it by id would
        fitting = [i for i, intent in known.items() if found_by_search(intent, slots[i], tool, found)]
        if fitting and isinstance(found, list):
            content = json.dumps(found[0])  # what the subtask asked for: the record, not a list of it
    for i in fitting:
        if known[i].verify is not None:
            states[i].verified = False  # a change made (again) now: only what shows it from here on confirms it
    served = [i for i in fitting if not states[i].done]
    pending: list[tuple[int, object]] = []
    if served:
        chosen = min(
            served,
            key=lambda i: (states[i].requested == 0, -checked_arguments(known[i]), i),
        )
        try:
            result = json.loads(content or "null")
        except json.JSONDecodeError:
            result = None
        if states[chosen].requested == 0 and not _writes(known[chosen]):
            pending.append((chosen, result))
        else:
            states[chosen].done, states[chosen].result = True, result
    for i, intent in known.items():
        if i in fitting or not states[i].done or intent.verify is None or states[i].verified:
            continue
        check = knowledge.intent(intent.verify)
        if serves(check, slots[i], tool, arguments) or (
            found is not None and found_by_search(check, slots[i], tool, found)
        ):
            states[i].verified = True
    return pending


def _parsed(content: str | None) -> object:
    try:
        return json.loads(content or "null")
    except json.JSONDecodeError:
        return None


def found_by_search(intent: Intent, slots: dict, tool: str, result: object) -> bool:
    """Whether a search's result is the one record an intent reads by its id as its last step (`search_invoices`
    returning invoice 19 for "read invoice {invoice_id}" with invoice 19): the search showed all of it."""
    step = intent.steps[-1]
    template = step.arguments.get("id", "")
    if set(step.arguments) != {"id"} or not (template.startswith("{") and template.endswith("}")):
        return False
    entity = step.tool.removeprefix("get_").removesuffix("_by_id")
    if not step.tool.endswith("_by_id") or not tool.removeprefix("search_").startswith(entity):
        return False
    expected = slots.get(template[1:-1])
    if expected is None or not isinstance(result, list) or len(result) != 1 or not isinstance(result[0], dict):
        return False
    return str(result[0].get("id")) == str(expected)


def _writes(intent: Intent) -> bool:
    return intent.steps[-1].tool.startswith(("create_", "add_", "update_", "delete_"))


def _shows(text: str, result: object) -> bool:
    """Whether a reply states some value of a read's result (a value longer than one character)."""
    rows = result if isinstance(result, list) else [result]
    lowered = text.lower()
    return any(
        len(shown := format_value(v).lower()) > 1 and shown in lowered
        for row in rows
        if isinstance(row, dict)
        for v in row.values()
        if v is not None and not isinstance(v, (dict, list))
    )


def _take_stated_changes(
    knowledge: Intents, task: Task, states: list[SubtaskState], slots: list[dict], text: str
) -> None:
    """A change the assistant's answer states in full (every new value) needs no confirmation: the user is sure."""
    lowered = text.lower()
    for i, subtask in enumerate(task.subtasks):
        state = states[i]
        if not state.done or state.verified:
            continue
        intent = knowledge.intent(subtask.intent)
        if intent.verify is None:
            continue
        values = _new_values(intent, slots[i])
        if values and all(any(form in lowered for form in _written_forms(v)) for v in values):
            state.verified = True


def _new_values(intent: Intent, slots: dict) -> list[object]:
    """What a write sets: its last step's arguments after the first (which names the record)."""
    values: list[object] = []
    for template in list(intent.steps[-1].arguments.values())[1:]:
        if template.startswith("{") and template.endswith("}"):
            if template[1:-1] in slots:
                values.append(slots[template[1:-1]])
        elif not template.startswith("$"):
            values.append(template)
    return values


def format_value(value: object) -> str:
    """A slot value as it is written in a message (numbers exactly as JSON writes them)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return str(value)


def _written_forms(value: object) -> set[str]:
    """How a value may be written in an answer (9.99, 1,500,000, business class)."""
    forms = {format_value(value).lower()}
    if isinstance(value, float):
        forms |= {f"{value:,.2f}", f"{value:,.0f}" if value.is_integer() else f"{value:g}", f"{value:g}"}
    elif isinstance(value, str):
        forms |= {value.lower().replace("_", " "), value.lower().replace("_", "-")}  # "checked in", "no-show"
    return forms


def checked_arguments(intent: Intent) -> int:
    """How many arguments of an intent's last step come from its slots (and so can be checked)."""
    return sum(1 for t in intent.steps[-1].arguments.values() if t.startswith("{") and t.endswith("}"))


def serves(intent: Intent, slots: dict, tool: str, arguments: dict) -> bool:
    """Whether a call to `tool` with `arguments` is the last step of `intent` for these slots."""
    step = intent.steps[-1]
    if step.tool != tool:
        return False
    for name, template in step.arguments.items():
        if template.startswith("{") and template.endswith("}"):
            expected = slots.get(template[1:-1])
            if expected is None:
                continue
            if str(arguments.get(name, "")).lower() != str(expected).lower():
                return False
    return True
