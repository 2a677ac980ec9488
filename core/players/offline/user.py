"""The offline user simulator: reveals a hidden task a piece at a time, under the rules in force.

Its view of progress is re-derived on every call from the transcript since the
current task began (as the method's simulator does): a subtask is done when a
tool call serving it succeeded, whoever asked for it, so an operator's typed
turn counts too. What it does with that view follows the rules' offline
semantics, keyed by rule kind:

    incremental_requests  at most `max_subtasks` new subtasks per turn
    turn_feedback         react to each answer before moving on
    confirm_before_ending ask to confirm a write's effect before going on
    end_when_all_done     end only when every subtask is settled (always true offline)
    natural_style, stay_in_role, clean_output, no_restart
                          hold by construction: no meta words, no assistant text,
                          no reasoning or JSON, a greeting only in the first message
    terse / casual        the register of the small talk (`voice`)
    withhold_details      describe a request first; give an email only when asked
    change_mind           revise a just-made change once, with another value
    digression            one short off-topic remark beside a request

`derive_progress` is shared with `rulecheck`, which checks turns against the
same view.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from turnloom.core.domains.base import Intent
from turnloom.core.models import ChatMessage, MessageMeta, Mode, Role, Rule, Task
from turnloom.core.players.offline.identity import UserIdentity, draw_identity
from turnloom.core.players.offline.knowledge import DomainKnowledge
from turnloom.core.players.offline.language import REFERENCE_WORDS, format_value, referable, with_reference
from turnloom.core.players.offline.voice import Persona, Voice, echo_of, not_a_goodbye, personal_slots
from turnloom.core.players.roles import RoleContext
from turnloom.core.rules.rule_files import param, rule_of_kind

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
    # the last user turn asked for something (a subtask, a check, a revision)
    last_asked: bool = False
    # the user already declared this task (and the goal) complete: a session continued
    # with new tasks after it finished must not complete the task a second time
    closed: bool = False


def derive_progress(knowledge: DomainKnowledge, messages: list[ChatMessage], tasks: list[Task]) -> TaskProgress:
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
    for message in messages[task.introduced_at :]:
        if message.role is Role.USER:
            if message.meta.task_index == task_index or message.meta.provenance != "simulator":
                progress.user_turns += 1
            if message.meta.is_task_complete and message.meta.task_index == task_index:
                progress.closed = True
            progress.last_requested = [i for i in message.meta.subtasks if i < len(states)]
            extra = message.meta.extra
            progress.last_asked = bool(progress.last_requested or extra.get("verify") or extra.get("revise"))
            for i in progress.last_requested:
                states[i].requested += 1
            for i in extra.get("gave_up", []):
                if i < len(states):
                    states[i].gave_up = True
            for i in extra.get("verify", []):
                if i < len(states):
                    states[i].verify_asked = True
            for i in extra.get("revise", []):
                if i < len(states):  # a revised change is to be confirmed again
                    states[i].verify_asked = states[i].verified = False
                    slots[i].update(extra.get("revised", {}))
        elif message.role is Role.ASSISTANT:
            if message.content and not message.tool_calls:
                _take_stated_changes(knowledge, task, states, slots, message.content)
            for call in message.tool_calls:
                try:
                    calls[call.id] = (call.name, json.loads(call.arguments))
                except json.JSONDecodeError:
                    continue
        elif message.role is Role.TOOL and not message.meta.tool_error:
            name, arguments = calls.get(message.tool_call_id or "", ("", {}))
            _credit(knowledge, task, states, slots, name, arguments, message.content)
    return progress


def _credit(
    knowledge: DomainKnowledge,
    task: Task,
    states: list[SubtaskState],
    slots: list[dict],
    tool: str,
    arguments: dict,
    content,
) -> None:
    """Count one successful tool call: it completes a subtask it serves, and confirms earlier changes it shows.

    A call completes at most one subtask: when several fit, one the user asked
    for, then the one whose arguments the call matched most closely (a chain's
    last step taking `$prev.id` fits any id), then the first. The same call may also confirm a change made earlier (reading
    booking 28 after upgrading it): both are credited, so a read the user asked
    for is never swallowed as a mere confirmation.
    """
    fitting = [
        i
        for i, subtask in enumerate(task.subtasks)
        if _serves(knowledge.intent(subtask.intent), slots[i], tool, arguments)
    ]
    for i in fitting:
        if knowledge.intent(task.subtasks[i].intent).verify is not None:
            states[i].verified = False  # a change made (again) now: only what shows it from here on confirms it
    served = [i for i in fitting if not states[i].done]
    if served:
        chosen = min(
            served,
            key=lambda i: (states[i].requested == 0, -_checked_arguments(knowledge.intent(task.subtasks[i].intent)), i),
        )
        states[chosen].done = True
        try:
            states[chosen].result = json.loads(content or "null")
        except json.JSONDecodeError:
            states[chosen].result = None
    for i, subtask in enumerate(task.subtasks):
        intent = knowledge.intent(subtask.intent)
        if i in fitting or not states[i].done or intent.verify is None or states[i].verified:
            continue
        if _serves(knowledge.intent(intent.verify), slots[i], tool, arguments):
            states[i].verified = True


class OfflineUserSimulator:
    def __init__(self, knowledge: DomainKnowledge) -> None:
        self.knowledge = knowledge
        self._person: UserIdentity | None = None

    async def propose(self, ctx: RoleContext) -> ChatMessage:
        session = ctx.session
        tasks = ctx.task_list()
        rng = ctx.rng("user")
        rules = session.config.rules if session.config.mode is Mode.USER_ORIENTED else []
        voice = Voice(rules, rng, self._persona(ctx), self.knowledge.parser.phrasings)
        if not tasks:
            return self._message("Hi! Actually, I think I'm all set. Thanks!", None, is_complete=True)
        progress = self.progress(ctx, tasks)
        task = tasks[progress.task_index]
        parts: list[str] = []
        meta_extra: dict = {}
        if progress.user_turns == 0:
            requested = self._reveal(progress, task, rules, rng)
            if not session.messages and (opening := voice.opening(_topic(task, requested))):
                parts.append(opening)
            parts.append(self._requests(task, requested, progress, rules, voice, session.messages))
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
                parts.append(voice.gave_up())
            if retry:
                lead = voice.rng.choice(("Sure:", "Of course.", "Sure.")) if asked_back else voice.retry()
                parts.append(f"{lead} {self._requests(task, retry, progress, [], voice, [])}")
                return self._message(" ".join(parts), progress.task_index, subtasks=retry, extra=meta_extra)
        elif progress.last_asked and rule_of_kind(rules, "turn_feedback"):
            parts.append(self._feedback(progress, voice, last))

        revision = self._revision(progress, task, ctx, rules, rng)
        if revision is not None:
            i, slots = revision
            text = voice.request(self.knowledge.intent(task.subtasks[i].intent), slots, later=True)
            parts.append(f"{voice.revise()} {_lower_first(text)}")
            meta_extra.update(
                revise=[i], revised={k: v for k, v in slots.items() if v != task.subtasks[i].slots.get(k)}
            )
            return self._message(" ".join(parts), progress.task_index, extra=meta_extra)

        verify = self._needs_verification(progress, task, rules)
        if verify is not None:
            intent = self.knowledge.intent(self.knowledge.intent(task.subtasks[verify].intent).verify or "")
            slots = {k: task.subtasks[verify].slots[k] for k in intent.slots}
            parts.append(f"{voice.confirm()} {voice.request(intent, slots, later=True)}")
            meta_extra["verify"] = [verify]
            return self._message(" ".join(parts), progress.task_index, extra=meta_extra)

        requested = self._reveal(progress, task, rules, rng)
        if requested:
            request = self._requests(task, requested, progress, rules, voice, session.messages)
            if parts:
                request = voice.then(request)
            parts.append(request)
            if self._digress(ctx, rules, rng):
                parts.append(voice.digression())
                meta_extra["digression"] = True
            return self._message(" ".join(parts), progress.task_index, subtasks=requested, extra=meta_extra)

        # every subtask of this task is settled
        following = await ctx.next_task() if ctx.next_task is not None else None
        if following is not None:
            fresh = TaskProgress(len(tasks), [SubtaskState() for _ in following.subtasks])
            first = self._reveal(fresh, following, rules, rng)
            request = self._requests(following, first, fresh, rules, voice, [])
            reaction = self._feedback(progress, voice, last) if voice.rng.random() < 0.5 else voice.task_done()
            return self._message(
                f"{reaction} {voice.then(request)}",
                progress.task_index + 1,
                subtasks=first,
                completes=not progress.closed,
                extra=meta_extra,
            )
        return self._message(voice.closing(), progress.task_index, completes=True, is_complete=True, extra=meta_extra)

    def progress(self, ctx: RoleContext, tasks: list[Task]) -> TaskProgress:
        """Re-derive the current task's progress from the transcript."""
        return derive_progress(self.knowledge, ctx.session.messages, tasks)

    # ------------------------------------------------------------ decisions

    def _reveal(self, progress: TaskProgress, task: Task, rules: list[Rule], rng: random.Random) -> list[int]:
        unrequested = [i for i, s in enumerate(progress.states) if s.requested == 0 and not s.settled]
        if not unrequested:
            return []
        incremental = rule_of_kind(rules, "incremental_requests")
        if incremental is None:
            return unrequested  # task-oriented, or no rule: the whole task at once
        limit = max(1, int(param(incremental, "max_subtasks")))
        count = 1
        if limit >= 2 and len(unrequested) >= 2 and rng.random() < 0.3:
            first, second = (self.knowledge.intent(task.subtasks[i].intent) for i in unrequested[:2])
            if first.verify is None and second.verify is None and self._may_combine(rules, first, second):
                count = 2  # combine only two reads, and only when that reads naturally
        return unrequested[: min(count, limit)]

    @staticmethod
    def _may_combine(rules: list[Rule], first: Intent, second: Intent) -> bool:
        if rule_of_kind(rules, "terse"):
            return False  # one thing at a time
        if rule_of_kind(rules, "withhold_details") and (personal_slots(first) or personal_slots(second)):
            return False
        return True

    def _needs_verification(self, progress: TaskProgress, task: Task, rules: list[Rule]) -> int | None:
        if rule_of_kind(rules, "confirm_before_ending") is None:
            return None
        for i, state in enumerate(progress.states):
            intent = self.knowledge.intent(task.subtasks[i].intent)
            if state.done and intent.verify and not state.verified and not state.verify_asked:
                return i
        return None

    def _revision(self, progress: TaskProgress, task: Task, ctx: RoleContext, rules: list[Rule], rng: random.Random):
        """(subtask, new slots) when the user changes their mind about a change just made."""
        rule = rule_of_kind(rules, "change_mind")
        if rule is None or not progress.last_requested:
            return None
        made = sum(1 for m in ctx.session.messages if m.role is Role.USER and m.meta.extra.get("revise"))
        if made >= int(param(rule, "max_revisions")):
            return None
        template = next((t for t in self.knowledge.pack.templates if t.name == task.template), None)
        for i in progress.last_requested:
            subtask = task.subtasks[i]
            intent = self.knowledge.intent(subtask.intent)
            if not progress.states[i].done or not intent.steps[-1].tool.startswith("update_"):
                continue
            for slot, value in subtask.slots.items():
                pool = [v for v in (template.values.get(slot, ()) if template else ()) if v != value]
                if slot.startswith("new_") and pool:
                    if rng.random() < float(param(rule, "chance")):
                        return i, {**subtask.slots, slot: rng.choice(pool)}
                    return None
        return None

    @staticmethod
    def _digress(ctx: RoleContext, rules: list[Rule], rng: random.Random) -> bool:
        rule = rule_of_kind(rules, "digression")
        if rule is None:
            return False
        made = sum(1 for m in ctx.session.messages if m.role is Role.USER and m.meta.extra.get("digression"))
        return made < int(param(rule, "max_digressions")) and rng.random() < float(param(rule, "chance"))

    # ------------------------------------------------------------ wording

    def _requests(
        self,
        task: Task,
        indexes: list[int],
        progress: TaskProgress,
        rules: list[Rule],
        voice: Voice,
        messages: list[ChatMessage],
    ) -> str:
        withhold = rule_of_kind(rules, "withhold_details") is not None
        spoken = self._spoken_before(messages)
        sentences = []
        for n, i in enumerate(indexes):
            subtask = task.subtasks[i]
            intent = self.knowledge.intent(subtask.intent)
            if withhold and personal_slots(intent) and progress.states[i].requested == 0:
                sentences.append(voice.withheld(intent, subtask.slots))
                continue
            phrasing = self._reference(intent, subtask.slots, spoken, voice) if n == 0 else None
            sentences.append(voice.request(intent, subtask.slots, phrasing, later=bool(messages)))
        return voice.joined(sentences)

    def _spoken_before(self, messages: list[ChatMessage]) -> dict[str, object]:
        """Slot values the latest user turn stated, as the assistant will read them back."""
        last = next((m for m in reversed(messages) if m.role is Role.USER), None)
        if last is None:
            return {}
        values: dict[str, object] = {}
        for request in self.knowledge.parser.parse(last.text):
            values.update(request.slots)
        return values

    @staticmethod
    def _reference(intent: Intent, slots: dict, spoken: dict[str, object], voice: Voice) -> str | None:
        """A phrasing that names an id the last turn stated as "that order", half the time it can."""
        options = [
            (phrasing, slot)
            for phrasing in intent.phrasings
            for _, slot in referable(phrasing, intent.slots)
            if slot in spoken and str(spoken[slot]) == str(slots.get(slot))
        ]
        if not options or voice.rng.random() < 0.5:
            return None
        phrasing, slot = voice.rng.choice(options)
        return with_reference(phrasing, slot, voice.rng.choice(REFERENCE_WORDS))

    @staticmethod
    def _feedback(progress: TaskProgress, voice: Voice, last: ChatMessage | None) -> str:
        answer = last.text if last is not None and last.role is Role.ASSISTANT else ""
        for i in progress.last_requested:
            echo = echo_of(progress.states[i].result, answer)
            if echo is not None:
                return voice.acknowledgement(echo)
        return voice.acknowledgement(None)

    def _persona(self, ctx: RoleContext) -> Persona:
        if self._person is None:
            self._person = draw_identity(ctx.environment, ctx.session.config.seed)
        return Persona.drawn(ctx.session.config.seed, self._person.name, self._person.email)

    @staticmethod
    def _message(
        text: str,
        task_index: int | None,
        subtasks: list[int] | None = None,
        completes: bool = False,
        is_complete: bool = False,
        extra: dict | None = None,
    ) -> ChatMessage:
        if not is_complete and (subtasks or extra):
            text = not_a_goodbye(text)
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


