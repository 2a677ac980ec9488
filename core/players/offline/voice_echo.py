"""What the offline user takes in from an answer: the value they may repeat back (`echo_of`).

A reaction echoes only what the answer said, and never what identifies the user; `voice`
words the echo. `BAD` and `GOOD` are the statuses that are bad or good news to the user
(said as `language.said_status` writes them).
"""

from __future__ import annotations

import random
import re

from turnloom.core.players.offline.language import format_value, said_status

BAD = frozenset(
    {
        "cancelled",
        "canceled",
        "delayed",
        "overdue",
        "unpaid",
        "suspended",
        "a no-show",
        "lost",
        "failed",
        "terminated",
        "closed",
        "rejected",
        "expired",
        "injured",
        "damaged",
        "blocked",
        "declined",
        "refunded",
    }
)
GOOD = frozenset(
    {
        "confirmed",
        "delivered",
        "paid",
        "active",
        "completed",
        "shipped",
        "loaded",
        "on time",
        "scheduled",
        "checked in",
        "resolved",
        "approved",
        "available",
        "boarding",
        "landed",
        "arrived",
    }
)


# dates of something that is going to happen or fell due (a birth date is not put in a calendar)
_EVENT_DATE = re.compile(r"visit|departure|arrival|due|match|appointment|start|end|expir|deliver", re.I)
_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def echo_of(
    result: object, answer: str, rng: random.Random | None = None, own: frozenset[str] = frozenset()
) -> tuple[str, str] | None:
    """Something from a request's result the user may repeat back, only if the answer said it.

    With `rng`, which of the values the answer stated is drawn (a name, a city, a date, a
    total), so reactions take in different parts of what was said. `own` is what identifies
    the user (their name, email, phone, lower-cased): nobody takes in their own name ("Thank
    you, Simon Ekman, understood."), and of their own record only its news (a status, a total)
    is worth repeating, never what they told it about themselves (their city, their birth date).
    """
    lowered = answer.lower()
    if isinstance(result, dict) and own and _is_own(result, own):
        status = result.get("status")
        if isinstance(status, str) and said_status(status).lower() in lowered:
            return "status", said_status(status, article=True)
        return None
    if isinstance(result, dict):
        if "rowcount" in result:
            if result.get("lastrowid") is not None and format_value(result["lastrowid"]) in answer:
                return "created", format_value(result["lastrowid"])
            return ("changed", "") if result.get("rowcount") else None
        status = result.get("status")
        said = [v for v in _stated(result, lowered) if v.lower() not in own]
        both = _two_of(result, answer, lowered)
        if both is not None and rng is not None and rng.random() < 0.5:
            return both  # "so Rome to Dublin", "2025-10-26 at 21:10": what the answer said, put together
        if isinstance(status, str) and said_status(status).lower() in lowered:
            # bad news is what the user takes in first ("cancelled?"), never a fare beside it
            spoken = said_status(status, article=True)  # "checked in", "a no-show": never as stored
            if rng is None or not said or spoken.lower() in BAD or rng.random() < 0.5:
                return "status", spoken
        if said:
            totals = [format_value(v) for k, v in result.items() if k.startswith("total") and format_value(v) in said]
            if totals:  # a summary: what the user takes in is the total
                return "total", totals[0]
            value = rng.choice(said) if rng is not None else said[0]
            field = next((k for k, v in result.items() if format_value(v) == value), "")
            return ("date" if _EVENT_DATE.search(field) else "value"), value
        return None
    if isinstance(result, list) and len(result) > 1:
        rows = [r for r in result if isinstance(r, dict)]
        named = [v for r in rows for v in _stated(r, lowered, numbers=False) if v.lower() not in own]
        if named and rng is not None and rng.random() < 0.6:
            return "item", rng.choice(named)
        count = len(result)
        if str(count) in answer or (count < len(_COUNT_WORDS) and re.search(rf"\b{_COUNT_WORDS[count]}\b", lowered)):
            return "count", str(count)
    return None


_TIME = re.compile(r"^\d{1,2}:\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COUNTED = re.compile(r"_count$|^count$|^n_")
_SPENT = re.compile(r"price|amount|fee|fare|cost|value|spend|total_total|wage|budget", re.I)


def _two_of(row: dict, answer: str, lowered: str) -> tuple[str, str] | None:
    """Two values of a record the answer stated, as a person puts them together: a route ("Rome to
    Dublin"), a moment ("2025-10-26 at 21:10"), or a summary's count and total ("279.09 over 2 orders")."""
    origin, destination = row.get("origin"), row.get("destination")
    if isinstance(origin, str) and isinstance(destination, str) and origin in answer and destination in answer:
        return "route", f"{origin} to {destination}"
    day = next((v for v in row.values() if isinstance(v, str) and _DAY.match(v) and v in answer), None)
    time = next((v for v in row.values() if isinstance(v, str) and _TIME.match(v) and v in answer), None)
    if day and time:
        return "when", f"{day} at {time}"
    count = next((v for k, v in row.items() if _COUNTED.search(k) and isinstance(v, int)), None)
    total = next(  # money summed over the records (1511.49 over 4 bookings), not minutes or ratings
        (v for k, v in row.items() if k.startswith("total") and _SPENT.search(k) and isinstance(v, (int, float))), None
    )
    if count and count > 1 and total is not None and format_value(total) in answer:
        noun = next(k for k, v in row.items() if v == count and _COUNTED.search(k)).removesuffix("_count")
        words = noun.replace("_", " ").split()
        if words and words[-1].isalpha():
            return "sum", f"{format_value(total)} over {count} {' '.join(words)}"
    return None


def _is_own(row: dict, own: frozenset[str]) -> bool:
    """Whether a record is the user's own: it carries their name, email or phone."""
    return any(isinstance(v, str) and v.lower() in own for v in row.values())


def _stated(row: dict, lowered: str, numbers: bool = True) -> list[str]:
    """The values of a record an answer states: names, cities, dates (and totals, prices with `numbers`)."""
    said = []
    for key, value in row.items():
        if key == "id" or key.endswith("_id") or value is None or isinstance(value, bool) or key == "status":
            continue
        if isinstance(value, (int, float)) and not numbers or isinstance(value, int):
            continue
        written = format_value(value)
        if len(written) > 2 and "@" not in written and written.lower() in lowered:
            said.append(written)
    return said
