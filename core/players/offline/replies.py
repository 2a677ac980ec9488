"""The offline assistant's answers: sentences that carry what was asked, from tool results only.

`answer` turns how each request ended (`Outcome`) into a reply. A record is
described in a sentence that leads with what the user asked for (the field the
request is about), always says the status when the record has one, and adds a
few salient details (prices, totals, dates); a list is summarised (how many,
the few first items with their status, what the rest have in common); a
summary states its count, totals and averages; a write says what changed.
Wording varies by the seeded `random.Random` the caller passes.

Every checkable value (number, date, email) it states is taken verbatim from the
outcome's own tool result, so the grounding check holds: counts of listed rows
are written as words, and ids from the request are named only when the result
shows them. Understanding requests and deciding what to call is `assistant`'s.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Protocol

from turnloom.core.models import ToolSpec
from turnloom.core.players.offline.language import Request, format_value
from turnloom.core.players.offline.nouns import Lexicon, Noun, field_phrase, lexicon_for, pluralise, split_words
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


def answer(outcomes: Sequence[Outcome], rng: random.Random, tools: Sequence[ToolSpec] = ()) -> str:
    """The reply to a user turn whose requests ended as `outcomes`."""
    lexicon = lexicon_for(tools)
    names = _names(outcomes, lexicon)
    paragraphs = [describe(outcome, rng, lexicon, names) for outcome in outcomes]
    return "\n\n".join(paragraphs)


def _names(outcomes: Sequence[Outcome], lexicon: Lexicon) -> dict[tuple[str, str], str]:
    """(noun, id) -> the name a record of this reply carries, to name the owner of a summary."""
    names: dict[tuple[str, str], str] = {}
    for outcome in outcomes:
        row = outcome.result
        if isinstance(row, dict) and outcome.error is None:
            noun = lexicon.noun(outcome.tool)
            key, named = _key_of(row, noun), _name_of(row)
            if key is not None and named is not None:
                names[(noun.one, format_value(row[key]))] = named
    return names


def describe(
    outcome: Outcome, rng: random.Random, lexicon: Lexicon, names: dict[tuple[str, str], str] | None = None
) -> str:
    """One request's part of the reply."""
    noun = lexicon.noun(outcome.tool)
    if outcome.unavailable:
        return rng.choice(
            (
                f"Sorry, I can't do that right now: the tool I'd need ({outcome.tool}) isn't available.",
                f"I'm afraid I can't help with that at the moment; {outcome.tool} isn't available to me.",
            )
        )
    if outcome.error is not None:
        reason = _error_reason(outcome.error, noun, lexicon)
        if reason is not None:
            return rng.choice(
                (f"Sorry, that didn't go through: {reason}.", f"I couldn't do that, I'm afraid: {reason}.")
            )
        return rng.choice(
            (
                f"Sorry, that didn't go through. The system said: {outcome.error}",
                f"That didn't work, I'm afraid. The error was: {outcome.error}",
            )
        )
    result = outcome.result
    if result is None or result == []:
        many = outcome.tool.startswith(("search_", "list_")) or _is_listing(outcome)
        thing = noun.many if many else noun.one
        return rng.choice(
            (
                f"I couldn't find any {thing} matching that." if many else f"I couldn't find a {thing} matching that.",
                f"I looked, but there's no {thing} matching that."
                if not many
                else f"I looked, but no {thing} match that.",
            )
        )
    if outcome.tool.startswith(("create_", "update_", "delete_")) and isinstance(result, dict) and "rowcount" in result:
        return write_sentence(outcome, noun, result, rng, lexicon)
    asked = _asked_fields(outcome) - set(noun.one.split()) - set(noun.many.split())
    if isinstance(result, list):
        return list_summary(result, noun, asked, rng, lexicon)
    if isinstance(result, dict):
        if _is_summary(result):
            text = summary_sentence(outcome, result, rng, lexicon, names or {})
            return _with_caveat(outcome, text, rng, lexicon) if _closed_caveat(outcome) else text
        return _with_caveat(outcome, record_sentence(result, noun, asked, rng, lexicon), rng, lexicon)
    return f"The result was {format_value(result)}."


