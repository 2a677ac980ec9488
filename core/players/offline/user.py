"""The offline user simulator: reveals a hidden task a piece at a time, under the rules in force.

Its view of progress is re-derived on every call from the transcript since the
current task began (as the method's simulator does; `domains.progress`): a subtask
is done when a tool call serving it succeeded, whoever asked for it, so an
operator's typed turn counts too. What it does with that view follows the rules'
offline semantics, keyed by rule kind:

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

The rule checks (`rules.check`) read the same view of progress.
"""

from __future__ import annotations

import random
import re

from turnloom.core.domains.base import Intent
from turnloom.core.domains.progress import SubtaskState, TaskProgress, derive_progress
from turnloom.core.models import ChatMessage, MessageMeta, Mode, Role, Rule, SimulatorNotes, Task
from turnloom.core.players.offline.calls_made import CallsMade
from turnloom.core.players.offline.identity import UserIdentity, draw_identity, shows_others
from turnloom.core.players.offline.knowledge import DomainKnowledge
from turnloom.core.players.offline.language import (
    REFERENCE_WORDS,
    referable,
    with_reference,
)
from turnloom.core.players.offline.references import BY_DATE_CHANCE, RecordReferences, said_in, seen_detail, shown
from turnloom.core.players.offline.transcript_reading import (
    asked_before,
    asked_by_id,
    changed_value,
    date_of,
    dated_list,
    first_call,
    followed_up,
    found_nothing,
    is_follow_up,
    last_result,
    listed_rows,
    topic,
)
from turnloom.core.players.offline.voice import (
    Persona,
    Voice,
    echo_of,
    lower_first,
    not_a_goodbye,
    personal_slots,
    said_before,
)
from turnloom.core.players.roles import RoleContext
from turnloom.core.rules.rule_files import param, rule_of_kind
from turnloom.core.tools.environment import ToolEnvironment
from turnloom.core.tools.schema import singular

MAX_ATTEMPTS = 2
# follow-up questions about a listed record: how often one is asked after a list, and at most how many
FOLLOW_UP_CHANCE = 0.35
# without the turn-feedback rule, how often the user still reacts before asking for the next task
UNASKED_REACTION_CHANCE = 0.3
# how often a request by id recalls a detail of the record an earlier answer showed
RECALL_CHANCE = 0.4
MAX_FOLLOW_UPS = 2
# how often (times 1 + the persona's verbosity) a request about one of the user's own records says
# something they know of it (its date, what it came to)
OWN_DETAIL_CHANCE = 0.15
# how often a request leaves out the email the user already gave ("What have I spent so far?")
ELIDE_CHANCE = 0.8
# how often a request about one of the user's own records the conversation has not shown names it by its
# date: always (nobody knows a row id the conversation never showed them)
UNSEEN_BY_DATE_CHANCE = 1.0
# how often a check of a change to one of the user's own records asks to see it among their others
COMPARE_CHANCE = 0.8


