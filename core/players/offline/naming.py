"""Asking by name: every request about a record by its id can also be made by the record's name.

A user knows a player, a product, a plan or a doctor by name, not by a row id. For each
intent that takes one record's id (`{player_id}`) in its first step only, and whose table
can be searched by `name`, the pack gets a twin intent that takes the name instead: the
assistant first finds the record (`search_players(name=...)`), then runs the intent's chain
on the id it found. "How has Tiago Henriques been doing this season?" is two steps where
"How has player 19 been doing?" was one. People who are users of the system (customers,
passengers, patients, subscribers) are not looked up by name: they give their email.

The twin is named `<intent>__by_name`; its slot is `<entity>_name`.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace

from turnloom.core.domains.base import DomainPack, Intent, ToolStep
from turnloom.core.models import ToolSpec
from turnloom.core.players.offline.identity import PEOPLE
from turnloom.core.players.offline.language import synonyms
from turnloom.core.tools.schema import quote_ident, singular

SUFFIX = "__by_name"


def twin_name(intent: str) -> str:
    return intent + SUFFIX


def with_name_twins(pack: DomainPack, searchable: dict[str, str]) -> DomainPack:
    """`pack` with a by-name twin for each intent about one record of a `searchable` table.

    Args:
        searchable: table -> its search tool that takes a `name` (`players` -> `search_players`).
    """
    by_entity = {singular(table): (table, tool) for table, tool in searchable.items() if table not in PEOPLE}
    twins = [t for t in (_twin(intent, by_entity) for intent in pack.intents) if t is not None]
    return replace(pack, intents=pack.intents + tuple(twins)) if twins else pack


def _twin(intent: Intent, by_entity: dict[str, tuple[str, str]]) -> Intent | None:
    ids = [s for s, kind in intent.slots.items() if kind == "int" and s.endswith("_id")]
    if len(ids) != 1 or not intent.steps:
        return None
    slot = ids[0]
    entity = slot.removesuffix("_id")
    if entity not in by_entity:
        return None
    placeholder = "{" + slot + "}"
    first, rest = intent.steps[0], intent.steps[1:]
    if placeholder not in first.arguments.values() or any(placeholder in s.arguments.values() for s in rest):
        return None  # the id must only start the chain
    name_slot = f"{entity}_name"
    nouns = {entity.replace("_", " "), *synonyms(entity.replace("_", " "))}
    noun = "|".join(re.escape(n) for n in sorted(nouns, key=len, reverse=True))
    said = re.compile(rf"\b(?:the\s+)?(?:{noun})\s+(?:#|number\s+|no\.\s*)?\{{{slot}\}}", re.IGNORECASE)
    phrasings = tuple(
        p for p in (said.sub("{" + name_slot + "}", p, count=1) for p in intent.phrasings) if slot not in p
    )
    if not phrasings:
        return None
    search = ToolStep(by_entity[entity][1], {"name": "{" + name_slot + "}"})
    found = ToolStep(first.tool, {k: "$prev.id" if v == placeholder else v for k, v in first.arguments.items()})
    slots = {(name_slot if s == slot else s): ("name" if s == slot else kind) for s, kind in intent.slots.items()}
    return Intent(
        twin_name(intent.name),
        said.sub("{" + name_slot + "}", intent.description, count=1),
        phrasings,
        slots,
        (search, found, *rest),
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
