"""The offline task generator: descriptive goals grounded in rows of the dialogue's database.

A task belongs to the dialogue's person (`identity`): a template whose sample
query names `:user_id` samples only that person's records ("my order" is
theirs). A task comes from a pack template whose sample query runs on the dialogue's
current database, so a later task sees an earlier task's writes; when possible
it reuses a value from the previous task (same customer, same order), so tasks
chain the way the method's high-density trajectories do.
"""

from __future__ import annotations

import unicodedata

from turnloom.core.errors import TurnloomError
from turnloom.core.models import Difficulty, Subtask, Task
from turnloom.core.players.offline.identity import UserIdentity, draw_identity
from turnloom.core.players.offline.knowledge import DomainKnowledge
from turnloom.core.players.offline.language import render
from turnloom.core.players.roles import RoleContext

# how often each difficulty is drawn
DIFFICULTY_WEIGHTS = {Difficulty.EASY: 0.25, Difficulty.MEDIUM: 0.4, Difficulty.HARD: 0.35}


class OfflineTaskGenerator:
    def __init__(self, knowledge: DomainKnowledge) -> None:
        self.knowledge = knowledge
        self._identity: UserIdentity | None = None

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
        for difficulty in order:
            templates = [t for t in pack.templates if t.difficulty is difficulty]
            rng.shuffle(templates)
            if previous is not None and len(templates) > 1:
                # vary the kind of task within a dialogue
                templates.sort(key=lambda t: t.name == previous.template)
            for template in templates:
                personal = ":user_id" in template.sample_sql
                if personal and person.key is None:
                    continue
                try:
                    rows = ctx.environment.query(template.sample_sql, params if personal else None)
                except Exception:  # a template that no longer fits the data is skipped
                    continue
                if not rows:
                    continue
                row = self._pick_row(rows, previous, rng)
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
                    intent = self.knowledge.intent(intent_name)
                    needed = {k: slots[k] for k in intent.slots}
                    subtasks.append(
                        Subtask(
                            description=render(intent.description, needed),
                            intent=intent.name,
                            slots=needed,
                        )
                    )
                rubric = [
                    f"calls {' then '.join(step.tool for step in self.knowledge.intent(s.intent).steps)} "
                    f"to {s.description}"
                    for s in subtasks
                ]
                return Task(
                    goal=f"You are {person.name} ({person.email}). {render(template.goal, slots)}",
                    subtasks=subtasks,
                    difficulty=template.difficulty,
                    rubric=rubric,
                    template=template.name,
                )
        raise TurnloomError(
            f"domain {pack.name!r}: no task template found rows to work on; "
            "the database may be empty or changed beyond what the templates expect"
        )

    @staticmethod
    def _pick_row(rows: list[dict], previous: Task | None, rng) -> dict:
        if previous is not None and rng.random() < 0.6:
            earlier = {str(v) for s in previous.subtasks for v in s.slots.values()}
            related = [r for r in rows if any(str(v) in earlier for v in r.values())]
            if related:
                return rng.choice(related)
        return rng.choice(rows)


def _own(value: object, person: UserIdentity) -> object:
    """A pool value written for the person ("{user_first}.{user_last}@mailbox.org" -> their new address)."""
    if not isinstance(value, str) or "{user_" not in value:
        return value
    first, _, last = person.name.lower().partition(" ")
    return value.format(user_first=_ascii(first), user_last=_ascii(last.replace(" ", "")))


def _ascii(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
