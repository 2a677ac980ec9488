"""What the offline roles know about a domain: its pack, and a parser for its phrasings.

Built-in domains have hand-written packs; any other database gets a pack derived
from its tools (`generic`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache

from turnloom.core.domains.base import DomainPack, Intent, ToolStep
from turnloom.core.errors import TurnloomError
from turnloom.core.models import Session
from turnloom.core.players.offline.language import RequestParser
from turnloom.core.players.offline.naming import (
    owned_tables,
    people_lookups,
    searchable_by_tools,
    searchable_tables,
    with_date_twins,
    with_email_twins,
    with_name_twins,
    with_pair_twins,
)
from turnloom.core.tools.schema import singular


@dataclass
class DomainKnowledge:
    pack: DomainPack
    parser: RequestParser = field(init=False)

    def __post_init__(self) -> None:
        self.parser = RequestParser(self.pack)

    def intent(self, name: str) -> Intent:
        return self.pack.intent(name)

    def writes(self, intent: Intent, session: Session) -> bool:
        """Whether the intent's chain changes data."""
        for step in intent.steps:
            spec = session.tool(step.tool)
            if spec is not None and spec.writes:
                return True
        return False


def knowledge_for(session: Session, environment=None) -> DomainKnowledge:
    """The domain knowledge for a session: its built-in pack, or one derived from its tools."""
    from turnloom.core.domains import pack_names

    if session.db_path is None and session.domain in pack_names():
        return _builtin_knowledge(session.domain)
    from turnloom.core.players.offline.generic import derive_pack

    return DomainKnowledge(
        ending_at_the_search(with_name_twins(derive_pack(session, environment), searchable_by_tools(session.tools)))
    )


def knowledge_or_none(session: Session, environment=None) -> DomainKnowledge | None:
    """The knowledge of the session's domain, or None when it cannot be had (the rule checks' source)."""
    try:
        return knowledge_for(session, environment)
    except (TurnloomError, KeyError, ValueError):
        return None


@cache
def _builtin_knowledge(domain: str) -> DomainKnowledge:
    # a built-in pack is a module constant and its parser only reads it, so every dialogue of
    # a domain can share one (compiling its phrasings is ~1 ms; a batch did it twice per dialogue)
    from turnloom.core.domains import get_pack

    pack = get_pack(domain)
    named = with_name_twins(pack, searchable_tables(pack.schema_sql))
    dated = with_date_twins(named, owned_tables(pack.schema_sql))
    people = people_lookups(pack.schema_sql)
    paired = with_pair_twins(dated, searchable_tables(pack.schema_sql), people)
    return DomainKnowledge(ending_at_the_search(with_email_twins(paired, people)))


def ending_at_the_search(pack: DomainPack) -> DomainPack:
    """`pack` with each request that finds a record by a search and then only reads that record by id
    ("my invoice from 2025-07-01": the subscriber, their invoice of that date, then invoice 20) ending at
    the search: it returned the record, every field of it, so reading it again tells nothing new (the
    search serves the request: `domains.progress.found_by_search`)."""
    changed = False
    intents = []
    for intent in pack.intents:
        steps = intent.steps
        if len(steps) >= 2 and _reads_what_the_search_found(steps[-2], steps[-1]):
            intent = replace(intent, steps=steps[:-1])
            changed = True
        intents.append(intent)
    return replace(pack, intents=tuple(intents)) if changed else pack


def _reads_what_the_search_found(search: ToolStep, lookup: ToolStep) -> bool:
    table = search.tool.removeprefix("search_")
    return (
        search.tool.startswith("search_")
        and lookup.tool == f"get_{singular(table)}_by_id"
        and lookup.arguments == {"id": "$prev.id"}
    )