class OfflineUserSimulator:
    def __init__(self, knowledge: DomainKnowledge) -> None:
        self.knowledge = knowledge
        self._person: UserIdentity | None = None
        self._environment: ToolEnvironment | None = (
            None  # the dialogue's database, for the names of the records asked about
        )
        self._messages: list[ChatMessage] = []
        self._calls = CallsMade()  # the calls the dialogue made, read as it grows

    async def propose(self, ctx: RoleContext) -> ChatMessage:
        session = ctx.session
        self._environment = ctx.environment
        self._messages = ctx.session.messages
        tasks = ctx.task_list()
        rng = ctx.rng("user")
        rules = session.config.rules if session.config.mode is Mode.USER_ORIENTED else []
        voice = Voice(rules, rng, self._persona(ctx), self.knowledge.parser.phrasings)
        voice.found_nothing = found_nothing(session.messages)
        voice.said = said_before(session.messages)  # small talk is never said twice
        if not tasks:
            return self._message("Hi! Actually, I think I'm all set. Thanks!", None, is_complete=True)
        progress = self.progress(ctx, tasks)
        task = tasks[progress.task_index]
        parts: list[str] = []
        remark = ""  # a correction that needs no new request, said before whatever comes next
        notes = SimulatorNotes()
        if progress.user_turns == 0:
            requested = self._reveal(progress, task, rules, rng)
            if not session.messages and (opening := voice.opening(topic(task, requested))):
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
                notes.gave_up = dropped
                parts.append(voice.gave_up())
            choice = self._choose(task, retry, session.messages, voice) if asked_back else None
            if choice is not None:  # the assistant asked which record a change is for: say which
                i, text = choice
                parts.append(text)
                return self._message(" ".join(parts), progress.task_index, subtasks=[i], notes=notes)
            if retry:
                lead = voice.rng.choice(("Sure:", "Of course.", "Sure.")) if asked_back else voice.retry()
                parts.append(f"{lead} {self._requests(task, retry, progress, [], voice, session.messages)}")
                return self._message(" ".join(parts), progress.task_index, subtasks=retry, notes=notes)
        elif rule_of_kind(rules, "turn_feedback") and (
            correction := self._correction(task, progress, session.messages, voice)
        ):
            corrected, text = correction  # the assistant took the wrong record of a list: say which one was meant
            if corrected is not None:
                return self._message(text, progress.task_index, subtasks=[corrected], notes=notes)
            remark = text  # ... whose answer the dialogue already gave: say so, and go on
            parts.append(remark)
        elif rule_of_kind(rules, "turn_feedback") and progress.last_asked:
            parts.append(self._feedback(progress, voice, last))
        elif rule_of_kind(rules, "turn_feedback") and followed_up(session.messages):
            echo = echo_of(last_result(session.messages), last.text if last else "", rng, self._own())
            parts.append(voice.acknowledgement(echo))

        revision = self._revision(progress, task, ctx, rules, rng)
        if revision is not None:
            i, slots = revision
            text = voice.request(self.knowledge.intent(task.subtasks[i].intent), slots, later=True)
            parts.append(f"{voice.revise()} {lower_first(text)}")
            notes.revise = [i]
            notes.revised = {k: v for k, v in slots.items() if v != task.subtasks[i].slots.get(k)}
            return self._message(" ".join(parts), progress.task_index, notes=notes)

        verify = self._needs_verification(progress, task, rules)
        if verify is not None:
            intent = self.knowledge.intent(self.knowledge.intent(task.subtasks[verify].intent).verify or "")
            slots = {k: task.subtasks[verify].slots[k] for k in intent.slots}
            written = self.knowledge.intent(task.subtasks[verify].intent)
            created = written.steps[-1].tool.startswith(("create_", "add_"))
            value = changed_value(written, task.subtasks[verify].slots, created)
            among = None
            if not rule_of_kind(rules, "withhold_details") and voice.rng.random() < COMPARE_CHANCE:
                among = self._refs().among_theirs(intent, slots)
            if among is not None:  # the changed record among the user's others: "show me all my bookings again"
                request = voice.request(among[0], among[1], later=True, motive=False)
                parts.append(voice.compare(request, among[2]))
                notes.verify = [verify]
                return self._message(" ".join(parts), progress.task_index, notes=notes)
            own = self._refs().by_email(intent, slots) or self._refs().own_lookup(intent, slots)
            if own is not None:  # their own record: "what do you have on file for me now?", never "patient 2"
                intent, slots = own
            elif not asked_by_id(verify, slots, session.messages):
                # the change was asked by name or date: so is the check ("Is Fabio Pires now worth ...?")
                named = (
                    self._refs().by_name(intent, slots, voice, chance=1.0)
                    or self._refs().by_date(intent, slots, voice, chance=1.0)
                    or self._refs().by_email(intent, slots)
                )
                intent, slots = named or (intent, slots)
            short = self._without_email(intent, slots, voice) if self._gave_email(self._messages, slots) else None
            request = voice.request(intent, slots, short, later=True, motive=False)  # "my file", once they said it
            parts.append(voice.confirm(request, value, created))
            notes.verify = [verify]
            return self._message(" ".join(parts), progress.task_index, notes=notes)

        follow_up = self._follow_up(progress, task, ctx, rules, voice) if progress.last_asked else None
        if follow_up is not None:  # a question the last answer raised, before going on
            parts.append(follow_up)
            return self._message(" ".join(parts), progress.task_index, notes=notes)

        requested = self._reveal(progress, task, rules, rng)
        if requested:
            request = self._requests(task, requested, progress, rules, voice, session.messages)
            if parts:
                request = voice.then(request)
            parts.append(request)
            if self._digress(ctx, rules, rng):
                parts.append(voice.digression())
                notes.digression = True
            return self._message(" ".join(parts), progress.task_index, subtasks=requested, notes=notes)

        # every subtask of this task is settled
        following = await ctx.next_task() if ctx.next_task is not None else None
        if following is not None:
            fresh = TaskProgress(len(tasks), [SubtaskState() for _ in following.subtasks])
            first = self._reveal(fresh, following, rules, rng)
            request = self._requests(following, first, fresh, rules, voice, [])
            if rule_of_kind(rules, "turn_feedback") or voice.rng.random() < UNASKED_REACTION_CHANCE:
                reaction = self._feedback(progress, voice, last) if voice.rng.random() < 0.5 else voice.task_done()
                text = f"{reaction} {voice.then(request)}"
            else:  # no rule asks for a reaction: often the next thing is simply asked
                text = request
            if remark:
                text = f"{remark} {voice.then(request)}"
            return self._message(
                text,
                progress.task_index + 1,
                subtasks=first,
                completes=not progress.closed,
                notes=notes,
            )
        closing = voice.closing(self._echo(progress, voice, last) if progress.last_asked else None)
        if remark:
            closing = f"{remark} {closing}"
        return self._message(closing, progress.task_index, completes=True, is_complete=True, notes=notes)

    def _refs(self) -> RecordReferences:
        return RecordReferences(self.knowledge, self._environment, self._person, self._messages)

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
        if rule_of_kind(rules, "confirm_before_ending") is None or progress.closed:
            return None  # a closed task (a finished session continued) has nothing left to confirm
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
        made = sum(1 for m in ctx.session.messages if m.role is Role.USER and m.meta.notes and m.meta.notes.revise)
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

    def _follow_up(
        self, progress: TaskProgress, task: Task, ctx: RoleContext, rules: list[Rule], voice: Voice
    ) -> str | None:
        """Now and then, a question about one of the records the last answer listed ("What was in order 29?").

        Under the turn-feedback rule (react with an acknowledgement or a follow-up question),
        at most `MAX_FOLLOW_UPS` per dialogue: a read of something the list did not show about
        one listed record (its items, its flight, its doctor), through an intent that takes that
        record's id, that the task does not ask anyway.
        """
        if rule_of_kind(rules, "turn_feedback") is None or voice.rng.random() >= FOLLOW_UP_CHANCE:
            return None
        made = sum(1 for m in ctx.session.messages if m.role is Role.USER and is_follow_up(m))
        if made >= MAX_FOLLOW_UPS:
            return None
        asked = {s.intent for s in task.subtasks}
        # nor one ending in the tool a pending subtask ends in: its answer would pass for that subtask's
        pending = {
            self.knowledge.intent(s.intent).steps[-1].tool
            for s, state in zip(task.subtasks, progress.states, strict=True)
            if not state.settled
        }
        called = self._calls.of(ctx.session.messages)
        tools = {t.name: t for t in ctx.session.tools}
        for i in progress.last_requested:
            rows = progress.states[i].result
            if not isinstance(rows, list) or len(rows) < 2 or not all(isinstance(r, dict) and "id" in r for r in rows):
                continue
            entity = singular(self.knowledge.intent(task.subtasks[i].intent).steps[-1].tool.split("_")[-1])
            slot = f"{entity}_id"
            options = [
                intent
                for intent in self.knowledge.pack.intents
                if intent.slots == {slot: "int"}
                and intent.name not in asked
                and intent.steps[-1].tool not in pending
                and not any(step.tool.startswith(("create_", "update_", "delete_")) for step in intent.steps)
                # not the record itself again: the list already showed it ("has order 11 shipped?" after "cancelled")
                and intent.steps[-1].tool != f"get_{entity}_by_id"
                # nor other people's records ("what is doctor 4 booked for?": every patient's visits)
                and not shows_others(intent, tools)
            ]
            # never a question the dialogue has already had answered ("when does booking 15 leave?" twice),
            # and only about a record the answer showed (not one of the "three more" it left out)
            messages = ctx.session.messages
            visible = [r for r in rows if shown(entity, r["id"], messages)]
            pairs = [(o, r) for o in options for r in visible if first_call(o, slot, r) not in called]
            if not pairs:
                continue
            intent, row = voice.rng.choice(pairs)
            return voice.request(intent, {slot: row["id"]}, later=True, motive=False)
        return None

    @staticmethod
    def _digress(ctx: RoleContext, rules: list[Rule], rng: random.Random) -> bool:
        rule = rule_of_kind(rules, "digression")
        if rule is None:
            return False
        made = sum(1 for m in ctx.session.messages if m.role is Role.USER and m.meta.notes and m.meta.notes.digression)
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
        emailed = False  # whether this turn has given the user's email already
        dated: set[object] = set()  # the records this turn named by their date
        email = self._refs().email()
        for n, i in enumerate(indexes):
            subtask = task.subtasks[i]
            intent = self.knowledge.intent(subtask.intent)
            if withhold and personal_slots(intent) and progress.states[i].requested == 0:
                sentences.append(voice.withheld(intent, subtask.slots))
                continue
            named = None
            ids = [(k.removesuffix("_id"), v) for k, v in subtask.slots.items() if k.endswith("_id")]
            if progress.states[i].requested > 0 and messages:
                # asked again: a record they named by name is named so again (they never saw its number)
                named = self._refs().by_name(intent, subtask.slots, voice)
            elif progress.states[i].requested == 0 and not any(said_in(e, v, sentences) for e, v in ids):
                # (a record this turn already named by id is named so again, not by its date as well)
                named = self._refs().by_name(intent, subtask.slots, voice) or self._refs().by_names(
                    intent, subtask.slots, voice
                )
                if named is None:  # a record this turn named by its date is named by its date again
                    # a record the conversation showed is named as shown (by its number) or by its date; one
                    # it did not is named as its owner knows it, by its date
                    on_page = any(shown(e, v, messages) for e, v in ids)
                    again = (
                        1.0 if any(v in dated for _, v in ids) else BY_DATE_CHANCE if on_page else UNSEEN_BY_DATE_CHANCE
                    )
                    named = self._refs().by_date(intent, subtask.slots, voice, again) or self._refs().by_email(
                        intent, subtask.slots
                    )
                if named is not None and any(s.endswith("_date") for s in named[1]):
                    dated.update(v for _, v in ids)
            if named is not None:  # "How has Tiago Henriques been doing?", not "... player 19 ..."
                short = None
                if emailed or self._gave_email(self._messages, named[1]):
                    short = self._without_email(named[0], named[1], voice, certain=emailed)
                if "email" in named[1] and emailed and short is None:
                    named = None  # the turn gave the email already and this request cannot do without it
                else:
                    sentence = voice.request(*named, short, later=bool(messages))
                    emailed = emailed or bool(email) and str(email) in sentence
                    sentences.append(sentence)
                    continue
            phrasing = self._reference(intent, subtask.slots, spoken, voice) if n == 0 else None
            if phrasing is None and (emailed or self._gave_email(self._messages, subtask.slots)):
                phrasing = self._without_email(intent, subtask.slots, voice)  # "List my orders." once it has it
            sentence = voice.request(intent, subtask.slots, phrasing, later=bool(messages))
            emailed = emailed or bool(email) and str(email) in sentence
            seen = seen_detail(intent, subtask.slots, messages) if phrasing is None else None
            if seen is not None and voice.rng.random() < RECALL_CHANCE:
                sentence = f"{sentence} {voice.recall(seen)}"  # "That's the one from 2025-05-27."
            elif phrasing is None and voice.rng.random() < OWN_DETAIL_CHANCE * (1 + voice.persona.verbosity):
                own = self._refs().own_detail(intent, subtask.slots)
                if own is not None:  # what they know of their own order: "I placed it on 2025-05-27."
                    sentence = f"{sentence} {voice.context(*own)}"
            sentences.append(sentence)
        return voice.joined(sentences)

    def _gave_email(self, messages: list[ChatMessage], slots: dict) -> bool:
        """Whether an earlier user turn gave the email these slots carry, and it is the user's still."""
        email = slots.get("email")
        if not email or email != self._refs().email():
            return False
        return any(m.role is Role.USER and str(email) in m.text for m in messages)

    def _without_email(self, intent: Intent, slots: dict, voice: Voice, certain: bool = False) -> str | None:
        """A phrasing of the request that leaves out the user's email the conversation already has (always
        when `certain`: the same turn just gave it)."""
        short = self.knowledge.parser.without_email.get(intent.name, ())
        if not short or slots.get("email") != self._refs().email():
            return None
        if not certain and voice.rng.random() >= ELIDE_CHANCE:
            return None
        return voice.rng.choice(short)

    def _choose(
        self, task: Task, pending: list[int], messages: list[ChatMessage], voice: Voice
    ) -> tuple[int, str] | None:
        """(subtask, answer) when the assistant asked which of several records a requested change is for.

        The user picks one of the records the assistant listed and restates the change for it
        by its id ("The one from 2025-05-27, please. Cancel order 18."), through the intent that
        makes the same change by id.
        """
        listed = listed_rows(messages)
        if not listed:
            return None
        text = messages[-1].text
        for i in pending:
            intent = self.knowledge.intent(task.subtasks[i].intent)
            found = self._by_id(intent)
            if found is None:
                continue
            by_id, slot = found
            rows = [r for r in listed if re.search(rf"\b{r.get('id')}\b", text)]
            if len(rows) < 2:
                continue
            n = voice.rng.randrange(len(rows))
            row = rows[n]
            slots = {**{k: v for k, v in task.subtasks[i].slots.items() if k in by_id.slots}, slot: row["id"]}
            request = voice.request(by_id, slots, later=True, motive=False)
            return i, f"{voice.pick_record(n, row)} {request}"
        return None

    def _correction(
        self, task: Task, progress: TaskProgress, messages: list[ChatMessage], voice: Voice
    ) -> tuple[int | None, str] | None:
        """(subtask, turn) when the assistant answered "my first order" with a record that is not the first.

        When the dialogue already answered the same question about the right record, the user only
        says so: (None, the remark), and the turn goes on to what is next.

        A chain that goes on from a list takes its first row; when the list is dated and its
        first row is not the earliest, the user (who knows their own history) points at the
        earliest one and asks again for it by id, once per subtask. Under the turn-feedback
        rule ("point out what is missing").
        """
        for i in progress.last_requested:
            state = progress.states[i]
            intent = self.knowledge.intent(task.subtasks[i].intent)
            if not state.done or state.requested > 1 or len(intent.steps) < 3 or "first" not in intent.name:
                continue
            found = self._by_id(intent)
            rows = dated_list(messages) if found else []
            dated = [(d, r) for r in rows if (d := date_of(r)) is not None]
            if found is None or len(dated) < 2:
                continue
            earliest = min(dated, key=lambda pair: pair[0])
            if earliest[1] is rows[0]:
                continue
            by_id, slot = found
            row = earliest[1]
            if asked_before(by_id, slot, row["id"], self._calls.of(messages)):
                return None, f"{voice.not_that_one(earliest[0])} {voice.already_told()}"
            request = voice.request(by_id, {slot: row["id"]}, later=True, motive=False)
            return i, f"{voice.not_that_one(earliest[0])} {request}"
        return None

    def _by_id(self, intent: Intent) -> tuple[Intent, str] | None:
        """The intent making `intent`'s change to one record named by its id, and its id slot.

        cancel_order (order_id) for "cancel my pending order"; change_shipping_city (order_id,
        new_city) for "send my pending order to Turin": the same last tool with the same fixed
        arguments, whose slots are `intent`'s new values plus one id.
        """
        last = intent.steps[-1]
        literal = {k: v for k, v in last.arguments.items() if not v.startswith(("{", "$"))}
        for other in self.knowledge.pack.intents:
            step = other.steps[-1]
            if other is intent or step.tool != last.tool:
                continue
            extra = [name for name in other.slots if name not in intent.slots]
            if len(extra) != 1 or other.slots[extra[0]] != "int":
                continue
            if {k: v for k, v in step.arguments.items() if not v.startswith(("{", "$"))} == literal:
                return other, extra[0]
        return None

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

    def _own(self) -> frozenset[str]:
        """What identifies the user (their name, email, phone): never echoed back to the assistant."""
        return self._person.identifiers() if self._person is not None else frozenset()

    def _echo(self, progress: TaskProgress, voice: Voice, last: ChatMessage | None) -> tuple[str, str] | None:
        """What the user may take in from the last answer to what they asked (a status, a name, a count)."""
        answer = last.text if last is not None and last.role is Role.ASSISTANT else ""
        own = self._own()
        for i in progress.last_requested:
            echo = echo_of(progress.states[i].result, answer, voice.rng, own)
            if echo is not None:
                return echo
        return None

    def _feedback(self, progress: TaskProgress, voice: Voice, last: ChatMessage | None) -> str:
        return voice.acknowledgement(self._echo(progress, voice, last))

    def _persona(self, ctx: RoleContext) -> Persona:
        if self._person is None:
            self._person = draw_identity(ctx.environment, ctx.session.config.seed)
        return Persona.drawn(ctx.session.config.seed, self._person.name, self._person.email, self._person.facts())

    @staticmethod
    def _message(
        text: str,
        task_index: int | None,
        subtasks: list[int] | None = None,
        completes: bool = False,
        is_complete: bool = False,
        notes: SimulatorNotes | None = None,
    ) -> ChatMessage:
        noted = notes if notes is not None and notes != SimulatorNotes() else None
        if not is_complete and (subtasks or noted):
            text = not_a_goodbye(text)
        return ChatMessage(
            role=Role.USER,
            content=text,
            meta=MessageMeta(
                producer="user",
                backend="offline",
                task_index=task_index,
                subtasks=subtasks or [],
                task_done=completes,
                goal_done=is_complete,
                notes=noted,
            ),
        )
