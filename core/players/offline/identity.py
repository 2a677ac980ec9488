"""Who the offline user is: one person per dialogue, drawn from the database.

The person is a row of the table that other tables point at and that holds a
name and an email (customers, passengers, patients, subscribers), chosen among
the rows that something points at (a customer with orders), by the dialogue's
seed. Where the schema has no such table the user is a persona with a name and
an email of their own. The draw is a pure function of the seed and the rows, so
the task generator and the user simulator find the same person without passing
it around, and a replay finds it again.

What the person asks for is the task generator's (`tasks`: templates pick their
records through `:user_id`); how they introduce themselves is the voice's.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from dataclasses import dataclass, field
from typing import Any

from turnloom.core.domains.base import Intent
from turnloom.core.models import ToolSpec

PEOPLE = ("customers", "passengers", "patients", "subscribers", "users", "members", "clients", "guests", "students")
NAME_COLUMNS = ("name", "full_name", "customer_name", "display_name")
EMAIL_COLUMNS = ("email", "email_address", "mail")
# columns of a person's row they may mention about themselves, and what each says
_FACT_COLUMNS = {
    "city": "city",
    "home_city": "city",
    "tier": "tier",
    "loyalty_tier": "tier",
    "joined_on": "since",
    "activated_on": "since",
    "member_since": "since",
}
PERSONA_FIRST = ("Alex", "Maria", "Sam", "Priya", "Jonas", "Lea", "Tomás", "Aiko", "Nadia", "Oscar", "Ruth", "Kemal")
PERSONA_LAST = ("Ferreira", "Lindqvist", "Okoye", "Brandt", "Moreno", "Sato", "Keller", "Varga", "Nolan", "Duarte")


@dataclass(frozen=True)
class UserIdentity:
    """The person behind the user turns.

    Attributes:
        name, email: how they sign and how the system knows them.
        table: the table their row is in (None for a persona).
        key: their row's id; `foreign_key` is what other tables call it (`customer_id`).
        row: their row, column -> value.
    """

    name: str
    email: str
    table: str | None = None
    key: Any = None
    foreign_key: str | None = None
    row: dict[str, Any] = field(default_factory=dict)

    def facts(self) -> tuple[tuple[str, str], ...]:
        """What the person may say about themselves, from their row: (`city` | `tier` | `since`, value)."""
        found: list[tuple[str, str]] = []
        for column, value in self.row.items():
            if not isinstance(value, str) or not value.strip():
                continue
            kind = _FACT_COLUMNS.get(column.lower())
            if kind == "tier" and value.lower() in ("none", "standard", "basic"):
                continue  # nothing one mentions
            if kind is not None and all(k != kind for k, _ in found):
                found.append((kind, value.replace("_", " ")))
        return tuple(found)

    def identifiers(self) -> frozenset[str]:
        """What identifies the person, lower-cased: their name, email and phone (what they never echo back)."""
        found = {self.name.lower(), self.email.lower()}
        for column, value in self.row.items():
            if isinstance(value, str) and value.strip() and ("phone" in column.lower() or "email" in column.lower()):
                found.add(value.lower())
        return frozenset(found)

    def slots(self) -> dict[str, Any]:
        """Slot values a task can take from the person: `user_id`, their key by its foreign-key name, email, name."""
        slots: dict[str, Any] = {"user_name": self.name, "user_email": self.email}
        if self.key is not None:
            slots["user_id"] = self.key
            if self.foreign_key:
                slots[self.foreign_key] = self.key
        return slots


def draw_identity(environment: Any, seed: object) -> UserIdentity:
    """The dialogue's person: a row of the people table drawn by `seed`, or a persona."""
    table = people_table(environment)
    if table is not None:
        name_table, key, name_col, email_col, foreign_key, referrers = table
        referenced = " OR ".join(f'EXISTS (SELECT 1 FROM "{t}" r WHERE r."{c}" = p."{key}")' for t, c in referrers)
        rows = environment.query(
            f'SELECT p.* FROM "{name_table}" p WHERE p."{email_col}" IS NOT NULL AND ({referenced}) ORDER BY p."{key}"'
        )
        if rows:
            row = min(rows, key=lambda r: _digest(seed, r[key]))
            return UserIdentity(str(row[name_col]), str(row[email_col]), name_table, row[key], foreign_key, dict(row))
    rng = random.Random(f"{seed}:persona-name")
    first, last = rng.choice(PERSONA_FIRST), rng.choice(PERSONA_LAST)
    email = f"{first.lower().replace('á', 'a')}.{last.lower()}@example.com"
    return UserIdentity(f"{first} {last}", email)


