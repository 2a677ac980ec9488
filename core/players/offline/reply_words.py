"""What the offline assistant's answers share: how an outcome is read, how fields and records are named.

The outcome a reply reads (`Outcome`), which statuses close a record, which fields are keys,
statuses, money or counts, how a field is labelled without its record's noun, and the small
joins and number words every reply uses. The replies themselves are `replies` (records and
lists), `reply_summaries` (counts, totals, averages) and `reply_changes` (what a write did).
"""

from __future__ import annotations

import re
from typing import Protocol

from turnloom.core.players.offline.language import Request, format_value
from turnloom.core.players.offline.nouns import Lexicon, Noun
from turnloom.core.tools.schema import singular


class Outcome(Protocol):
    """What a reply reads of one request's outcome (the assistant's `Outcome`)."""

    request: Request
    tool: str
    result: object
    error: str | None
    unavailable: bool
    caveat: tuple[str, dict] | None


# statuses of a record that change what an answer about something reached through it means
_CLOSED = frozenset({"cancelled", "canceled", "terminated", "closed", "suspended", "expired", "inactive", "void"})


def closed_status(row: dict) -> str | None:
    """The record's status when it is one that ends the record (cancelled, terminated, ...), else None."""
    status = next((v for k, v in row.items() if _STATUS.search(k) and isinstance(v, str)), None)
    return status if status is not None and status.lower() in _CLOSED else None


MAX_LISTED = 3  # items a list reply names before it summarises the rest


MAX_DETAILS = 4  # details a record's sentence carries besides its status and what was asked


_NUMBER_WORDS = (
    "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
)  # fmt: skip


_STATUS = re.compile(r"(^|_)(status|state|stage)$", re.I)


_NAME = re.compile(r"^(name|full_?name|title|label|display_?name|[a-z]*_?name)$", re.I)


_MONEY = re.compile(r"price|amount|total|cost|fee|balance|salary|fare|charge|budget|revenue", re.I)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# the fields a reader expects whenever a record is reported (as quality.checks.text asks for them)
_KEY_FIELD = re.compile(r"(status|total|price|fare|fee|amount|cost|balance|wage|date|_on$)", re.I)


_PEOPLE = frozenset(
    "customer passenger patient player subscriber doctor member employee user person client guest student "
    "artist author driver agent manager staff contact owner seller buyer traveller traveler".split()
)


_UNITS = {
    "kg": "kg",
    "g": "g",
    "gb": "GB",
    "mb": "MB",
    "km": "km",
    "cm": "cm",
    "min": "minutes",
    "minutes": "minutes",
    "hours": "hours",
    "days": "days",
    "pct": "%",
    "percent": "%",
    "kwh": "kWh",
    "usd": "USD",
    "eur": "EUR",
}


_ACRONYMS = {
    "qty": "quantity",
    "amt": "amount",
    "desc": "description",
    "num": "number",
    "dob": "date of birth",
    "sku": "SKU",
    "vat": "VAT",
    "iban": "IBAN",
    "url": "URL",
    "imei": "IMEI",
    "pin": "PIN",
    "iso": "ISO",
}


_DATES_FROM = frozenset({"founded", "established", "built", "opened"})


_ACTIVE_VERBS = frozenset({"joined", "signed", "registered", "enrolled", "started", "ended", "left"})


_CHECKABLE = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$|^\d{4}-\d{2}-\d{2}|^-?\d+(?:\.\d+)?$")


# the values a reader checks against tool results (as quality.grounding finds them): emails, dates, numbers
_CHECKED_VALUE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d{4}-\d{2}-\d{2}|(?<![\w.])\d+(?:\.\d+)?(?![\w])")


# words a request uses for a field it is about, beyond the field's own words
_ASKED = {
    "leave": ("depart", "departure"),
    "depart": ("departure",),
    "spent": ("total", "amount"),
    "stock": ("stock", "quantity"),
    "cost": ("price", "cost", "amount"),
    "price": ("price",),
    "shipped": ("status",),
    "paid": ("status", "paid"),
    "time": ("time", "departure", "arrival"),
    "when": ("date", "time"),
}


def status_field_of(row: dict, lexicon: Lexicon) -> str | None:
    """The field of a row that holds its status (`status`, `order_status`, `stage`), if any."""
    return next((k for k in row if _is_status(k, lexicon)), None)


def _is_status(field: str, lexicon: Lexicon) -> bool:
    """`status`, `order_status`, `AccountStatus`, `orderStatus`, `stage`."""
    return _STATUS.search(field) is not None or lexicon.label(field).split()[-1] in ("status", "state", "stage")


def _label(field: str, noun: Noun | None, lexicon: Lexicon) -> str:
    """A field's words without the record's own noun: "total" for `OrderTotal` on a purchase order."""
    words = lexicon.label(field).split()
    own = set(noun.one.split()) if noun is not None else set()
    while len(words) > 1 and words[0] in own:
        words = words[1:]
    return " ".join(_ACRONYMS.get(w, w) for w in words)


def _is_count(field: str, value: object, lexicon: Lexicon) -> bool:
    """A number of things named by a plural field ("goals", "assists", "minutes")."""
    label = lexicon.label(field)
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and " " not in label
        and singular(label) != label
        and not _MONEY.search(label)
    )


def _counted(field: str, value: object, lexicon: Lexicon) -> str:
    label = lexicon.label(field)
    return f"{format_value(value)} {singular(label) if value == 1 else label}"


def _asked_fields(outcome: Outcome) -> set[str]:
    """Words naming what the request is about: its intent's name and description, and the keywords the user said.

    A keyword the user did not say narrows nothing: "how has player 2 been doing?" asks for every
    season figure, "how many goals has player 2 scored?" for the goals.
    """
    request = outcome.request
    intent = request.intent
    said = request.said.lower()
    keywords = [k for k in intent.keywords if not said or k.lower() in said]
    text = " ".join((intent.name.replace("_", " "), re.sub(r"\{\w+\}", "", intent.description), *keywords))
    words = {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}
    for word in list(words):
        words.update(_ASKED.get(word, ()))
    return words


def _matches_asked(field: str, asked: set[str], lexicon: Lexicon) -> bool:
    if _is_key(field) or _NAME.match(field):
        return False
    words = lexicon.label(field).lower().split()
    return any(w in asked or w.rstrip("s") in asked or w + "s" in asked for w in words)


def _is_key(field: str) -> bool:
    low = field.lower()
    return low == "id" or low.endswith("_id") or (low.endswith("id") and len(low) > 4 and low[-3] != "_")


def _is_summary(result: dict) -> bool:
    return any(k.endswith("count") for k in result) and all(
        isinstance(v, (int, float)) or v is None for v in result.values()
    )


def _is_listing(outcome: Outcome) -> bool:
    return bool(re.match(r"^(list|search|find)", outcome.request.intent.name)) or outcome.request.intent.name.endswith(
        "s"
    )


def _count(n: int) -> str:
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else "more than twenty"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(clauses: list[str]) -> str:
    if len(clauses) <= 1:
        return "".join(clauses)
    return ", ".join(clauses[:-1]) + " and " + clauses[-1]
