"""Asking by name: every request about a record by its id can also be made by the record's name.

A user knows a player, a product, a plan or a doctor by name, not by a row id. For each
intent that takes one record's id (`{player_id}`) in its first step only, and whose table
can be searched by `name`, the pack gets a twin intent that takes the name instead: the
assistant first finds the record (`search_players(name=...)`), then runs the intent's chain
on the id it found. "How has Tiago Henriques been doing this season?" is two steps where
"How has player 19 been doing?" was one. People who are users of the system (customers,
passengers, patients, subscribers) are not looked up by name: they give their email.

The twin is named `<intent>__by_name`; its slot is `<entity>_name`.

The user's own records (their order, booking, appointment, bill) have no name, but a date and
an owner: "Cancel my booking from 2025-03-30 under leo@example.com." finds the person by email,
their record on that date, then runs the chain on its id (`<intent>__by_date`, slots `email` and
`<entity>_date`).
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace

from turnloom.core.domains.base import DomainPack, Intent, ToolStep
from turnloom.core.models import ToolSpec
from turnloom.core.players.offline.identity import PEOPLE
from turnloom.core.players.offline.language import synonyms
from turnloom.core.tools.schema import quote_ident, singular

SUFFIX = "__by_name"
DATED = "__by_date"
EMAILED = "__by_email"
PAIRED = "__by_names"


def twin_name(intent: str) -> str:
    return intent + SUFFIX


def dated_name(intent: str) -> str:
    return intent + DATED


def emailed_name(intent: str) -> str:
    return intent + EMAILED


def paired_name(intent: str) -> str:
    return intent + PAIRED


@dataclass(frozen=True)
class Owned:
    """A table of records that belong to a person: `orders` by `customer_id`, found by `order_date`."""

    table: str
    owner: str  # the owner column (customer_id)
    date: str  # the date column the user remembers (order_date)
    person_lookup: str  # get_customer_by_email
    search: str  # search_orders, taking the owner column and the date column


def with_name_twins(pack: DomainPack, searchable: dict[str, str]) -> DomainPack:
    """`pack` with a by-name twin for each intent about one record of a `searchable` table.

    Args:
        searchable: table -> its search tool that takes a `name` (`players` -> `search_players`).
    """
    by_entity = {singular(table): (table, tool) for table, tool in searchable.items() if table not in PEOPLE}
    twins = [t for t in (_twin(intent, by_entity) for intent in pack.intents) if t is not None]
    return replace(pack, intents=pack.intents + tuple(twins)) if twins else pack


def with_date_twins(pack: DomainPack, owned: dict[str, Owned]) -> DomainPack:
    """`pack` with a by-date twin for each intent about one record of an `owned` table (by its entity)."""
    twins = [t for t in (_dated(intent, owned) for intent in pack.intents) if t is not None]
    return replace(pack, intents=pack.intents + tuple(twins)) if twins else pack


def with_email_twins(pack: DomainPack, people: dict[str, str]) -> DomainPack:
    """`pack` with a by-email twin for each intent about one person's record by its id ("patient 2").

    Args:
        people: entity -> how a person is found by email (`patient` -> `get_patient_by_email`).
    """
    twins = [t for t in (_emailed(intent, people) for intent in pack.intents) if t is not None]
    return replace(pack, intents=pack.intents + tuple(twins)) if twins else pack


def with_pair_twins(pack: DomainPack, searchable: dict[str, str], people: dict[str, str]) -> DomainPack:
    """`pack` with a twin for each request about two records by id ("move player 25 to club 2") that names
    them as people know them: by name, and the user's own account by email ("move Rafa Dias to Porto
    Athletic"). The assistant finds each record first, then makes the request on their ids.

    Args:
        searchable: table -> its search tool that takes a `name`.
        people: entity -> how a person is found by email.
    """
    by_entity = {singular(table): tool for table, tool in searchable.items() if table not in PEOPLE}
    twins = [t for t in (_pair(intent, by_entity, people) for intent in pack.intents) if t is not None]
    return replace(pack, intents=pack.intents + tuple(twins)) if twins else pack


def _pair(intent: Intent, by_entity: dict[str, str], people: dict[str, str]) -> Intent | None:
    ids = [s for s, kind in intent.slots.items() if kind == "int" and s.endswith("_id")]
    if len(ids) != 2 or "email" in intent.slots:
        return None
    lookups: list[ToolStep] = []
    slots = dict(intent.slots)
    phrasings = intent.phrasings
    description = intent.description
    references: dict[str, str] = {}  # "{player_id}" -> "$0.id"
    for slot in sorted(ids, key=lambda s: s.removesuffix("_id") not in people):  # the person first
        entity = slot.removesuffix("_id")
        if entity in people:
            lookups.append(ToolStep(people[entity], {"email": "{email}"}))
            said, new_slot, words = _mention(entity, slot, ("the", "my")), "email", f"the {entity} under {{email}}"
        elif entity in by_entity:
            lookups.append(ToolStep(by_entity[entity], {"name": f"{{{entity}_name}}"}))
            said, new_slot, words = _mention(entity, slot, ("the",)), f"{entity}_name", f"{{{entity}_name}}"
        else:
            return None
        references["{" + slot + "}"] = f"${len(lookups) - 1}.id"
        literal = words.replace("\\", "\\\\")  # a replacement said as it is
        phrasings = tuple(said.sub(literal, p, count=1) for p in phrasings)
        description = said.sub(literal, description, count=1)
        del slots[slot]
        slots[new_slot] = "email" if new_slot == "email" else "name"
    phrasings = tuple(p for p in phrasings if not any(s in p for s in ids))
    if not phrasings:
        return None
    steps = tuple(
        ToolStep(step.tool, {k: references.get(v, v) for k, v in step.arguments.items()}) for step in intent.steps
    )
    return Intent(paired_name(intent.name), description, phrasings, slots, (*lookups, *steps), intent.keywords, None)


def _emailed(intent: Intent, people: dict[str, str]) -> Intent | None:
    found = _single_id(intent)
    if found is None or found[1] not in people or "email" in intent.slots:
        return None
    slot, entity = found
    placeholder = "{" + slot + "}"
    lookup = ToolStep(people[entity], {"email": "{email}"})
    first = intent.steps[0]
    if first.tool == f"get_{entity}_by_id" and first.arguments == {"id": placeholder}:
        if len(intent.steps) == 1:
            return None  # the look-up by email is the whole request: the pack's own intent for it
        steps = (lookup, *_found_by_prev(intent.steps[1:], placeholder))  # the record found by email is the one
    else:
        steps = (lookup, *_found_by_prev(intent.steps, placeholder))
    said = _mention(entity, slot, ("the", "my"))

    def theirs(match: re.Match[str]) -> str:
        return f"the {match.group('noun').lower()} under {{email}}"

    phrasings = tuple(p for p in (said.sub(theirs, p, count=1) for p in intent.phrasings) if slot not in p)
    if not phrasings:
        return None
    slots = {"email": "email", **{s: kind for s, kind in intent.slots.items() if s != slot}}
    description = said.sub(f"the {entity.replace('_', ' ')} with email {{email}}", intent.description, count=1)
    return Intent(emailed_name(intent.name), description, phrasings, slots, steps, intent.keywords, None)


def _dated(intent: Intent, owned: dict[str, Owned]) -> Intent | None:
    found = _single_id(intent)
    if found is None or found[1] not in owned or "email" in intent.slots:
        return None
    slot, entity = found
    info = owned[entity]
    placeholder = "{" + slot + "}"
    date_slot = f"{entity}_date"
    said = _mention(entity, slot, ("the", "my"))

    def mine(n: int) -> Callable[[re.Match[str]], str]:
        # how people name a record of theirs by its date, one way per phrasing ("my booking of 2025-03-06")
        word = _DATED_BY[n % len(_DATED_BY)]
        return lambda match: f"my {match.group('noun').lower()} {word} {{{date_slot}}} under {{email}}"

    # a question about when the record is answers itself once the record is named by its date
    phrasings = tuple(
        p
        for p in (said.sub(mine(n), p, count=1) for n, p in enumerate(intent.phrasings))
        if slot not in p and not _ASKS_WHEN.match(p)
    )
    if not phrasings:
        return None
    steps = (
        ToolStep(info.person_lookup, {"email": "{email}"}),
        ToolStep(info.search, {info.owner: "$prev.id", info.date: "{" + date_slot + "}"}),
        *_found_by_prev(intent.steps, placeholder),
    )
    slots = {"email": "email", date_slot: "date", **{s: kind for s, kind in intent.slots.items() if s != slot}}
    description = said.sub(f"their {entity.replace('_', ' ')} from {{{date_slot}}}", intent.description, count=1)
    return Intent(dated_name(intent.name), description, phrasings, slots, steps, intent.keywords, None)


_DATED_BY = ("from", "of", "from", "dated")
_ASKS_WHEN = re.compile(r"\s*(?:when|what date|which day|what day)\b", re.IGNORECASE)


def _mention(entity: str, slot: str, leads: tuple[str, ...]) -> re.Pattern[str]:
    """How a phrasing names the record by id: "(the) player #{player_id}", "(my) reservation {booking_id}"
    (the entity's word or a synonym, group `noun`)."""
    word = entity.replace("_", " ")
    nouns = sorted({word, *synonyms(word)}, key=len, reverse=True)
    noun = "|".join(re.escape(n) for n in nouns)
    lead = "|".join(rf"{w}\s+" for w in leads)
    return re.compile(rf"\b(?:{lead})?(?P<noun>{noun})\s+(?:#|number\s+|no\.\s*)?\{{{slot}\}}", re.IGNORECASE)


def _single_id(intent: Intent) -> tuple[str, str] | None:
    """(slot, entity) when the intent takes one record's id, in its first step, and later only right after
    a step that fetched that record by it (a change: `get_order_by_id`, then `update_order_status` of it)."""
    ids = [s for s, kind in intent.slots.items() if kind == "int" and s.endswith("_id")]
    if len(ids) != 1 or not intent.steps:
        return None
    placeholder = "{" + ids[0] + "}"
    if placeholder not in intent.steps[0].arguments.values():
        return None
    for before, step in itertools.pairwise(intent.steps):
        if placeholder in step.arguments.values() and before.arguments.get("id") != placeholder:
            return None
    return ids[0], ids[0].removesuffix("_id")


def _found_by_prev(steps: tuple[ToolStep, ...], placeholder: str) -> tuple[ToolStep, ...]:
    """`steps` with the record's id taken from the step before each (the record that step found)."""
    return tuple(
        ToolStep(s.tool, {k: "$prev.id" if v == placeholder else v for k, v in s.arguments.items()}) for s in steps
    )


def _twin(intent: Intent, by_entity: dict[str, tuple[str, str]]) -> Intent | None:
    found = _single_id(intent)  # the id must only start the chain
    if found is None or found[1] not in by_entity:
        return None
    slot, entity = found
    placeholder = "{" + slot + "}"
    name_slot = f"{entity}_name"
    said = _mention(entity, slot, ("the",))
    phrasings = tuple(
        p for p in (said.sub("{" + name_slot + "}", p, count=1) for p in intent.phrasings) if slot not in p
    )
    if not phrasings:
        return None
    search = ToolStep(by_entity[entity][1], {"name": "{" + name_slot + "}"})
    slots = {(name_slot if s == slot else s): ("name" if s == slot else kind) for s, kind in intent.slots.items()}
    return Intent(
        twin_name(intent.name),
        said.sub("{" + name_slot + "}", intent.description, count=1),
        phrasings,
        slots,
        (search, *_found_by_prev(intent.steps, placeholder)),
        intent.keywords,
        None,
    )


def searchable_tables(schema_sql: str) -> dict[str, str]:
    """table -> `search_<table>` for the tables of a schema that have a `name` column."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.executescript(schema_sql)
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            table: f"search_{table}"
            for table in tables
            if any(column[1] == "name" for column in connection.execute(f"PRAGMA table_info({quote_ident(table)})"))
        }
    finally:
        connection.close()


def searchable_by_tools(tools: list[ToolSpec]) -> dict[str, str]:
    """table -> search tool, for the search tools that take a `name` (`search_players(name, ...)`)."""
    return {
        spec.name.removeprefix("search_"): spec.name
        for spec in tools
        if spec.name.startswith("search_") and not spec.writes and "name" in spec.parameters.get("properties", {})
    }


def people_lookups(schema_sql: str) -> dict[str, str]:
    """entity -> `get_<entity>_by_email`, for a schema's people tables with an email column (`patient`)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.executescript(schema_sql)
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            singular(t): f"get_{singular(t)}_by_email"
            for t in tables
            if t in PEOPLE and any(c[1] == "email" for c in connection.execute(f"PRAGMA table_info({quote_ident(t)})"))
        }
    finally:
        connection.close()


def owned_tables(schema_sql: str) -> dict[str, Owned]:
    """entity -> how a person finds their records of it, for a schema's tables owned by a people table
    with an email, that have a date column (`order` -> orders by customer_id and order_date)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.executescript(schema_sql)
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        columns = {
            t: [(c[1], (c[2] or "").upper()) for c in connection.execute(f"PRAGMA table_info({quote_ident(t)})")]
            for t in tables
        }
    finally:
        connection.close()
    owned: dict[str, Owned] = {}
    for table, cols in columns.items():
        names = [c for c, _ in cols]
        dates = [c for c, kind in cols if kind == "DATE" or c.endswith(("_date", "_on"))]
        for column in names:
            person = column.removesuffix("_id") + "s"
            if column.endswith("_id") and person in PEOPLE and "email" in dict(columns.get(person, [])) and dates:
                owned[singular(table)] = Owned(
                    table, column, dates[0], f"get_{singular(person)}_by_email", f"search_{table}"
                )
                break
    return owned