def _closed_caveat(outcome: Outcome) -> bool:
    """Whether the record a request went through is closed (a cancelled booking): said before any answer."""
    return outcome.caveat is not None and closed_status(outcome.caveat[1]) is not None


def _with_caveat(outcome: Outcome, text: str, rng: random.Random, lexicon: Lexicon) -> str:
    """`text` after the record it was reached through, when the user must know it first: it is cancelled,
    or the user named it by a date and hears here which one it is."""
    if outcome.caveat is None:
        return text
    tool, row = outcome.caveat
    if closed_status(row) is not None:
        lead = rng.choice(("Before anything else: ", "One thing first: ", "Note: ", "Just so you know: "))
    else:
        lead = rng.choice(("I found it. ", "Here's the one I found. ", "", "That one's on file. "))
    return f"{lead}{record_sentence(row, lexicon.noun(tool), set(), rng, lexicon)} {text}"


_CONSTRAINT = re.compile(r"(UNIQUE|NOT NULL|CHECK|FOREIGN KEY) constraint failed(?::\s*(?:[\w\"]+\.)?([\w\"]+))?", re.I)


def _error_reason(error: str, noun: Noun, lexicon: Lexicon) -> str | None:
    """A database refusal in words ("there's already a bag with that tag number"), or None to quote it."""
    match = _CONSTRAINT.search(error)
    if match is None:
        return None
    kind = match.group(1).upper()
    label = _label(match.group(2).strip('"'), noun, lexicon) if match.group(2) else None
    if kind == "UNIQUE":
        return f"there's already a {noun.one} with that {label}" if label else f"that {noun.one} already exists"
    if kind == "NOT NULL":
        return f"the {label} is required" if label else "a required value is missing"
    if kind == "FOREIGN KEY":
        return "it refers to a record that doesn't exist"
    return f"that {label} isn't allowed" if label else "one of the values isn't allowed"


# ------------------------------------------------------------ records


def record_sentence(row: dict, noun: Noun, asked: set[str], rng: random.Random, lexicon: Lexicon) -> str:
    """One record in a sentence or two: what was asked first, the status always, then salient details.

    Key fields (prices and totals, dates) are never left out; other details are capped at `MAX_DETAILS`.
    """
    subject = _subject(row, noun, lexicon)
    person = _is_person(row, noun)
    status_field = status_field_of(row, lexicon)
    status = format_value(row[status_field]) if status_field is not None and row[status_field] is not None else None
    key = _key_of(row, noun)
    wanted = [k for k in row if _matches_asked(k, asked, lexicon) and k not in (status_field, key)]
    salient = [k for k in _salient(row, lexicon) if k not in wanted and k not in (status_field, key)]
    keys = [k for k in salient if _KEY_FIELD.search(k)]
    others = [k for k in salient if k not in keys][: max(0, MAX_DETAILS - len(wanted) - len(keys))]
    details = [k for k in salient if k in keys or k in others]
    more = _capital(_clauses(details, row, noun, lexicon, person, "their" if person else "its")) if details else ""
    are = "they're" if person else "it's"
    if wanted:
        sentence = rng.choice((f"For {subject}, ", f"Sure. For {subject}, ", f"{_capital(subject)}: "))
        sentence += _clauses(wanted, row, noun, lexicon, person, "the")
        if status is not None:
            sentence += rng.choice((f", and {are} {status}", f"; {are} currently {status}", f" — {are} {status}"))
        return sentence + "." + (f" {more}." if more else "")
    if status is not None:
        what = _label(status_field, noun, lexicon).split()[:-1] if status_field is not None else []
        if what:  # "Goran Ilic (customer 7): their account is closed."
            whose = "their" if person else "its"
            opening = f"{_capital(subject)}: {whose} {' '.join(what)} is {rng.choice(('', 'currently '))}{status}"
        else:
            are = "they're" if person else "it's"
            opening = rng.choice(
                (
                    f"{_capital(subject)} is {status}",
                    f"{_capital(subject)} is currently {status}",
                    f"I checked {subject}: {are} {status}",
                    f"Right now {subject} is {status}",
                )
            )
        return opening + "." + (f" {more}." if more else "")
    if not details:
        return rng.choice((f"I found {subject}.", f"Yes, {subject} is on file."))
    opening = rng.choice((f"Here's {subject}", f"I found {subject}", f"Here's what's on file for {subject}"))
    return f"{opening}. {more}."


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


