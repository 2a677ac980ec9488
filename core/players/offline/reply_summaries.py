"""The offline assistant's answer to a summary: counts, totals and averages, and whose they are.

Read by `replies.describe`; the shared naming of fields and records is `reply_words`'.
"""

from __future__ import annotations

import random
import re

from turnloom.core.players.offline.language import format_value
from turnloom.core.players.offline.nouns import Lexicon, Noun, pluralise, split_words
from turnloom.core.players.offline.reply_words import (
    _MONEY,
    _UNITS,
    Outcome,
    _asked_fields,
    _capital,
    _join,
    _label,
    _matches_asked,
)
from turnloom.core.tools.schema import singular

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
    linked = next((v[len("$prev.") :] for v in steps[-1].arguments.values() if v.startswith("$prev.")), "id")
    link = split_words(linked, lexicon.vocabulary)
    if len(steps) > 1 and len(link) > 1 and link[-1] == "id":
        # summed over a record the named one links to ("the squad of Bruno Henriques's team"), not over it
        other = " ".join(link[:-1])
        named = next((v for k, v in slots.items() if k.endswith(("_name", "_title")) and isinstance(v, str)), None)
        return f"{named}'s {other}" if named else f"that {other}"
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
