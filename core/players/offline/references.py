"""How the offline user names a record: by the id an answer showed, else as people know it.

A user knows a record's row id only once the conversation showed it ("order 18", "Kite
(product 17)"); until then they name a player, product or doctor by name, their own order,
booking or visit by its date and their email, and their own account by its email. Each of
these is a twin intent (`naming`) whose chain finds the record first, so the assistant
searches before it answers or changes anything. The email is the one the user's record has
now: after they changed it, the new one.

When to ask for what is the simulator's (`user`); this module only says how the record is named.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from turnloom.core.domains.base import Intent
from turnloom.core.models import ChatMessage, Role
from turnloom.core.players.offline.identity import UserIdentity
from turnloom.core.players.offline.knowledge import DomainKnowledge
from turnloom.core.players.offline.language import format_value, synonyms
from turnloom.core.players.offline.naming import dated_name, emailed_name, paired_name, twin_name
from turnloom.core.players.offline.voice import Voice
from turnloom.core.tools.schema import quote_ident, singular

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONEY = re.compile(r"total|price|amount|fee|fare|cost", re.I)
# how often a request about a named record (a player, a product, a doctor) whose id the user has
# seen still names it rather than its id
BY_NAME_CHANCE = 0.6
# how often a request about one of the user's own records names it by its date and their email
BY_DATE_CHANCE = 0.5


@dataclass
class RecordReferences:
    """The ways the dialogue's user can name a record, given what they know so far."""

    knowledge: DomainKnowledge
    environment: Any  # the dialogue's database (None: only ids)
    person: UserIdentity | None
    messages: list[ChatMessage] = field(default_factory=list)

    def by_name(
        self, intent: Intent, slots: dict, voice: Voice, chance: float = BY_NAME_CHANCE
    ) -> tuple[Intent, dict] | None:
        """The request as made by the record's name, when the pack has a by-name twin and the name is the
        record's alone (always while its id is one the user has not seen, else `chance` of the time)."""
        try:
            twin = self.knowledge.intent(twin_name(intent.name))
        except KeyError:
            return None
        if self.environment is None:
            return None
        (slot,) = [s for s in intent.slots if s not in twin.slots]
        # a record's row id is something the user knows only once the conversation showed it
        if shown(slot.removesuffix("_id"), slots.get(slot), self.messages) and voice.rng.random() >= chance:
            return None
        (name_slot,) = [s for s in twin.slots if s not in intent.slots]
        table = quote_ident(twin.steps[0].tool.removeprefix("search_"))
        try:
            rows = self.environment.query(
                f"SELECT name FROM {table} t WHERE id = :id AND (SELECT COUNT(*) FROM {table} o WHERE o.name = t.name) = 1",
                {"id": slots.get(slot)},
            )
        except Exception:  # a table or column this database lacks: ask by id
            return None
        if not rows or not isinstance(rows[0]["name"], str) or not rows[0]["name"][:1].isupper():
            return None
        return twin, {**{k: v for k, v in slots.items() if k != slot}, name_slot: rows[0]["name"]}

    def among_theirs(self, intent: Intent, slots: dict) -> tuple[Intent, dict, str] | None:
        """(the list of the user's records of that kind by their email, its slots, the kind's plural) for a
        read of one of the user's own records (`order_status` of order 18 -> `orders_by_email`), or None."""
        ids = [s for s in intent.slots if s.endswith("_id")]
        person = self.person
        if len(ids) != 1 or person is None or person.table is None or person.key is None or self.environment is None:
            return None
        entity, record = ids[0].removesuffix("_id"), slots.get(ids[0])
        lookup = f"get_{singular(person.table)}_by_email"
        for listing in self.knowledge.pack.intents:
            steps = listing.steps
            if listing.slots != {"email": "email"} or len(steps) != 2 or steps[0].tool != lookup:
                continue
            table = steps[1].tool.removeprefix(f"get_{singular(person.table)}_")
            owner = [k for k, v in steps[1].arguments.items() if v == "$prev.id"]
            if table == steps[1].tool or singular(table) != entity or len(owner) != 1:
                continue
            try:
                rows = self.environment.query(
                    f"SELECT {quote_ident(owner[0])} AS o FROM {quote_ident(table)} WHERE id = :id", {"id": record}
                )
            except Exception:  # a table or column this database lacks
                return None
            if rows and rows[0]["o"] == person.key:
                return listing, {"email": self.email()}, table.replace("_", " ")
        return None

    def by_names(self, intent: Intent, slots: dict, voice: Voice) -> tuple[Intent, dict] | None:
        """A request about two records by id as people make it: each by its name, the user's own account by
        their email ("Switch the subscriber under ana@… over to Smart Unlimited"), when each name is its
        record's alone; always while an id is one the user has not seen, else `BY_NAME_CHANCE` of the time."""
        try:
            twin = self.knowledge.intent(paired_name(intent.name))
        except KeyError:
            return None
        ids = [s for s in intent.slots if s not in twin.slots]
        if self.environment is None or not ids:
            return None
        if all(shown(s.removesuffix("_id"), slots.get(s), self.messages) for s in ids):
            if voice.rng.random() >= BY_NAME_CHANCE:
                return None
        said = {k: v for k, v in slots.items() if k not in ids}
        for slot in ids:
            entity = slot.removesuffix("_id")
            if f"{entity}_name" in twin.slots:
                name = self._unique_name(twin, entity, slots.get(slot))
                if name is None:
                    return None
                said[f"{entity}_name"] = name
            elif self.person is None or self.person.key is None or slots.get(slot) != self.person.key:
                return None  # someone else's account: not theirs to name by their email
            else:
                said["email"] = self.email()
        return twin, said

    def _unique_name(self, twin: Intent, entity: str, record: object) -> str | None:
        """The record's name when no other record of its table has it (the table the twin searches by name)."""
        search = next((s for s in twin.steps if s.arguments == {"name": f"{{{entity}_name}}"}), None)
        if search is None or self.environment is None:
            return None
        table = quote_ident(search.tool.removeprefix("search_"))
        try:
            rows = self.environment.query(
                f"SELECT name FROM {table} t WHERE id = :id AND (SELECT COUNT(*) FROM {table} o WHERE o.name = t.name) = 1",
                {"id": record},
            )
        except Exception:  # a table or column this database lacks: ask by id
            return None
        if not rows or not isinstance(rows[0]["name"], str) or not rows[0]["name"][:1].isupper():
            return None
        return rows[0]["name"]

    def own_detail(self, intent: Intent, slots: dict) -> tuple[str, str, str] | None:
        """(kind: `date` | `amount`, value, noun) of the one record a request names by id, when it is the
        user's own: what they know of it without being told (when they made it, what it came to)."""
        ids = [s for s in intent.slots if s.endswith("_id")]
        person = self.person
        if len(ids) != 1 or person is None or not person.foreign_key or self.environment is None:
            return None
        entity = ids[0].removesuffix("_id")
        table = self._table_of(entity)
        if table is None:
            return None
        try:
            rows = self.environment.query(
                f"SELECT * FROM {quote_ident(table)} WHERE id = :id AND {quote_ident(person.foreign_key)} = :me",
                {"id": slots.get(ids[0]), "me": person.key},
            )
        except Exception:  # a table or column this database lacks
            return None
        if not rows:
            return None
        row = rows[0]
        noun = entity.replace("_", " ")
        date = next((v for k, v in row.items() if isinstance(v, str) and _DATE.fullmatch(v)), None)
        amount = next((v for k, v in row.items() if _MONEY.search(k) and isinstance(v, (int, float)) and v), None)
        if date is not None and (amount is None or len(str(slots.get(ids[0]))) % 2):
            return "date", date, noun
        return ("amount", format_value(amount), noun) if amount is not None else None

    def _table_of(self, entity: str) -> str | None:
        """The table whose rows are `entity` records, as the pack's tools name it (`get_order_by_id` reads orders)."""
        for intent in self.knowledge.pack.intents:
            for step in intent.steps:
                if step.tool.startswith("search_") and singular(step.tool.removeprefix("search_")) == entity:
                    return step.tool.removeprefix("search_")
        return None

    def email(self) -> str | None:
        """The email the user's record has now: the one they changed it to in this dialogue, if they did."""
        person = self.person
        if person is None or person.table is None:
            return person.email if person is not None else None
        change = f"update_{singular(person.table)}_email"
        email = person.email
        for message in self.messages:
            for call in message.tool_calls:
                if call.name == change:
                    arguments = call.parsed_arguments()
                    if arguments.get("id") == person.key and isinstance(arguments.get("email"), str):
                        email = arguments["email"]
        return email

    def by_email(self, intent: Intent, slots: dict) -> tuple[Intent, dict] | None:
        """The request about the user's own person record as they know it, by their email ("the patient
        under ana@…", or "my" once they gave it; never "patient 2")."""
        try:
            twin = self.knowledge.intent(emailed_name(intent.name))
        except KeyError:
            return None
        person = self.person
        (slot,) = [s for s in intent.slots if s not in twin.slots]
        if person is None or not person.email or person.key is None or slots.get(slot) != person.key:
            return None
        # (even once the conversation showed their id: one says "my phone", not "the phone of patient 2")
        return twin, {**{k: v for k, v in slots.items() if k != slot}, "email": self.email()}

    def own_lookup(self, intent: Intent, slots: dict) -> tuple[Intent, dict] | None:
        """A look-up of the user's own person record by id ("patient 2") as the pack's look-up of them by
        email (for a check of a change to it: "what do you have on file for me now?")."""
        person = self.person
        if len(intent.steps) != 1 or len(slots) != 1 or person is None or person.key is None or not person.email:
            return None
        tool = intent.steps[0].tool
        if list(slots.values()) != [person.key] or not (tool.startswith("get_") and tool.endswith("_by_id")):
            return None
        wanted = [tool.removesuffix("_by_id") + "_by_email"]
        for other in self.knowledge.pack.intents:
            if other.slots == {"email": "email"} and [s.tool for s in other.steps] == wanted:
                return other, {"email": self.email()}
        return None

    def by_date(
        self, intent: Intent, slots: dict, voice: Voice, chance: float = BY_DATE_CHANCE
    ) -> tuple[Intent, dict] | None:
        """The request about one of the user's own records as they know it: by its date and their email
        ("my order from 2025-06-13 under ana@example.com"), when it is their only one of that date and the
        dialogue has not changed it (`BY_DATE_CHANCE` of the time)."""
        try:
            twin = self.knowledge.intent(dated_name(intent.name))
        except KeyError:
            return None
        person = self.person
        if self.environment is None or person is None or person.key is None or not person.email:
            return None
        if voice.rng.random() >= chance:
            return None
        (slot,) = [s for s in intent.slots if s not in twin.slots]
        search = twin.steps[1]
        owner = next(k for k, v in search.arguments.items() if v == "$prev.id")
        column = next(k for k in search.arguments if k != owner)
        record = slots.get(slot)
        entity = slot.removesuffix("_id")
        if any(
            c.name.startswith(("update_", "delete_"))
            and entity in c.name
            and f'"id": {record}' in c.arguments
            and (c.name.startswith("delete_") or f'"{column}"' in c.arguments)
            for m in self.messages
            for c in m.tool_calls
        ):
            return None  # its date changed in this dialogue: the date the user remembers is gone
        table, owner_q, column_q = (quote_ident(x) for x in (search.tool.removeprefix("search_"), owner, column))
        try:
            rows = self.environment.query(
                f"SELECT t.{column_q} AS d FROM {table} t WHERE t.id = :id AND t.{owner_q} = :me AND "
                f"(SELECT COUNT(*) FROM {table} o WHERE o.{owner_q} = t.{owner_q} AND o.{column_q} = t.{column_q}) = 1",
                {"id": record, "me": person.key},
            )
        except Exception:  # a table or column this database lacks: ask by id
            return None
        if not rows or not isinstance(rows[0]["d"], str):
            return None
        rest = {k: v for k, v in slots.items() if k != slot}
        date_slot = next(s for s in twin.slots if s.endswith("_date") and s not in intent.slots)
        return twin, {**rest, "email": self.email(), date_slot: rows[0]["d"]}