def _is_person(row: dict, noun: Noun) -> bool:
    """Whether a record is about a person (said "they"), by its noun or its name fields."""
    return "first_name" in row or noun.one.split()[-1] in _PEOPLE


def _subject(row: dict, noun: Noun, lexicon: Lexicon) -> str:
    """How a record is named: "Kite (product 17)", "order 7", "Ana Lopez (passenger 3)"."""
    named = _name_of(row)
    key = _key_of(row, noun)
    if named is not None:
        return f"{named} ({noun.one} {format_value(row[key])})" if key is not None else f"{noun.one} {named}"
    if key is not None:
        return f"{noun.one} {format_value(row[key])}"
    return f"that {noun.one}"


def _name_of(row: dict) -> str | None:
    first_name, last_name = row.get("first_name"), row.get("last_name")
    if isinstance(first_name, str) and isinstance(last_name, str):
        return f"{first_name} {last_name}"
    name_field = next((k for k in row if _NAME.match(k) and isinstance(row[k], str) and row[k]), None)
    return row[name_field] if name_field is not None else None


def _key_of(row: dict, noun: Noun) -> str | None:
    squashed = noun.one.replace(" ", "")
    preferred = (f"{squashed}number", f"{squashed}code", f"{squashed}no", "id", f"{squashed}id")
    found = {field.lower().replace("_", ""): field for field in row if row[field] is not None}
    key = next((found[name] for name in preferred if name in found), None)
    first = next(iter(row), None)
    if key is None and first is not None and _is_key(first) and row[first] is not None:
        return first  # the primary key comes first (address_id of a shipping address)
    return key


def _salient(row: dict, lexicon: Lexicon) -> list[str]:
    """A record's fields a person would want, most telling first; keys and names left out."""

    def rank(field: str) -> int:
        value = row[field]
        if _MONEY.search(field):
            return 0
        if isinstance(value, str) and _DATE.match(value):
            return 1
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return 2
        return 3

    fields = [
        k
        for k in row
        if row[k] is not None
        and not _is_key(k)
        and not _NAME.match(k)
        and not (isinstance(row[k], str) and len(row[k]) > 80)
        and not isinstance(row[k], (list, dict))
    ]
    return sorted(fields, key=lambda k: (rank(k), fields.index(k)))


def _clauses(fields: list[str], row: dict, noun: Noun, lexicon: Lexicon, person: bool, det: str) -> str:
    """Fields as clauses of one sentence; counts ("1 goal, 90 minutes") gathered at the end."""
    counts = [k for k in fields if _is_count(k, row[k], lexicon)]
    clauses = [_clause(k, row[k], lexicon, person, det, noun) for k in fields if k not in counts]
    if counts:
        has = "they have" if person else "it has"
        clauses.append(f"{has} " + _join([_counted(k, row[k], lexicon) for k in counts]))
    return _join(clauses)


