"""Plausible values for a field the simulated world has to invent, by the field's name and schema.

The offline tool simulator invents a value only when its world has none: a
record of a table the database does not hold, or a field a create left out.
A value comes, in order, from the field's enum, from the domain's own data (the
distinct values of same-named columns in the dialogue's database, `pools`), and
then from the field's meaning as its name tells it (emails, names, phone
numbers, cities, statuses, dates near the reference time, prices, counts).
Every draw goes through the caller's `random.Random`, so the caller decides
what a value is keyed on. Keeping records consistent is left to `world`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

FIRST_NAMES = (
    "Ana", "Ben", "Chloe", "Dev", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kofi", "Lena", "Mateo",
    "Nadia", "Omar", "Priya", "Rosa", "Sven", "Tomas", "Yara",
)  # fmt: skip
LAST_NAMES = (
    "Lopez", "Okafor", "Schmidt", "Tanaka", "Rossi", "Novak", "Haddad", "Silva", "Kowalski", "Moreau",
    "Ibrahim", "Jensen", "Costa", "Nguyen",
)  # fmt: skip
CITIES = ("Lisbon", "Lyon", "Porto", "Seville", "Utrecht", "Graz", "Bologna", "Krakow", "Ghent", "Aarhus")
COUNTRIES = ("Portugal", "France", "Spain", "Netherlands", "Austria", "Italy", "Poland", "Belgium", "Denmark")
STREETS = ("Oak Street", "Harbour Road", "Mill Lane", "Station Avenue", "Park Row", "Church Street")
STATUSES = ("active", "pending", "completed", "cancelled")
ADJECTIVES = ("Classic", "Compact", "Deluxe", "Essential", "Premium", "Standard", "Travel", "Everyday")
THINGS = ("Kit", "Set", "Pack", "Plan", "Bundle", "Edition", "Series", "Collection")
NOTES = (
    "Requested by phone.",
    "Customer prefers email contact.",
    "Follow up next week.",
    "Checked and confirmed.",
    "Priority handling requested.",
)
_PERSON_ENTITIES = re.compile(
    r"customer|passenger|patient|subscriber|user|employee|member|person|people|client|guest|student|staff|"
    r"doctor|player|driver|author|artist|contact|agent|owner"
)
_MONEY = re.compile(r"price|amount|total|cost|fee|balance|salary|revenue|charge|fare|payment|spent|budget")
_COUNT = re.compile(r"quantity|qty|count|stock|seats|units|number_of|capacity|nights|minutes|duration")
_CODE = re.compile(r"sku|code|number|ref|reference|serial|plate|iata|flight_no|confirmation")


def invent(
    name: str,
    schema: Mapping[str, object],
    rng: random.Random,
    *,
    entity: str = "",
    reference: datetime | None = None,
    pools: Mapping[str, Sequence[object]] | None = None,
) -> object:
    """A plausible value for field `name` of a record of `entity`.

    Args:
        name: the field, e.g. ``email``, ``status``, ``unit_price``, ``departure_date``.
        schema: the field's JSON Schema (type, format, enum).
        rng: the draw; the caller keys it (same key, same value).
        entity: what the record is, e.g. ``customer``: a person's ``name`` is a person's name.
        reference: the dialogue's reference time; dates fall within two months of it.
        pools: column name -> values the domain's data holds for it.

    Returns:
        A value of the schema's type (None only for a null-only schema).
    """
    low = name.lower()
    kind = _kind(schema)
    enum = schema.get("enum")
    if isinstance(enum, list) and any(v is not None for v in enum):
        return rng.choice([v for v in enum if v is not None])
    pool = (pools or {}).get(name)
    if pool:
        return rng.choice(list(pool))
    if kind == "null":
        return None
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "number"):
        return _number(low, kind, rng)
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return _text(low, schema, rng, entity, reference or datetime(2025, 6, 1, 12, 0))


def _kind(schema: Mapping[str, object]) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return str(kind)


def _number(low: str, kind: str, rng: random.Random) -> int | float:
    if low == "id" or low.endswith("_id") or (low.endswith("id") and len(low) > 4):
        return rng.randint(1, 400)
    if "year" in low:
        return rng.randint(1995, 2025)
    if "age" == low or low.endswith("_age"):
        return rng.randint(18, 85)
    if "rating" in low or "stars" in low:
        return rng.randint(1, 5) if kind == "integer" else round(rng.uniform(1, 5), 1)
    if "percent" in low or "rate" in low or "discount" in low:
        return rng.randint(0, 40) if kind == "integer" else round(rng.uniform(0, 40), 1)
    if _COUNT.search(low):
        return rng.randint(1, 12)
    if _MONEY.search(low):
        value = rng.uniform(8, 480)
        return round(value, 2) if kind == "number" else int(value)
    return rng.randint(1, 100) if kind == "integer" else round(rng.uniform(1, 100), 2)


def _text(low: str, schema: Mapping[str, object], rng: random.Random, entity: str, reference: datetime) -> str:
    fmt = schema.get("format")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    if fmt == "date-time" or low.endswith("_at") or low.endswith("time") or low == "timestamp":
        return (reference + timedelta(hours=rng.randint(-1400, 1400), minutes=rng.choice((0, 15, 30, 45)))).isoformat()
    if fmt == "date" or "date" in low or low.endswith("_on") or low in ("dob", "birthday"):
        span = (-20000, -7000) if "birth" in low or low == "dob" else (-60, 60)
        return (reference + timedelta(days=rng.randint(*span))).date().isoformat()
    if fmt == "time":
        return f"{rng.randint(6, 21):02d}:{rng.choice((0, 15, 30, 45)):02d}"
    if "email" in low:
        return f"{first.lower()}.{last.lower()}@example.com"
    if "phone" in low or "mobile" in low or low == "msisdn":
        return f"+1-555-{rng.randint(100, 999):03d}-{rng.randint(1000, 9999):04d}"
    if low in ("first_name", "firstname", "given_name"):
        return first
    if low in ("last_name", "lastname", "surname", "family_name"):
        return last
    if low in ("name", "full_name", "fullname", "contact_name") and (
        low != "name" or not entity or _PERSON_ENTITIES.search(entity)
    ):
        return f"{first} {last}"
    if "city" in low or "town" in low:
        return rng.choice(CITIES)
    if "country" in low or "nationality" in low:
        return rng.choice(COUNTRIES)
    if "address" in low or "street" in low:
        return f"{rng.randint(1, 180)} {rng.choice(STREETS)}"
    if "status" in low or "state" == low:
        return rng.choice(STATUSES)
    if "currency" in low:
        return rng.choice(("EUR", "USD", "GBP"))
    if "url" in low or "website" in low:
        return f"https://example.com/{entity or 'item'}/{rng.randint(100, 999)}"
    if _CODE.search(low):
        prefix = re.sub(r"[^A-Z]", "", (entity or low)[:3].upper()) or "REF"
        return f"{prefix}-{rng.randint(1000, 9999)}"
    if any(w in low for w in ("note", "comment", "description", "remark", "reason", "message")):
        return rng.choice(NOTES)
    if "name" in low or "title" in low:
        noun = (entity or low.removesuffix("_name").removesuffix("_title")).replace("_", " ").title()
        return f"{rng.choice(ADJECTIVES)} {noun}" if noun else f"{rng.choice(ADJECTIVES)} {rng.choice(THINGS)}"
    if "category" in low or "type" in low or "kind" in low or "tier" in low or "class" in low:
        return rng.choice(("standard", "premium", "basic"))
    return f"{rng.choice(ADJECTIVES)} {rng.choice(THINGS)}".lower()