def seen_detail(intent: Intent, slots: dict, messages: list[ChatMessage]) -> str | None:
    """A detail of the record a request names by id that an earlier answer stated (its date, city or name).

    The user recalls it to say which record they mean ("the one from 2025-05-27"), as people
    do when they have just seen a list.
    """
    ids = [(name[:-3], slots[name]) for name, kind in intent.slots.items() if kind == "int" and name.endswith("_id")]
    if not ids:
        return None
    entity, value = ids[0]
    answers = " ".join(m.text for m in messages if m.role is Role.ASSISTANT and m.content).lower()
    for message in reversed(messages):
        tool = message.name or ""
        if message.role is not Role.TOOL or not (
            singular(tool.split("_")[-1]) == entity or tool.startswith(f"get_{entity}_by_")
        ):
            continue
        try:
            result = json.loads(message.content or "null")
        except json.JSONDecodeError:
            continue
        rows = result if isinstance(result, list) else [result]
        for row in rows:
            if isinstance(row, dict) and row.get("id") == value and "email" not in row:  # not a person
                for key, field in row.items():
                    text = str(field)
                    if key in ("status", "email") or key.endswith("_id") or not isinstance(field, str) or len(text) < 4:
                        continue
                    if text.lower() in answers:
                        return text
    return None


def said_in(entity: str, record: object, texts: list[str]) -> bool:
    """Whether one of `texts` names the record by its id ("visit number 24")."""
    return record is not None and any(_id_mention(entity, str(record)).search(t) for t in texts)


def shown(entity: str, record: object, messages: list[ChatMessage]) -> bool:
    """Whether a user or assistant text of the dialogue named the record by its id ("product 17", "order #18")."""
    if record is None:
        return False
    said = _id_mention(entity, str(record))
    return any(m.role in (Role.USER, Role.ASSISTANT) and m.content and said.search(m.content) for m in messages)


@functools.lru_cache(maxsize=1024)
def _id_mention(entity: str, record: str) -> re.Pattern[str]:
    nouns = "|".join(re.escape(n) for n in sorted({entity.replace("_", " "), *synonyms(entity.replace("_", " "))}))
    return re.compile(rf"\b(?:{nouns})s?\s+(?:#|no\.\s*|number\s+)?{re.escape(record)}\b", re.I)