def _clause(
    field: str, value: object, lexicon: Lexicon, person: bool = False, det: str = "the", noun: Noun | None = None
) -> str:
    """One field as a clause: "it costs 12.5", "they were born on 1990-02-01", "its weight is 20.2 kg".

    A field's own words are followed only by its value (never "founded in 1906"), as readers check them.
    """
    label = _label(field, noun, lexicon)
    it, was = ("they", "were") if person else ("it", "was")
    if value is None:
        return f"{det} {label} isn't set"
    if lexicon.is_flag(field) and value in (0, 1):
        if field.lower().startswith("has"):
            has = "have" if person else "has"
            return f"{it} {has} {label}" if value else f"{it} {has} no {label}"
        if value:
            return f"{it}'re {label}" if person else f"it's {label}"
        return f"{it} aren't {label}" if person else f"it isn't {label}"
    if isinstance(value, bool):
        return f"{det} {label}: {'yes' if value else 'no'}"
    shown = format_value(value)
    words = label.split()
    if label == "price" and not person:
        return f"{it} costs {shown}"
    if label in ("stock", "quantity in stock", "stock quantity", "in stock"):
        return f"{shown} {'is' if value == 1 else 'are'} in stock"
    if label in ("birth date", "date of birth", "birthday", "dob"):
        return f"{it} {was} born on {shown}"
    if words[-1] in _UNITS and len(words) > 1:
        return f"{det} {' '.join(words[:-1])} is {shown} {_UNITS[words[-1]]}"
    if len(words) == 1 and words[0] in _DATES_FROM and isinstance(value, int):
        return f"{it} dates from {shown}"  # founded: 1906
    if len(words) == 1 and words[0].endswith("ed") and isinstance(value, (int, str)):
        return f"the {'date' if _DATE.match(str(value)) else 'year'} {it} {was} {label} is {shown}"
    if words[-1] in ("on", "at") and len(words) > 1:
        if words[0] in _ACTIVE_VERBS:
            return f"{it} {label} {shown}"  # they joined on 2025-03-15
        return f"{it} {was} {label} {shown}"  # booked on, created at
    return f"{det} {label} is {shown}"


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


# ------------------------------------------------------------ lists


def list_summary(rows: list, noun: Noun, asked: set[str], rng: random.Random, lexicon: Lexicon) -> str:
    """A list in a few sentences: how many, the first few with what matters, what the rest share."""
    dicts = [r for r in rows if isinstance(r, dict)]
    if len(dicts) != len(rows):
        return f"I found {_count(len(rows))} results: " + ", ".join(format_value(r) for r in rows[:MAX_LISTED]) + "."
    count = len(rows)
    things = noun.one if count == 1 else noun.many
    if count == 1:
        return (
            rng.choice(("There's just one — ", "I found one — ", "Only one matches — "))
            + _item(rows[0], noun, asked, lexicon)
            + "."
        )
    lead = rng.choice(
        (
            f"I found {_count(count)} {things}.",
            f"There are {_count(count)} {things}.",
            f"{_capital(_count(count))} {things} match.",
        )
    )
    shared, shared_field = _common(dicts, lexicon)
    if shared:
        every = "both" if count == 2 else "all"
        lead = lead[:-1] + rng.choice((f", {every} {shared}.", f"; they're {every} {shared}."))
    shown = dicts[:MAX_LISTED]
    skip = frozenset({shared_field} if shared_field else ())
    items = [_item(r, noun, asked, lexicon, skip=skip) for r in shown]
    body = "\n".join(f"- {item}" for item in items)
    rest = dicts[MAX_LISTED:]
    tail = ""
    if len(rest) == 1:
        last = _item(rest[0], noun, asked, lexicon, skip=skip)
        tail = "\n" + rng.choice(("The last one is ", "And finally ")) + last + "."
    elif rest:
        rest_shared = _common(rest, lexicon)[0] if not shared else ""
        if rest_shared:
            tail = f"\nThe other {_count(len(rest))} are all {rest_shared}."
        else:
            tail = "\n" + rng.choice((f"There are {_count(len(rest))} more.", f"Plus {_count(len(rest))} more."))
        tail += rng.choice(("", " I can go through them or narrow it down if you like."))
    return f"{lead}\n{body}{tail}"


