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

from turnloom.core.models import ToolSpec
from turnloom.core.players.offline.language import format_value, said_status
from turnloom.core.players.offline.nouns import Lexicon, Noun, lexicon_for
from turnloom.core.players.offline.reply_changes import write_sentence
from turnloom.core.players.offline.reply_summaries import summary_sentence
from turnloom.core.players.offline.reply_words import (
    _ACTIVE_VERBS,
    _DATE,
    _DATES_FROM,
    _KEY_FIELD,
    _MONEY,
    _NAME,
    _PEOPLE,
    _UNITS,
    MAX_DETAILS,
    MAX_LISTED,
    Outcome,
    _asked_fields,
    _capital,
    _count,
    _counted,
    _is_count,
    _is_key,
    _is_listing,
    _is_status,
    _is_summary,
    _join,
    _label,
    _matches_asked,
    closed_status,
    status_field_of,
)


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
    text = text.removeprefix("Sure. ")  # what was asked goes on from the record before it, no fresh "Sure."
    said = record_sentence(row, lexicon.noun(tool), set(), rng, lexicon)
    if lead.endswith(": "):  # "Just so you know: right now ...", "Note: booking 7 is cancelled." (one colon)
        said = re.sub(r"^I checked ([^:]+): it's ", r"\1 is ", said)
        if said.startswith(("Right now ", "Here's ", "For ")):
            said = said[:1].lower() + said[1:]
    return f"{lead}{said} {text}"


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
    stored = row[status_field] if status_field is not None else None
    status = said_status(format_value(stored), article=True) if stored is not None else None
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
            rng.choice(("There's just one — ", "I found one — ", "Just the one — "))
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
        parts.append(said_status(format_value(row[status_field])))
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
        return said_status(format_value(rows[0][status]), plural=True), status
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
        if last in ("kind", "type") and isinstance(value, str):
            return value, field  # "both prepaid"
        if last in ("category", "genre", "class", "tier", "cabin") and isinstance(value, str):
            return f"in the {value} {last}", field
        if isinstance(value, (int, float)) and _MONEY.search(label):
            return f"for {format_value(value)}", field  # "all for 14.99"
        if len(label.split()) > 1 and label.split()[-1] in ("on", "at") and isinstance(value, str):
            return f"{label} {value}", field  # "both issued on 2025-04-18", never "both with issued on ..."
        if isinstance(value, (int, float)) or (isinstance(value, str) and len(value) <= 40):
            return f"with {label} {format_value(value)}", field
    return "", None


# ------------------------------------------------------------ summaries and writes


# ------------------------------------------------------------ helpers
