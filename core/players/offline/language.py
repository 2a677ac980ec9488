"""Phrasings as patterns: render a request from slots, and recognise requests in free text.

The offline user simulator renders intents' phrasings; the offline assistant
finds them again in whatever the user wrote (simulator or operator), by regexes
built from the same phrasings with typed slots, and falls back to keywords and
typed values when no phrasing matches exactly.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

from turnloom.core.domains.base import DomainPack, Intent

_SLOT = re.compile(r"\{(\w+)\}")

SLOT_PATTERNS = {
    "int": r"\d+",
    "float": r"\d+(?:\.\d+)?",
    "email": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "date": r"\d{4}-\d{2}-\d{2}",
    "name": r"(?-i:[A-Z][\w'-]*(?:[ ][A-Z][\w'-]*)*)",
    "word": r"[\w#][\w./#-]*\w|\w",
    "text": r"[^.?!\n]+?",
}


def normalise(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def format_value(value: object) -> str:
    """A slot value as it is written in a message (numbers exactly as JSON writes them)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return str(value)


def render(template: str, slots: dict[str, object]) -> str:
    return _SLOT.sub(lambda m: format_value(slots[m.group(1)]), template)


def render_request(intent: Intent, slots: dict[str, object], rng: random.Random) -> str:
    return render(rng.choice(intent.phrasings), slots)


def slot_label(name: str) -> str:
    """`order_id` -> `order ID`: how the assistant names a slot when asking for it."""
    words = [("ID" if w == "id" else w) for w in name.split("_")]
    if words and words[0] in ("new", "the"):
        words = words[1:] or words
    return " ".join(words)


def _compile(phrasing: str, slots: dict[str, str]) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    body = normalise(phrasing).rstrip()
    trailing = ""
    while body and body[-1] in ".?!":
        trailing = body[-1]
        body = body[:-1]
    for match in _SLOT.finditer(body):
        literal = body[position : match.start()]
        parts.append(_literal(literal))
        kind = slots.get(match.group(1), "text")
        pattern = SLOT_PATTERNS[kind]
        if kind == "text" and match.end() == len(body):
            pattern = r"[^.?!\n]+"
        parts.append(f"(?P<{match.group(1)}>{pattern})")
        position = match.end()
    parts.append(_literal(body[position:]))
    if trailing:
        parts.append(r"[.?!]?")
    return re.compile("".join(parts), re.IGNORECASE)


def _literal(text: str) -> str:
    return r"\s+".join(re.escape(word) for word in text.split(" ")) if text else ""


@dataclass(frozen=True)
class Request:
    """A request recognised in a user message."""

    intent: Intent
    slots: dict[str, object]
    start: int
    end: int


@dataclass(frozen=True)
class Clarification:
    """A request the assistant recognised only in part: which slots it still needs."""

    intent: Intent
    missing: tuple[str, ...]


class RequestParser:
    """Finds intents' phrasings in free text."""

    def __init__(self, pack: DomainPack) -> None:
        self.pack = pack
        self._patterns = [
            (intent, _compile(phrasing, intent.slots)) for intent in pack.intents for phrasing in intent.phrasings
        ]

    def parse(self, text: str) -> list[Request]:
        """Every request in `text`, in order, non-overlapping (longest match wins)."""
        text = normalise(text)
        found: list[Request] = []
        for intent, pattern in self._patterns:
            for match in pattern.finditer(text):
                slots = {
                    name: _convert(value, intent.slots.get(name, "text")) for name, value in match.groupdict().items()
                }
                found.append(Request(intent, slots, match.start(), match.end()))
        found.sort(key=lambda r: (r.start, -(r.end - r.start)))
        chosen: list[Request] = []
        for request in found:
            if chosen and request.start < chosen[-1].end:
                continue
            chosen.append(request)
        return chosen

    def guess(self, text: str) -> Request | Clarification | None:
        """When no phrasing matches: the intent the keywords point at, filled by typed values.

        Returns a Request when every slot can be filled unambiguously from typed
        values in the text, a Clarification naming the missing slots otherwise,
        and None when no intent's keywords appear.
        """
        lowered = normalise(text).lower()
        best: tuple[int, int, Intent] | None = None
        for order, intent in enumerate(self.pack.intents):
            hits = sum(1 for word in intent.keywords if re.search(rf"\b{re.escape(word.lower())}", lowered))
            if hits and (best is None or hits > best[0]):
                best = (hits, -order, intent)
        if best is None:
            return None
        intent = best[2]
        slots: dict[str, object] = {}
        missing: list[str] = []
        used: set[str] = set()
        for name, kind in intent.slots.items():
            if kind in ("text", "word"):
                missing.append(name)
                continue
            values = [v for v in re.findall(SLOT_PATTERNS[kind], normalise(text), re.IGNORECASE) if v not in used]
            if len(values) == 1:
                slots[name] = _convert(values[0], kind)
                used.add(values[0])
            else:
                missing.append(name)
        if missing:
            return Clarification(intent, tuple(missing))
        return Request(intent, slots, 0, len(text))


def _convert(value: str, kind: str) -> object:
    value = value.strip()
    if kind == "int":
        return int(value)
    if kind == "float":
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    return value