def _item(row: dict, noun: Noun, asked: set[str], lexicon: Lexicon, skip: frozenset[str] = frozenset()) -> str:
    subject = _subject(row, noun, lexicon)
    status_field = status_field_of(row, lexicon)
    parts: list[str] = []
    if status_field is not None and row[status_field] is not None and status_field not in skip:
        parts.append(format_value(row[status_field]))
    wanted = [k for k in row if _matches_asked(k, asked, lexicon) and k != status_field and k not in skip]
    details = [k for k in _salient(row, lexicon) if k not in wanted and k != status_field and k not in skip]
    keys = [k for k in details if _KEY_FIELD.search(k)]  # prices, totals and dates are never left out
    others = [k for k in details if k not in keys]
    shown = [*wanted, *keys]
    shown += others[: max(0, 3 - len(parts) - len(shown))]
    for field in shown:
        value, label = row[field], _label(field, noun, lexicon)
        words = label.split()
        if isinstance(value, bool) or (lexicon.is_flag(field) and value in (0, 1)):
            parts.append(label if value else f"not {label}")
        elif _is_count(field, value, lexicon):
            parts.append(_counted(field, value, lexicon))
        elif words[-1] in _UNITS and len(words) > 1:
            parts.append(f"{' '.join(words[:-1])} {format_value(value)} {_UNITS[words[-1]]}")
        elif isinstance(value, str) and value.lower().startswith(label.lower()):
            parts.append(value)  # "SKU-1049", not "sku SKU-1049"
        else:
            parts.append(f"{label} {format_value(value)}")
    return subject + (f": {', '.join(parts)}" if parts else "")


def _common_fields(rows: list[dict]) -> list[str]:
    if len(rows) < 2:
        return []
    return [
        k
        for k in rows[0]
        if not _is_key(k) and rows[0][k] is not None and all(r.get(k) == rows[0][k] for r in rows[1:])
    ]


def _common(rows: list[dict], lexicon: Lexicon) -> tuple[str, str | None]:
    """What every row shares, as a phrase ("pending", "in Krakow", "in the toys category") and its field."""
    fields = _common_fields(rows)
    status = next((k for k in fields if _is_status(k, lexicon)), None)
    if status is not None:
        return format_value(rows[0][status]), status
    for field in fields:
        value, label = rows[0][field], lexicon.label(field)
        if _NAME.match(field):
            continue
        if isinstance(value, bool) or (lexicon.is_flag(field) and value in (0, 1)):
            return (label if value else f"not {label}"), field
        last = label.split()[-1]
        if last in ("city", "country", "destination", "origin", "location", "region") and isinstance(value, str):
            return f"in {value}", field
        if last in ("specialty", "speciality", "department", "field") and isinstance(value, str):
            return f"in {value}", field
        if last in ("category", "type", "genre", "kind", "class", "tier", "cabin") and isinstance(value, str):
            return f"in the {value} {last}", field
        if isinstance(value, (int, float)) and _MONEY.search(label):
            return f"for {format_value(value)}", field  # "all for 14.99"
        if isinstance(value, (int, float)) or (isinstance(value, str) and len(value) <= 40):
            return f"with {label} {format_value(value)}", field
    return "", None


# ------------------------------------------------------------ summaries and writes

# money measures said as what the records are worth, not by the field's name ("worth 200.8 in all")
_WORTH = frozenset({"total", "price", "amount", "cost", "value", "market value", "spend", "revenue", "sales"})


