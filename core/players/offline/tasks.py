"""The offline task generator: descriptive goals grounded in rows of the dialogue's database.

A task belongs to the dialogue's person (`identity`): a template whose sample
query names `:user_id` samples only that person's records ("my order" is
theirs). A task comes from a pack template whose sample query runs on the dialogue's
current database, so a later task sees an earlier task's writes; when possible
it reuses a value from the previous task (same customer, same order), so tasks
chain the way the method's high-density trajectories do.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections import Counter

from turnloom.core.domains.base import Intent
from turnloom.core.errors import TurnloomError
from turnloom.core.models import Difficulty, Role, Subtask, Task, ToolCall, ToolExecution, ToolSpec
from turnloom.core.players.offline.calls_made import CallsMade, call_key
from turnloom.core.players.offline.identity import UserIdentity, draw_identity, shows_others
from turnloom.core.players.offline.knowledge import DomainKnowledge
from turnloom.core.players.offline.language import render
from turnloom.core.players.offline.reply_words import MAX_LISTED
from turnloom.core.players.offline.shown_records import shown_records
from turnloom.core.players.offline.transcript_reading import listed_rows
from turnloom.core.players.roles import RoleContext
from turnloom.core.tools.environment import ToolEnvironment
from turnloom.core.tools.sqlenv import SqlEnvironment

# how often each difficulty is drawn
DIFFICULTY_WEIGHTS = {Difficulty.EASY: 0.25, Difficulty.MEDIUM: 0.4, Difficulty.HARD: 0.35}
# rows tried per template before it is passed over for asking only what earlier tasks asked
ROW_ATTEMPTS = 3
# how often a later task builds on the previous one's records (the method's "natural extension")
EXTEND_CHANCE = 0.4


# tasks per dialogue when the caller does not pin it: mostly one to five, and a tail of long dialogues
TASK_COUNT_WEIGHTS = {1: 0.2, 2: 0.28, 3: 0.22, 4: 0.14, 5: 0.1, 6: 0.02, 7: 0.015, 8: 0.01, 10: 0.01, 12: 0.005}


def task_count(seed: object) -> int:
    """How many tasks a dialogue of `seed` chains, drawn from `TASK_COUNT_WEIGHTS` (mean about 2.9).

    A pure function of the seed, so a re-run draws the same count; `--tasks` overrides it.
    """
    rng = random.Random(f"{seed}:task-count")
    counts = list(TASK_COUNT_WEIGHTS)
    return rng.choices(counts, weights=list(TASK_COUNT_WEIGHTS.values()))[0]


class OfflineTaskGenerator:
    def __init__(self, knowledge: DomainKnowledge) -> None:
        self.knowledge = knowledge
        self._identity: UserIdentity | None = None
        # in simulated execution: (session id, the database with the dialogue's writes replayed, messages seen)
        self._shadow: tuple[str, SqlEnvironment, int] | None = None
        self._calls = CallsMade()  # the calls the dialogue made, read as it grows

    def identity(self, ctx: RoleContext) -> UserIdentity:
        """The dialogue's person (drawn once; the draw is stable under the dialogue's own writes)."""
        if self._identity is None:
            self._identity = draw_identity(ctx.environment, ctx.session.config.seed)
        return self._identity

    async def generate(self, ctx: RoleContext, index: int) -> Task:
        """A task drawn with the dialogue's RNG, grounded in current rows.

        Raises:
            TurnloomError: when no template of the pack finds rows to work on.
        """
        rng = ctx.rng("task", index)
        pack = self.knowledge.pack
        person = self.identity(ctx)
        params = {"user_id": person.key}
        previous = ctx.task_list()[-1] if ctx.task_list() else None
        difficulties = list(DIFFICULTY_WEIGHTS)
        order = rng.choices(difficulties, weights=list(DIFFICULTY_WEIGHTS.values()), k=1)
        order += [d for d in difficulties if d not in order]
        asked = self._asked(ctx.task_list(), person)
        made = self._calls.of(ctx.session.messages)
        tools = {t.name: t for t in ctx.session.tools}
        # records the conversation shows as they stand: nobody asks to see again what they were just shown
        standing = [r for _, r in shown_records(ctx.session.messages, len(ctx.session.messages), tools)]
        # ... nor about a record the last answer's list showed ("what's the status of visit 12?" right after it)
        listed = listed_rows(ctx.session.messages)
        standing += listed if len(listed) <= MAX_LISTED + 1 else listed[:MAX_LISTED]
        database = self._current(ctx)
        sql = database if isinstance(database, SqlEnvironment) else database.db

        def lookup(tool: str, arguments: dict) -> object:
            """A read of a chain the dialogue did not make itself, run on the database as it is now."""
            spec = tools.get(tool)
            if spec is None or spec.writes or not spec.sql:
                return None
            result = sql.execute(spec, arguments)
            return None if result.is_error else json.loads(result.content)

        uses = Counter(t.template for t in ctx.task_list())
        used = set(uses)
        fallback: Task | None = None
        last_resort: Task | None = None
        independent: Task | None = None
        extension: Task | None = None  # a task on a record an earlier task named (its order, its product)
        # now and then the next task extends the last one's outcome rather than starting afresh
        extend = previous is not None and rng.random() < EXTEND_CHANCE
        earlier = {str(v) for s in previous.subtasks for v in s.slots.values()} if previous else set()
        for difficulty in order:
            templates = [t for t in pack.templates if t.difficulty is difficulty]
            rng.shuffle(templates)
            if previous is not None and len(templates) > 1:
                # vary the kind of task within a dialogue: the last one's kind last, a kind used before
                # late, and a change made before (a second new email) later still
                templates.sort(
                    key=lambda t: (uses[t.name] * (2 if self._writes(t) else 1), t.name == previous.template)
                )
            for template in templates:
                personal = ":user_id" in template.sample_sql
                if personal and person.key is None:
                    continue
                if template.name in used and self._creates(template):
                    continue  # one person opens one new account (or books one new visit) per dialogue
                if any(shows_others(self.knowledge.intent(name), tools) for name in template.intents):
                    continue  # a doctor's calendar lists other patients' visits: not the user's to ask for
                try:
                    rows = database.query(template.sample_sql, params if personal else None)
                except Exception:  # a template that no longer fits the data is skipped
                    continue
                if not rows:
                    continue
                for _ in range(min(ROW_ATTEMPTS, len(rows))):
                    row = self._pick_row(rows, previous, rng)
                    rows = [r for r in rows if r is not row]
                    task = self._task(template, row, person, rng)
                    task = self._without_listed(task, made, lookup, person)
                    # never ask again for what an earlier task of the dialogue already asked
                    # ... or for what a call the dialogue already made answered ("the items of order 31")
                    fresh = [
                        s
                        for s in task.subtasks
                        if self._key(s, person) not in asked and not self._answered(s, made, lookup, standing)
                    ]
                    related = bool(earlier & {str(v) for s in fresh for v in s.slots.values()})
                    if len(fresh) == len(task.subtasks) and (related or not extend):
                        return task
                    if fresh and related and extension is None:
                        extension = task if len(fresh) == len(task.subtasks) else self._narrowed(task, fresh, person)
                    if len(fresh) == len(task.subtasks):
                        independent = independent or task
                    elif fresh and (fallback is None or len(fresh) > len(fallback.subtasks)):
                        fallback = self._narrowed(task, fresh, person)
                    last_resort = last_resort or task
        for found in (extension, independent, fallback):
            if found is not None:
                return found
        if last_resort is not None:  # everything there is to ask was asked: ask again rather than stop mid-run
            return last_resort
        raise TurnloomError(
            f"domain {pack.name!r}: no task template found rows to work on; "
            "the database may be empty or changed beyond what the templates expect"
        )

    def _current(self, ctx: RoleContext) -> ToolEnvironment | SqlEnvironment:
        """The database as the dialogue has changed it, for sampling a task's rows.

        In `sql` execution that is the dialogue's own database. In `simulated` execution the tools
        change a simulated world, not the database, so the dialogue's writes are replayed with the
        tools' SQL on a copy: a later task never asks to pay a bill an earlier one paid, or to move
        a seat on a booking an earlier one cancelled. The copy is derived from the transcript alone.
        """
        session = ctx.session
        if session.config.execution is not ToolExecution.SIMULATED:
            return ctx.environment
        if self._shadow is not None and (self._shadow[0] != session.id or self._shadow[2] > len(session.messages)):
            self._shadow[1].close()
            self._shadow = None
        seen = self._shadow[2] if self._shadow is not None else 0
        calls: dict[str, ToolCall] = {c.id: c for m in session.messages[:seen] for c in m.tool_calls}
        writes: list[tuple[ToolSpec, ToolCall]] = []
        for message in session.messages[seen:]:
            calls.update({c.id: c for c in message.tool_calls})
            call = calls.get(message.tool_call_id or "") if message.role is Role.TOOL else None
            spec = session.tool(call.name) if call is not None else None
            if call is None or spec is None or not spec.writes or not spec.sql or message.meta.tool_error:
                continue
            if _changed_rows(message.content):
                writes.append((spec, call))
        if self._shadow is None and not writes:
            return ctx.environment  # nothing changed yet: no copy needed
        shadow = self._shadow[1] if self._shadow is not None else SqlEnvironment(ctx.environment.base_image)
        for spec, call in writes:
            shadow.execute(spec, call.parsed_arguments())
        self._shadow = (session.id, shadow, len(session.messages))
        return shadow

    def _task(self, template, row: dict, person: UserIdentity, rng) -> Task:
        """The task `template` makes of `row`, new values drawn from its pools."""
        slots = {**person.slots(), **row}
        for name, pool in template.values.items():
            # a new value must differ from what the row holds ("move it to the date it already has")
            choices = [v for v in pool if v not in row.values()]
            drawn = _own(rng.choice(choices or list(pool)), person)
            if "+" in name:  # values drawn together: a new person's name with their own email
                slots.update(zip(name.split("+"), drawn, strict=True))  # type: ignore[call-overload]
            else:
                slots[name] = drawn
        subtasks = []
        for intent_name in template.intents:
            intent = self._as_they_know_it(self.knowledge.intent(intent_name), slots, person)
            needed = {k: slots[k] for k in intent.slots}
            subtasks.append(Subtask(description=render(intent.description, needed), intent=intent.name, slots=needed))
        return Task(
            goal=f"You are {person.name} ({person.email}). {render(template.goal, slots)}",
            subtasks=subtasks,
            difficulty=template.difficulty,
            rubric=self._rubric(subtasks),
            template=template.name,
        )

    def _as_they_know_it(self, intent: Intent, slots: dict, person: UserIdentity) -> Intent:
        """A look-up of the user's own person record by its id ("patient 2") becomes the look-up by their
        email: nobody knows their own row id, and the email is what they give."""
        step = intent.steps[0]
        own = person.key is not None and person.email and slots.get(next(iter(intent.slots), "")) == person.key
        if len(intent.steps) != 1 or len(intent.slots) != 1 or not own or not step.tool.endswith("_by_id"):
            return intent
        wanted = [step.tool.removesuffix("_by_id") + "_by_email"]
        for other in self.knowledge.pack.intents:
            if other.slots == {"email": "email"} and [s.tool for s in other.steps] == wanted:
                slots.setdefault("email", person.email)
                return other
        return intent

    def _writes(self, template) -> bool:
        """Whether a template's task changes something."""
        return any(
            step.tool.startswith(("create_", "add_", "update_", "delete_"))
            for name in template.intents
            for step in self.knowledge.intent(name).steps
        )

    def _creates(self, template) -> bool:
        """Whether a template's task creates a record."""
        return any(
            step.tool.startswith(("create_", "add_"))
            for name in template.intents
            for step in self.knowledge.intent(name).steps
        )

    def _rubric(self, subtasks: list[Subtask]) -> list[str]:
        return [
            f"calls {' then '.join(step.tool for step in self.knowledge.intent(s.intent).steps)} to {s.description}"
            for s in subtasks
        ]

    def _narrowed(self, task: Task, subtasks: list[Subtask], person: UserIdentity) -> Task:
        """`task` cut to the subtasks not asked before; its goal restated from what is left."""
        wanted = _sentence_list([s.description for s in subtasks])
        return task.model_copy(
            update={
                "goal": f"You are {person.name} ({person.email}). You want to {wanted}.",
                "subtasks": subtasks,
                "rubric": self._rubric(subtasks),
            }
        )

    def _key(self, subtask: Subtask, person: UserIdentity) -> tuple:
        """What a subtask asks for, whatever its wording: the tool that serves it and the values it names.

        The person's email, phone number and id name the same record, so "my orders (email)",
        "the bills of my line" and "orders of customer 7" name the person alike.
        """
        tool = self.knowledge.intent(subtask.intent).steps[-1].tool
        own = {str(v) for k, v in person.row.items() if isinstance(v, str) and k != "name"} | {person.email}
        values = sorted(
            str(person.key) if person.key is not None and str(v) in own else str(v) for v in subtask.slots.values()
        )
        return tool, tuple(values)

    def _without_listed(self, task: Task, made: dict[tuple[str, str], object], lookup, person: UserIdentity) -> Task:
        """`task` without a look-up of one record that an earlier subtask's list shows ("what's the status of
        visit 12?" right after "list my visits" showed visit 12 and its status): nobody asks what they were just
        told. Only records the list's answer names (its first `MAX_LISTED`) count."""
        lists = [self._lists(s) for s in task.subtasks]
        if not any(self._reads_one(s) and any(lists[:k]) for k, s in enumerate(task.subtasks)):
            return task  # no look-up of one record after a list: nothing to run (most tasks)
        kept: list[Subtask] = []
        listed: list[dict] = []
        for subtask in task.subtasks:
            result = self._chain_result(subtask, made, lookup)
            if self._reads_one(subtask) and isinstance(result, dict) and "id" in result and result in listed:
                continue
            kept.append(subtask)
            if isinstance(result, list):
                listed += result if len(result) <= MAX_LISTED + 1 else result[:MAX_LISTED]
        return task if len(kept) == len(task.subtasks) or not kept else self._narrowed(task, kept, person)

    def _reads_one(self, subtask: Subtask) -> bool:
        """Whether the subtask is a single look-up of one record by a value it names (`get_order_by_id`)."""
        steps = self.knowledge.intent(subtask.intent).steps
        return len(steps) == 1 and steps[0].tool.startswith("get_") and "_by_" in steps[0].tool

    def _lists(self, subtask: Subtask) -> bool:
        """Whether the subtask's chain ends in a list (`search_orders`, `get_customer_orders`)."""
        tool = self.knowledge.intent(subtask.intent).steps[-1].tool
        return tool.startswith("search_") or (tool.startswith("get_") and "_by_" not in tool and "summary" not in tool)

    def _chain_result(self, subtask: Subtask, made: dict[tuple[str, str], object], lookup) -> object:
        """What the subtask's chain would end with: the dialogue's results where it made the call, else the
        database's (None when a step cannot be followed)."""
        previous: object = None
        for step in self.knowledge.intent(subtask.intent).steps:
            arguments = _step_arguments(step.arguments, subtask.slots, previous)
            if arguments is None:
                return None
            key = call_key(step.tool, arguments)
            previous = made[key] if key in made else lookup(step.tool, arguments)
        return previous

    def _answered(
        self, subtask: Subtask, made: dict[tuple[str, str], object], lookup, standing: list[dict] | None = None
    ) -> bool:
        """Whether the dialogue already made the call that ends the subtask's chain, reached as the results
        it got lead ("the bags on my first booking": the person by email, their bookings, the first one's
        bags); a link the dialogue reached another way (by date, not by listing) is read from the database."""
        previous: object = None
        steps = self.knowledge.intent(subtask.intent).steps
        for n, step in enumerate(steps):
            row = previous[0] if isinstance(previous, list) and previous else previous
            arguments: dict = {}
            for name, template in step.arguments.items():
                if template.startswith("$prev."):
                    if not isinstance(row, dict) or template[6:] not in row:
                        return False
                    arguments[name] = row[template[6:]]
                elif template.startswith("{") and template.endswith("}"):
                    if template[1:-1] not in subtask.slots:
                        return False
                    arguments[name] = subtask.slots[template[1:-1]]
                else:
                    arguments[name] = template
            key = call_key(step.tool, arguments)
            if key in made:
                previous = made[key]
            elif n < len(steps) - 1:
                previous = lookup(step.tool, arguments)
            else:  # the record it would show, the conversation shows as it stands ("my file", just shown)
                shown = {str(v) for record in standing or [] for v in record.values()}
                if not all(str(v) in shown for v in arguments.values()):
                    return False  # no record on the page holds what it is looked up by: no need to read it
                found = lookup(step.tool, arguments)
                return isinstance(found, dict) and "id" in found and found in (standing or [])
        return True

    def _asked(self, tasks: list[Task], person: UserIdentity) -> set[tuple]:
        """The requests earlier tasks of the dialogue made, with the checks their writes call for."""
        asked: set[tuple] = set()
        known = {intent.name for intent in self.knowledge.pack.intents}
        for task in tasks:
            for subtask in task.subtasks:
                if subtask.intent not in known:
                    continue  # a session made with an older pack (or by a model) may name intents this one lacks
                asked.add(self._key(subtask, person))
                verify = self.knowledge.intent(subtask.intent).verify
                if verify is not None:
                    intent = self.knowledge.intent(verify)
                    slots = {k: subtask.slots[k] for k in intent.slots if k in subtask.slots}
                    asked.add(self._key(Subtask(description="", intent=verify, slots=slots), person))
        return asked

    @staticmethod
    def _pick_row(rows: list[dict], previous: Task | None, rng) -> dict:
        if previous is not None and rng.random() < 0.6:
            earlier = {str(v) for s in previous.subtasks for v in s.slots.values()}
            related = [r for r in rows if any(str(v) in earlier for v in r.values())]
            if related:
                return rng.choice(related)
        return rng.choice(rows)