def _topic(task: Task, indexes: list[int]) -> str | None:
    """What the first request is about, as a noun for the opening ("a booking"): its first id slot's entity."""
    for i in indexes[:1]:
        for slot in task.subtasks[i].slots:
            if slot.endswith("_id"):
                return slot[:-3].replace("_", " ")
    return None


def _lower_first(text: str) -> str:
    """Lower-case a sentence's first letter after a connector ("Also, could you...")."""
    first = text.split(" ", 1)[0]
    if first in ("I", "I'm", "I've", "I'd") or (len(first) > 1 and first[1:2].isupper()):
        return text
    return text[:1].lower() + text[1:]


def _take_stated_changes(
    knowledge: DomainKnowledge, task: Task, states: list[SubtaskState], slots: list[dict], text: str
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


def _written_forms(value: object) -> set[str]:
    """How a value may be written in an answer (9.99, 1,500,000, business class)."""
    forms = {format_value(value).lower()}
    if isinstance(value, float):
        forms |= {f"{value:,.2f}", f"{value:,.0f}" if value.is_integer() else f"{value:g}", f"{value:g}"}
    elif isinstance(value, str):
        forms.add(value.lower().replace("_", " "))
    return forms


def _checked_arguments(intent: Intent) -> int:
    """How many arguments of an intent's last step come from its slots (and so can be checked)."""
    return sum(1 for t in intent.steps[-1].arguments.values() if t.startswith("{") and t.endswith("}"))


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
    return True
