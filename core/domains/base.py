"""What a domain pack is: a schema, seeded data, request phrasings and task templates.

A pack is plain data plus one `populate` function. The offline backend reads the
intents (what a user can ask for, how they phrase it, which tool chain serves
it) and the task templates (goals grounded in rows sampled from the database).
Building the database and deriving tools are left to `sqlenv` and `forge`.

Phrasing placeholders are `{slot}`; slot types say how a value is written and
how the offline assistant recognises it in free text:

    int    123            float  12.5          email  ana@example.com
    date   2025-03-01     name   Ana Lopez     word   SKU-1042 (one token)
    text   anything up to the end of the sentence

Tool-step arguments are templates too: `"{slot}"` takes a slot value, and
`"$prev.field"` takes `field` from the previous step's result (its first row
when the result is a list).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from turnloom.core.models import Difficulty

SLOT_TYPES = ("int", "float", "email", "date", "name", "word", "text")


@dataclass(frozen=True)
class ToolStep:
    """One tool call in an intent's chain."""

    tool: str
    arguments: dict[str, str]


@dataclass(frozen=True)
class Intent:
    """Something a user can ask for, how they say it, and the tools that serve it.

    Attributes:
        name: unique within the pack, e.g. ``order_status``.
        description: the goal in the third person, with slots, for task statements
            ("check the status of order {order_id}").
        phrasings: first-person requests with slots ("What's the status of order {order_id}?").
            Every phrasing uses every slot in `slots`.
        slots: slot name -> slot type (see SLOT_TYPES).
        steps: the tool chain the assistant runs, in order.
        keywords: words that point at this intent when no phrasing matches exactly;
            the assistant uses them to ask a targeted clarifying question.
        verify: for a write, the name of a read intent (same slots) that shows its effect.
    """

    name: str
    description: str
    phrasings: tuple[str, ...]
    slots: dict[str, str]
    steps: tuple[ToolStep, ...]
    keywords: tuple[str, ...] = ()
    verify: str | None = None


@dataclass(frozen=True)
class TaskTemplate:
    """A family of tasks: a goal whose slots are filled from a sampled database row.

    Attributes:
        name: unique within the pack.
        difficulty: easy (1-2 subtasks), medium (2-3), hard (3-5, with chains or writes).
        goal: declarative statement of the user's goal, with slots.
        sample_sql: a SELECT whose column aliases are slot names; one row is drawn
            with the dialogue's RNG. It runs on the dialogue's current database, so a
            later task can build on an earlier task's writes.
        intents: the subtasks, in order, as intent names.
        values: pools for slots not in the row (new values for writes).
    """

    name: str
    difficulty: Difficulty
    goal: str
    sample_sql: str
    intents: tuple[str, ...]
    values: Mapping[str, tuple[object, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class DomainPack:
    """A built-in domain: schema, data, intents and task templates."""

    name: str
    title: str
    description: str
    schema_sql: str
    populate: Callable[[sqlite3.Connection, random.Random], None]
    intents: tuple[Intent, ...]
    templates: tuple[TaskTemplate, ...]
    # the seed of the pack's data; fixed so every dialogue starts from the same rows
    data_seed: int = 7

    def intent(self, name: str) -> Intent:
        for intent in self.intents:
            if intent.name == name:
                return intent
        raise KeyError(f"domain {self.name!r} has no intent {name!r}")