def _step_arguments(templates: dict[str, str], slots: dict, previous: object) -> dict | None:
    """A step's arguments from the subtask's slots and the previous step's result (its first row), or None."""
    row = previous[0] if isinstance(previous, list) and previous else previous
    arguments: dict = {}
    for name, template in templates.items():
        if template.startswith("$prev."):
            if not isinstance(row, dict) or template[6:] not in row:
                return None
            arguments[name] = row[template[6:]]
        elif template.startswith("{") and template.endswith("}"):
            if template[1:-1] not in slots:
                return None
            arguments[name] = slots[template[1:-1]]
        elif template.startswith("$"):
            return None  # a step taking an earlier step's result: not followed here
        else:
            arguments[name] = template
    return arguments


def _changed_rows(content: str | None) -> bool:
    """Whether a write's result says it changed a row (`{"rowcount": 1, ...}`)."""
    try:
        result = json.loads(content or "null")
    except json.JSONDecodeError:
        return False
    return isinstance(result, dict) and isinstance(result.get("rowcount"), int) and result["rowcount"] > 0


def _own(value: object, person: UserIdentity) -> object:
    """A pool value written for the person ("{user_first}.{user_last}@mailbox.org" -> their new address)."""
    if not isinstance(value, str) or "{user_" not in value:
        return value
    first, _, last = person.name.lower().partition(" ")
    return value.format(user_first=_ascii(first), user_last=_ascii(last.replace(" ", "")))


def _ascii(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()


def _sentence_list(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