def people_table(environment: Any) -> tuple[str, str, str, str, str, list[tuple[str, str]]] | None:
    """(table, key column, name column, email column, foreign-key name, [(referring table, column)]) or None.

    Foreign keys are read from the tables' CREATE statements (the read-only
    connection refuses pragmas).
    """
    try:
        schema = environment.query("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    except Exception:  # a database the offline roles cannot inspect: a persona will do
        return None
    inbound: dict[str, list[tuple[str, str, str]]] = {}
    for entry in schema:
        for column, target, target_column in _foreign_keys(entry["sql"] or ""):
            inbound.setdefault(target.lower(), []).append((entry["name"], column, target_column))
    best: tuple[tuple[int, int], tuple[str, str, str, str, str, list[tuple[str, str]]]] | None = None
    for entry in schema:
        table = entry["name"]
        refs = inbound.get(table.lower())
        if not refs:
            continue
        columns = {c.lower(): c for c in _columns(entry["sql"] or "")}
        name = next((columns[c] for c in NAME_COLUMNS if c in columns), None)
        email = next((columns[c] for c in EMAIL_COLUMNS if c in columns), None)
        if name is None or email is None:
            continue
        rank = (int(table.lower() in PEOPLE), len(refs))
        if best is None or rank > best[0]:
            best = (rank, (table, refs[0][2], name, email, refs[0][1], [(t, c) for t, c, _ in refs]))
    return best[1] if best else None


_IDENT = r'"?([\w ]+?)"?'
_INLINE_FK = re.compile(rf"^\s*{_IDENT}\s+[^,]*?\bREFERENCES\s+{_IDENT}\s*\(\s*{_IDENT}\s*\)", re.I | re.M)
_TABLE_FK = re.compile(rf"FOREIGN\s+KEY\s*\(\s*{_IDENT}\s*\)\s*REFERENCES\s+{_IDENT}\s*\(\s*{_IDENT}\s*\)", re.I)
_COLUMN = re.compile(r'^\s*"?(\w+)"?\s+\w+', re.M)
_NOT_COLUMNS = {"primary", "foreign", "unique", "check", "constraint"}


# parsed once per CREATE statement in a process: every dialogue draws its person from the same schema
@functools.lru_cache(maxsize=512)
def _foreign_keys(create_sql: str) -> tuple[tuple[str, str, str], ...]:
    body = create_sql[create_sql.find("(") + 1 :]
    found = [(m.group(1), m.group(2), m.group(3)) for m in _TABLE_FK.finditer(body)]
    for line in body.split(","):
        match = _INLINE_FK.search(line)
        if match and match.group(1).lower() not in _NOT_COLUMNS:
            found.append((match.group(1), match.group(2), match.group(3)))
    return tuple(found)


@functools.lru_cache(maxsize=512)
def _columns(create_sql: str) -> tuple[str, ...]:
    body = create_sql[create_sql.find("(") + 1 :]
    return tuple(m.group(1) for m in _COLUMN.finditer(body) if m.group(1).lower() not in _NOT_COLUMNS)


def _digest(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


_LIST_SQL = re.compile(
    r'^\s*SELECT\s+(.*?)\s+FROM\s+"?(\w+)"?\s+WHERE\s+"?(\w+)"?\s*=\s*:\w+\s+(?:ORDER|LIMIT|$)', re.I | re.S
)


@functools.lru_cache(maxsize=1024)
def lists_others(sql: str) -> bool:
    """Whether a list tool's SQL shows other people's records: rows of a people table, or of a table a
    person owns (`patient_id`), picked by something that is not their owner (a doctor's calendar lists
    every patient's visits; a plan's subscribers are people). Such a list is not the user's to ask for.
    """
    match = _LIST_SQL.match(sql)
    if match is None:
        return False
    columns = {c.strip().strip('"').lower() for c in match.group(1).split(",")}
    table, key = match.group(2).lower(), match.group(3).lower()
    owners = {c for c in columns if c.endswith("_id") and c.removesuffix("_id") + "s" in PEOPLE}
    if table in PEOPLE:
        owners.add("id")
    return bool(owners) and key not in owners and key != "id"


def shows_others(intent: Intent, tools: dict[str, ToolSpec]) -> bool:
    """Whether an intent's chain lists other people's records (`lists_others`)."""
    for step in intent.steps:
        spec = tools.get(step.tool)
        if spec is not None and spec.sql and spec.returns == "many" and lists_others(spec.sql):
            return True
    return False