def summary_sentence(
    outcome: Outcome, result: dict, rng: random.Random, lexicon: Lexicon, names: dict[tuple[str, str], str]
) -> str:
    """Counts, totals and averages of a summary tool, stated as the result gives them.

    A measure's name is never followed by anything but its own value or punctuation ("a total of
    3 goals, 1.5 per appearance on average"), so no reader takes a total for a record's field.
    """
    count_field = next((k for k in result if k.endswith("count")), None)
    children = lexicon.noun(outcome.tool)
    owner = _owner(outcome, lexicon, names)
    count = result.get(count_field) if count_field else None
    if count == 0:
        return rng.choice(
            (
                f"{_capital(owner)} has no {children.many} yet.",
                f"There are no {children.many} for {owner}.",
                f"I found no {children.many} for {owner}.",
            )
        )
    asked = _asked_fields(outcome)
    measures = [k for k in result if k != count_field and result[k] is not None]
    focus = [k for k in measures if _matches_asked(_measure(k), asked, lexicon)]
    if not focus:  # nothing named: the totals, and an average only for money or a single measure
        totals = [k for k in measures if not k.startswith(("avg_", "average_"))]
        focus = [k for k in measures if k in totals or len(totals) <= 1 or _MONEY.search(lexicon.label(k))]
    by_measure: dict[str, dict[str, object]] = {}
    for field in focus:
        kind = "avg" if field.startswith(("avg_", "average_")) else "total" if field.startswith("total_") else field
        by_measure.setdefault(_measure(field), {})[kind] = result[field]
    parts = [_aggregate(measure, values, children, lexicon) for measure, values in by_measure.items()]
    things = children.one if count == 1 else children.many
    if count is None:
        return f"For {owner}: " + "; ".join(parts) + "." if parts else f"I found nothing to sum up for {owner}."
    head = rng.choice(
        (
            f"{_capital(owner)} has {format_value(count)} {things}",
            f"There {'is' if count == 1 else 'are'} {format_value(count)} {things} for {owner}",
        )
    )
    if not parts:
        return head + "."
    if count == 1:  # one record: its total is its value, an average says nothing more
        parts = [
            _aggregate(m, {"total": v.get("total", v.get("avg"))}, children, lexicon) for m, v in by_measure.items()
        ]
    if count == 1:
        parts = [p.replace("a total of ", "").replace("a total ", "a ").replace(" in all", "") for p in parts]
    if len(parts) > 1:
        parts = [p.removesuffix(" so far") for p in parts]
    if not parts[0].startswith("worth"):
        parts[0] = "with " + parts[0]
    if any("," in p for p in parts):
        listed = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]
    else:  # simple figures read as one list: "with 90 minutes, no goals, 1 assist and a rating of 8.8"
        listed = _join(parts)
    return head + rng.choice((", ", " — ")) + listed + "."


def _measure(field: str) -> str:
    return re.sub(r"^(total|avg|average|sum|min|max)_", "", field)


def _aggregate(measure_field: str, values: dict[str, object], children: Noun, lexicon: Lexicon) -> str:
    """One measure's total and average in words: "worth 200.8 in all, 100.4 per order on average".

    Plural measures are counted ("a total of 3 goals"), others named with their unit ("a total
    weight of 4.2 kg"); a money measure is what the records are worth.
    """
    words = _label(measure_field, None, lexicon).split()
    unit = _UNITS.get(words[-1]) if len(words) > 1 else None
    measure = " ".join(words[:-1] if unit else words)
    after = f" {unit}" if unit else ""
    money = _MONEY.search(measure) is not None or measure.endswith("value")
    plural = " " not in measure and singular(measure) != measure
    total, average = values.get("total"), values.get("avg")
    clauses: list[str] = []
    if total is not None:
        shown = format_value(total)
        if money and (measure in _WORTH or words[-1] in _WORTH):
            clauses.append(f"worth {shown} in all")
        elif money:
            clauses.append(f"{pluralise_label(measure)} of {shown} in all")
        elif plural and total == 0:
            return f"no {measure} so far"
        elif plural:
            clauses.append(f"a total of {shown} {singular(measure) if total == 1 else measure}")
        else:
            clauses.append(f"a total {measure} of {shown}{after}")
    if average is not None:
        shown = format_value(average)
        if total is not None or money:
            clauses.append(f"{shown}{after} per {children.one} on average")
        elif plural:
            clauses.append(f"an average of {shown} {measure} per {children.one}")
        else:
            clauses.append(f"an average {measure} of {shown}{after}")
    for kind, value in values.items():
        if kind not in ("total", "avg"):
            clauses.append(f"{lexicon.label(kind)}: {format_value(value)}")
    return ", ".join(clauses)


def pluralise_label(label: str) -> str:
    """A measure named in the plural ("fees", "weekly wages"), so it never reads as a record's own field."""
    words = label.split()
    return " ".join([*words[:-1], pluralise(words[-1])])


