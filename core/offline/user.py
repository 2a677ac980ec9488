"""The offline user simulator: reveals a hidden task a piece at a time, under the rules in force.

Its view of progress is re-derived on every call from the transcript since the
current task began (as the method's simulator does): a subtask is done when a
tool call serving it succeeded, whoever asked for it, so an operator's typed
turn counts too. What it does with that view follows the rules' offline
semantics: how many subtasks per turn, feedback on each answer, confirming
writes, ending only when everything is done.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from ..domains.base import Intent
from ..models import ChatMessage, MessageMeta, Mode, Role, Rule, Task
from ..roles import RoleContext
from ..rules import rule_of_kind
from .knowledge import DomainKnowledge
from .language import format_value, render_request

GREETINGS = ("Hi!", "Hello,", "Hi there.", "Hey,", "Good morning.")
OPENERS = (
    "I need some help with a few things.",
    "could you help me with something?",
    "I was hoping you could help me out.",
    "I have a couple of things to sort out.",
)
FEEDBACK = (
    "Thanks, that helps.",
    "Great, thank you.",
    "Perfect.",
    "Got it, thanks.",
    "Okay, good to know.",
    "That's useful, thanks.",
)
CONNECTORS = ("Next,", "Also,", "One more thing:", "Now,", "And")
RETRY = (
    "Hmm, I don't think that covered it.",
    "That's not quite what I asked.",
    "I still need that, actually.",
)
CONFIRM = (
    "Just to be sure it went through:",
    "Can you double-check that?",
    "Before we move on, could you confirm the change?",
)
TRANSITIONS = (
    "That's all for that, thanks!",
    "Great, that part is sorted.",
    "Thanks, that takes care of it.",
)
CLOSINGS = (
    "That solves it, thanks!",
    "Great, that's everything I needed. Thanks!",
    "Perfect, that's all. Thank you!",
)
MAX_ATTEMPTS = 2


@dataclass
class SubtaskState:
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
    task_index: int
    states: list[SubtaskState]
    user_turns: int = 0
    last_requested: list[int] = field(default_factory=list)


class OfflineUserSimulator:
    def __init__(self, knowledge: DomainKnowledge) -> None:
        self.knowledge = knowledge

    async def propose(self, ctx: RoleContext) -> ChatMessage:
        session = ctx.session
        tasks = ctx.task_list()
        rng = ctx.rng("user")
        rules = session.config.rules if session.config.mode is Mode.USER_ORIENTED else []
        if not tasks:
            return self._message("Hi! Actually, I think I'm all set. Thanks!", None, is_complete=True)
        progress = self.progress(ctx, tasks)
        task = tasks[progress.task_index]
        parts: list[str] = []
        meta_extra: dict[str, list[int]] = {}
        if progress.user_turns == 0:
            if not session.messages:
                parts.append(f"{rng.choice(GREETINGS)} {rng.choice(OPENERS)}")
            requested = self._reveal(progress, task, rules, rng)
            parts.append(self._requests(task, requested, rng))
            return self._message(" ".join(parts), progress.task_index, subtasks=requested)

        last = session.messages[-1] if session.messages else None
        asked_back = last is not None and last.role is Role.ASSISTANT and last.text.rstrip().endswith("?")
        pending = [i for i in progress.last_requested if not progress.states[i].settled]
        if pending:
            retry = [i for i in pending if progress.states[i].requested < MAX_ATTEMPTS]
            dropped = [i for i in pending if i not in retry]
            if dropped:
                for i in dropped:
                    progress.states[i].gave_up = True
                meta_extra["gave_up"] = dropped
                parts.append("Okay, never mind that one.")
            if retry:
                lead = "Sure:" if asked_back else rng.choice(RETRY)
                parts.append(f"{lead} {self._requests(task, retry, rng)}")
                return self._message(" ".join(parts), progress.task_index, subtasks=retry, extra=meta_extra)
        elif progress.last_requested and rule_of_kind(rules, "turn_feedback"):
            parts.append(self._feedback(progress, rng))

        verify = self._needs_verification(progress, task, ctx, rules)
        if verify is not None:
            intent = self.knowledge.intent(self.knowledge.intent(task.subtasks[verify].intent).verify or "")
            slots = {k: task.subtasks[verify].slots[k] for k in intent.slots}
            parts.append(f"{rng.choice(CONFIRM)} {render_request(intent, slots, rng)}")
            meta_extra["verify"] = [verify]
            return self._message(" ".join(parts), progress.task_index, extra=meta_extra)

        requested = self._reveal(progress, task, rules, rng)
        if requested:
            request = self._requests(task, requested, rng)
            if parts:
                request = f"{rng.choice(CONNECTORS)} {_lower_first(request)}"
            parts.append(request)
            return self._message(" ".join(parts), progress.task_index, subtasks=requested, extra=meta_extra)

        # every subtask of this task is settled
        following = await ctx.next_task() if ctx.next_task is not None else None
        if following is not None:
            opening = self._opening(following, len(tasks), rules, rng)
            request = _lower_first(self._requests(following, opening, rng))
            text = f"{rng.choice(TRANSITIONS)} {rng.choice(CONNECTORS)} {request}"
            return self._message(text, progress.task_index + 1, subtasks=opening, completes=True, extra=meta_extra)
        return self._message(rng.choice(CLOSINGS), progress.task_index, completes=True, is_complete=True, extra=meta_extra)

    # ------------------------------------------------------------ progress

    def progress(self, ctx: RoleContext, tasks: list[Task]) -> TaskProgress:
        """Re-derive the current task's progress from the transcript."""
        messages = ctx.session.messages
        task_index = 0
        for message in reversed(messages):
            if message.role is Role.USER and message.meta.task_index is not None:
                task_index = message.meta.task_index
                break
        task_index = min(task_index, len(tasks) - 1)
        task = tasks[task_index]
        states = [SubtaskState() for _ in task.subtasks]
        progress = TaskProgress(task_index, states)
        start = task.introduced_at
        calls: dict[str, tuple[str, dict]] = {}
        for message in messages[start:]:
            if message.role is Role.USER:
                if message.meta.task_index == task_index or message.meta.provenance != "simulator":
                    progress.user_turns += 1
                progress.last_requested = [i for i in message.meta.subtasks if i < len(states)]
                for i in progress.last_requested:
                    states[i].requested += 1
                for i in message.meta.extra.get("gave_up", []):
                    if i < len(states):
                        states[i].gave_up = True
                for i in message.meta.extra.get("verify", []):
                    if i < len(states):
                        states[i].verify_asked = True
            elif message.role is Role.ASSISTANT:
                for call in message.tool_calls:
                    try:
                        calls[call.id] = (call.name, json.loads(call.arguments))
                    except json.JSONDecodeError:
                        continue
            elif message.role is Role.TOOL and not message.meta.tool_error:
                name, arguments = calls.get(message.tool_call_id or "", ("", {}))
                self._credit(task, states, name, arguments, message.content)
        return progress

    def _credit(self, task: Task, states: list[SubtaskState], tool: str, arguments: dict, content) -> None:
        for i, subtask in enumerate(task.subtasks):
            intent = self.knowledge.intent(subtask.intent)
            if _serves(intent, subtask.slots, tool, arguments):
                if states[i].done and intent.verify is None:
                    continue
                if not states[i].done:
                    states[i].done = True
                    try:
                        states[i].result = json.loads(content or "null")
                    except json.JSONDecodeError:
                        states[i].result = None
                    return
            if states[i].done and intent.verify and not states[i].verified:
                check = self.knowledge.intent(intent.verify)
                if _serves(check, subtask.slots, tool, arguments):
                    states[i].verified = True
                    return

    # ------------------------------------------------------------ decisions

    def _reveal(self, progress: TaskProgress, task: Task, rules: list[Rule], rng: random.Random) -> list[int]:
        unrequested = [i for i, s in enumerate(progress.states) if s.requested == 0 and not s.settled]
        if not unrequested:
            return []
        incremental = rule_of_kind(rules, "incremental_requests")
        if incremental is None:
            return unrequested  # task-oriented, or no rule: the whole task at once
        limit = max(1, int(incremental.params.get("max_subtasks", 2)))
        count = 1
        if limit >= 2 and len(unrequested) >= 2 and rng.random() < 0.3:
            first, second = (self.knowledge.intent(task.subtasks[i].intent) for i in unrequested[:2])
            if first.verify is None and second.verify is None:  # combine only two reads
                count = 2
        return unrequested[: min(count, limit)]

    def _opening(self, task: Task, index: int, rules: list[Rule], rng: random.Random) -> list[int]:
        fresh = TaskProgress(index, [SubtaskState() for _ in task.subtasks])
        return self._reveal(fresh, task, rules, rng)

    def _needs_verification(self, progress, task: Task, ctx: RoleContext, rules: list[Rule]) -> int | None:
        if rule_of_kind(rules, "confirm_before_ending") is None:
            return None
        for i, state in enumerate(progress.states):
            intent = self.knowledge.intent(task.subtasks[i].intent)
            if state.done and intent.verify and not state.verified and not state.verify_asked:
                return i
        return None

    # ------------------------------------------------------------ wording

    def _requests(self, task: Task, indexes: list[int], rng: random.Random) -> str:
        sentences = []
        for n, i in enumerate(indexes):
            subtask = task.subtasks[i]
            text = render_request(self.knowledge.intent(subtask.intent), subtask.slots, rng)
            if n:
                text = f"Also, {_lower_first(text)}"
            sentences.append(text)
        return " ".join(sentences)

    def _feedback(self, progress: TaskProgress, rng: random.Random) -> str:
        line = rng.choice(FEEDBACK)
        for i in progress.last_requested:
            result = progress.states[i].result
            if isinstance(result, dict) and isinstance(result.get("status"), str) and rng.random() < 0.5:
                return f"{line} So it's {format_value(result['status'])}."
        return line

    @staticmethod
    def _message(
        text: str,
        task_index: int | None,
        subtasks: list[int] | None = None,
        completes: bool = False,
        is_complete: bool = False,
        extra: dict | None = None,
    ) -> ChatMessage:
        return ChatMessage(
            role=Role.USER,
            content=text,
            meta=MessageMeta(
                producer="user",
                backend="offline",
                task_index=task_index,
                subtasks=subtasks or [],
                completes_task=completes,
                is_task_complete=is_complete,
                extra=extra or {},
            ),
        )


def _lower_first(text: str) -> str:
    """Lower-case a sentence's first letter after a connector ("Also, could you...")."""
    first = text.split(" ", 1)[0]
    if first in ("I", "I'm", "I've", "I'd") or (len(first) > 1 and first[1:2].isupper()):
        return text
    return text[:1].lower() + text[1:]


def _serves(intent: Intent, slots: dict, tool: str, arguments: dict) -> bool:
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
    if len(intent.steps) > 1:
        return True
    return True
