"""A domain pack derived from any database's tools, for the offline roles.

Built-in domains come with hand-written phrasings and task templates; a
user-supplied SQLite file has only its derived tools. This module writes a pack
for it: lookups by key, lookups by unique fields, listings and summaries along
foreign keys, and updates of plain columns (with values drawn from the column's
own data), plus task templates at every difficulty that chain them. Its
phrasings speak of records the way a person would: the nouns come from the
tables' and columns' own names (`nouns`), never the raw identifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from turnloom.core.domains.base import DomainPack, Intent, TaskTemplate, ToolStep
from turnloom.core.models import Difficulty, Session, ToolSpec
from turnloom.core.players.offline.identity import PEOPLE
from turnloom.core.players.offline.nouns import Noun, field_phrase, noun_of, split_words, vocabulary_of

_FROM_WHERE = re.compile(r'FROM\s+("(?:[^"]|"")+"|\w+)\s+WHERE\s+("(?:[^"]|"")+"|\w+)\s*=\s*:(\w+)', re.I)
_UPDATE = re.compile(r'UPDATE\s+("(?:[^"]|"")+"|\w+)\s+SET\s+("(?:[^"]|"")+"|\w+)\s*=', re.I)
_FROM = re.compile(r'FROM\s+("(?:[^"]|"")+"|\w+)', re.I)
_QUOTED = re.compile(r'(?<!AS )"((?:[^"]|"")+)"')  # tables and columns, not the aliases the forge made


def _unquote(identifier: str) -> str:
    return identifier[1:-1].replace('""', '"') if identifier.startswith('"') else identifier


def _label(column: str, vocabulary: frozenset[str]) -> str:
    """A column as a person names it: ``EmailAddress`` -> "email address", ``is_default`` -> "default flag"."""
    words = split_words(column, vocabulary)
    if len(words) > 1 and words[0] in ("is", "has"):
        words = [*words[1:], "flag"]
    return field_phrase(" ".join(words))  # "opened on" -> "opening date"


def _slot_for(noun: Noun, param: str, vocabulary: frozenset[str]) -> str:
    """A slot name from the entity's words and the key's: invoice + ``invoiceid`` -> ``invoice_id``."""
    entity = noun.one.split()
    key = split_words(param, vocabulary)
    if key[: len(entity)] == entity:
        key = key[len(entity) :]
    elif key[:1] == entity[-1:]:
        key = key[1:]
    return "_".join(entity + (key or ["id"]))


@dataclass
class _Entity:
    name: str  # singular, as the tool names spell it, e.g. "invoiceline"
    table: str  # quoted identifier as the forge wrote it
    key_param: str
    key_column: str
    slot: str
    slot_type: str
    noun: Noun  # as a person says it, e.g. "invoice line" / "invoice lines"


def _slot_type(schema: dict) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "integer":
        return "int"
    if kind == "number":
        return "float"
    if schema.get("format") == "date":
        return "date"
    return "word"


def _value_type(name: str, schema: dict) -> str:
    kind = _slot_type(schema)
    if kind != "word" or "enum" in schema:
        return kind
    return "email" if "email" in name else "text"


def derive_pack(session: Session, environment=None) -> DomainPack:
    """A pack of intents and task templates for `session`'s own tools.

    Args:
        environment: the dialogue's ToolEnvironment, used to draw realistic new values
            for updates from the columns' existing data (optional).
    """
    tools = {t.name: t for t in session.tools}
    vocabulary = vocabulary_of(_unquote(f'"{q}"') for t in session.tools for q in _QUOTED.findall(t.sql or ""))
    entities: dict[str, _Entity] = {}
    intents: list[Intent] = []
    templates: list[TaskTemplate] = []
    for spec in session.tools:
        if spec.name.startswith("get_") and "_by_" in spec.name and spec.returns == "one" and spec.sql:
            entity = spec.name[4 : spec.name.index("_by_")]
            match = _FROM_WHERE.search(spec.sql)
            if match is None:
                continue
            param = match.group(3)
            prop = spec.parameters["properties"].get(param, {})
            if entity not in entities:
                noun = noun_of(_unquote(match.group(1)), vocabulary)
                slot = _slot_for(noun, param, vocabulary)
                entities[entity] = _Entity(entity, match.group(1), param, match.group(2), slot, _slot_type(prop), noun)
                e = entities[entity]
                intents.append(_lookup(spec, e))
            else:
                field = _label(_unquote(match.group(2)), vocabulary)
                intents.append(_lookup_by(spec, entities[entity], param, field, _value_type(param, prop)))
    for spec in session.tools:
        if spec.returns == "many" and not spec.name.startswith("search_") and spec.sql:
            parent = _parent_of(spec, entities)
            if parent is not None:
                children = _children(spec, vocabulary)
                intents.append(_foreign_key_intent(spec, parent, children, summary=False))
                summary = tools.get(f"{spec.name}_summary")
                if summary is not None:
                    intents.append(_foreign_key_intent(summary, parent, children, summary=True))
        elif spec.name.startswith("update_") and spec.sql:
            update = _update(spec, entities, environment, vocabulary, set(tools))
            if update is not None:
                intents.append(update[0])
                templates.append(update[1])
    templates += _templates(entities, intents)
    return DomainPack(
        name=session.domain,
        title=session.domain,
        description=f"Derived from {session.db_path}",
        schema_sql="",
        populate=lambda conn, rng: None,
        intents=tuple(intents),
        templates=tuple(templates),
    )


def _lookup(spec: ToolSpec, e: _Entity) -> Intent:
    noun = e.noun.one
    slot = f"{{{e.slot}}}"
    return Intent(
        name=f"lookup_{e.name}",
        description=f"look up {noun} {slot}",
        phrasings=(
            f"Can you look up {noun} {slot}?",
            f"Please show me the details of {noun} {slot}.",
            f"What do you have on {noun} {slot}?",
        ),
        slots={e.slot: e.slot_type},
        steps=(ToolStep(spec.name, {e.key_param: slot}),),
        keywords=(noun, "details", "look up"),
    )


def _lookup_by(spec: ToolSpec, e: _Entity, param: str, field: str, kind: str) -> Intent:
    noun = e.noun.one
    slot = "_".join([*noun.split(), *field.split()])
    return Intent(
        name=f"find_{e.name}_by_{param}",
        description=f"find the {noun} whose {field} is {{{slot}}}",
        phrasings=(
            f"Can you find the {noun} whose {field} is {{{slot}}}?",
            f"Which {noun} has the {field} {{{slot}}}?",
        ),
        slots={slot: kind},
        steps=(ToolStep(spec.name, {param: f"{{{slot}}}"}),),
        keywords=(field,),
    )


def _parent_of(spec: ToolSpec, entities: dict[str, _Entity]) -> _Entity | None:
    required = [p for p in spec.parameters.get("required", []) if p != "limit"]
    if len(required) != 1:
        return None
    for name in sorted(entities, key=len, reverse=True):
        if spec.name.startswith(f"get_{name}_"):
            return entities[name]
    return None


def _children(spec: ToolSpec, vocabulary: frozenset[str]) -> str:
    """The listed records, plural: the table the listing reads (``invoiceline`` -> "invoice lines")."""
    match = _FROM.search(spec.sql or "")
    return noun_of(_unquote(match.group(1)) if match else spec.name, vocabulary).many


def _foreign_key_intent(spec: ToolSpec, parent: _Entity, children: str, summary: bool) -> Intent:
    """Listing (or summarising, for `_summary` tools) the children of one parent record."""
    fk = [p for p in spec.parameters["required"] if p != "limit"][0]
    noun, slot = parent.noun.one, f"{{{parent.slot}}}"
    if summary:
        name, description = f"summarise_{spec.name[4:]}", f"get a summary of the {children} of {noun} {slot}"
        phrasings = (
            f"Can you summarise the {children} of {noun} {slot}?",
            f"Give me totals for the {children} of {noun} {slot}.",
        )
        keywords: tuple[str, ...] = ("summary", "totals")
    else:
        name, description = f"list_{spec.name[4:]}", f"list the {children} of {noun} {slot}"
        phrasings = (f"Which {children} does {noun} {slot} have?", f"Please list the {children} for {noun} {slot}.")
        keywords = (children, children.split()[-1])
    return Intent(
        name=name,
        description=description,
        phrasings=phrasings,
        slots={parent.slot: parent.slot_type},
        steps=(ToolStep(spec.name, {fk: slot}),),
        keywords=keywords,
    )


# a person's new address, written for the person making the change (as the built-in packs do)
OWN_EMAILS = (
    "{user_first}.{user_last}@mailbox.org",
    "{user_first}{user_last}@inbox.example",
    "{user_first}.{user_last}@fastmail.example",
)


def _update(
    spec: ToolSpec, entities: dict[str, _Entity], environment, vocabulary: frozenset[str], tools: set[str]
) -> tuple[Intent, TaskTemplate] | None:
    match = _UPDATE.search(spec.sql or "")
    entity = next(
        (e for n, e in sorted(entities.items(), key=lambda i: -len(i[0])) if spec.name.startswith(f"update_{n}_")), None
    )
    if match is None or entity is None:
        return None
    field = spec.name[len(f"update_{entity.name}_") :]
    prop = spec.parameters["properties"].get(field, {})
    if field.endswith("_id") or field == entity.key_param:
        return None  # re-pointing keys makes poor tasks
    people = _unquote(entity.table).lower() in PEOPLE
    unique = f"get_{entity.name}_by_{field}" in tools  # a column that looks records up holds no value twice
    if unique and not (people and "email" in field):
        return None  # a new code or number would have to be made up: no task changes it
    pool: tuple = OWN_EMAILS if unique else tuple(prop.get("enum", ()))
    if not pool and environment is not None:
        try:
            rows = environment.query(
                f"SELECT DISTINCT {match.group(2)} AS v FROM {match.group(1)} WHERE {match.group(2)} IS NOT NULL LIMIT 8"
            )
        except Exception:
            rows = []
        pool = tuple(r["v"] for r in rows)
    if not pool:
        return None
    kind = _value_type(field, prop)
    if kind == "word":
        kind = "text" if any(" " in str(v) for v in pool) else "word"
    label = _label(_unquote(match.group(2)), vocabulary)
    new = "new_" + "_".join(label.split())
    noun, slot = entity.noun.one, f"{{{entity.slot}}}"
    intent = Intent(
        name=f"change_{entity.name}_{field}",
        description=f"change the {label} of {noun} {slot} to {{{new}}}",
        phrasings=(
            f"Please change the {label} of {noun} {slot} to {{{new}}}.",
            f"Could you set the {label} for {noun} {slot} to {{{new}}}?",
        ),
        slots={entity.slot: entity.slot_type, new: kind},
        steps=(ToolStep(spec.name, {entity.key_param: slot, field: f"{{{new}}}"}),),
        keywords=(label, "change"),
        verify=f"lookup_{entity.name}",
    )
    template = TaskTemplate(
        name=f"update_{entity.name}_{field}",
        difficulty=Difficulty.HARD,
        goal=f"You want to review {noun} {slot} and change its {label} to {{{new}}}.",
        # a person changes their own record, not another member's
        sample_sql=f"SELECT {entity.key_column} AS {entity.slot} FROM {entity.table}"
        + (f" WHERE {entity.key_column} = :user_id" if people else ""),
        intents=(f"lookup_{entity.name}", intent.name),
        values={new: pool},
    )
    return intent, template


def _templates(entities: dict[str, _Entity], intents: list[Intent]) -> list[TaskTemplate]:
    by_name = {i.name: i for i in intents}
    templates = []
    for e in entities.values():
        sample = f"SELECT {e.key_column} AS {e.slot} FROM {e.table}"
        noun = e.noun.one
        templates.append(
            TaskTemplate(
                f"check_{e.name}",
                Difficulty.EASY,
                f"You want the details of {noun} {{{e.slot}}}.",
                sample,
                (f"lookup_{e.name}",),
            )
        )
        related = [
            i.name for i in intents if i.name.startswith(("list_", "summarise_")) and i.slots == {e.slot: e.slot_type}
        ]
        if related:
            templates.append(
                TaskTemplate(
                    f"review_{e.name}",
                    Difficulty.MEDIUM,
                    f"You want to review {noun} {{{e.slot}}} and what belongs to it.",
                    sample,
                    (f"lookup_{e.name}", *related[:2]),
                )
            )
    return [t for t in templates if all(name in by_name for name in t.intents)]