def _owner(outcome: Outcome, lexicon: Lexicon, names: dict[tuple[str, str], str]) -> str:
    """Who a summary is about: "Fabio Pires (player 34)", "flight TL269", "the account under ana@…", "that club"."""
    slots = outcome.request.slots
    steps = outcome.request.intent.steps
    first = steps[0].tool
    reached = len(steps) > 2 and any(v.startswith("$") for v in steps[-2].arguments.values())
    if reached and any(v.startswith("$prev.") for v in steps[-1].arguments.values()):
        # summed over the record the step before found ("the flight of booking 3"), not the one the user named
        return f"that {lexicon.noun(steps[-2].tool).one}"
    for slot, value in slots.items():
        words = split_words(slot, lexicon.vocabulary)
        if not words or value is None:
            continue
        owner = " ".join(words[:-1]) if len(words) > 1 else lexicon.noun(first).one
        shown = format_value(value)
        if words[-1] in ("id", "number", "code", "no"):
            # the id the user gave for what they asked about ("player 34"), named with the record's name if shown
            name = names.get((owner, shown))
            return f"{name} ({owner} {shown})" if name else f"{owner} {shown}"
        if words[-1] == "email":
            if owner in ("customer", "subscriber", "user", "member", "client", "account"):
                return f"the account under {shown}"
            return f"the {owner} with email {shown}"
        if words[-1] in ("name", "title") and isinstance(value, str):
            return value
    return f"that {lexicon.noun(first).one}"


def write_sentence(outcome: Outcome, noun: Noun, result: dict, rng: random.Random, lexicon: Lexicon) -> str:
    """What a create, update or delete did.

    A changed field's name ends its clause ("I've updated that passenger's email."), so no reader
    takes the words after it for the field's value in a record read before the change.
    """
    tool = outcome.tool
    if not result.get("rowcount", 0):
        return rng.choice(
            (
                f"Nothing was changed: I couldn't find a matching {noun.one}.",
                f"I couldn't find that {noun.one}, so nothing was changed.",
            )
        )
    if tool.startswith("create_"):
        new_id = result.get("lastrowid")
        if new_id is not None:
            return rng.choice(
                (
                    f"Done! I've created the {noun.one}; it's {noun.one} {format_value(new_id)}.",
                    f"All set: the new {noun.one} is in, under number {format_value(new_id)}.",
                    f"That's done. The {noun.one} is created, with number {format_value(new_id)}.",
                )
            )
        return f"Done! The new {noun.one} has been created."
    if tool.startswith("delete_"):
        return rng.choice((f"Done. The {noun.one} has been removed.", f"That {noun.one} is deleted now."))
    step = outcome.request.intent.steps[-1]
    # the first argument of an update names the record, the rest are what changed
    fields = list(step.arguments)[1:] if step.tool == tool else []
    if len(fields) == 1:
        label = field_phrase(_label(fields[0], noun, lexicon))
        its = "their" if noun.one.split()[-1] in _PEOPLE else "its"
        template = step.arguments[fields[0]]
        value = outcome.request.slots.get(template.strip("{}")) if template.startswith("{") else template
        if isinstance(value, str) and value and not _CHECKED_VALUE.search(value):  # only what results show is stated
            if _is_status(fields[0], lexicon):
                return rng.choice(
                    (
                        f"Done: that {noun.one} is now {value}.",
                        f"All set, I've marked that {noun.one} as {value}.",
                        f"That {noun.one} is {value} now.",
                    )
                )
            return rng.choice(
                (
                    f"Done. That {noun.one} now has {value} as {its} {label}.",
                    f"All set: {value} is the new {label}.",
                    f"I've made the change: the {noun.one} now shows {value} for {its} {label}.",
                )
            )
        if label.endswith(" ID"):
            # a link to another record: "plan 3" or "the new plan", never "plan ID"
            other = label.removesuffix(" ID")
            if isinstance(value, int) and not isinstance(value, bool):
                return rng.choice(
                    (
                        f"Done. That {noun.one}'s {other} is now {other} {value}.",
                        f"All set: I've switched that {noun.one} to {other} {value}.",
                    )
                )
            return rng.choice(
                (
                    f"Done. I've switched that {noun.one} to the new {other}.",
                    f"All set: that {noun.one} has a new {other}.",
                )
            )
        return rng.choice(
            (
                f"Done. I've updated that {noun.one}'s {label}.",
                f"That's changed: I've updated the {label}.",
            )
        )
    return f"Done. The {noun.one} has been updated."


# ------------------------------------------------------------ helpers


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
