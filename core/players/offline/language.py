"""Phrasings as patterns: render a request from slots, and recognise requests in free text.

The offline user simulator renders intents' phrasings; the offline assistant
finds them again in whatever the user wrote (simulator or operator), by regexes
built from the same phrasings with typed slots, and falls back to keywords and
typed values when no phrasing matches exactly.
"""

from __future__ import annotations

import functools
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from turnloom.core.domains.base import DomainPack, Intent
from turnloom.core.domains.progress import format_value

_SLOT = re.compile(r"\{(\w+)\}")

SLOT_PATTERNS = {
    "int": r"\d+",
    "float": r"\d+(?:\.\d+)?",
    "email": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "date": r"\d{4}-\d{2}-\d{2}",
    # capitalised words, and a number that is part of the name ("Smart 30"), never a date or amount, nor
    # a word that links a request to the one before ("Then Tiago Esteves has signed ..." names Tiago Esteves)
    "name": r"(?-i:(?!(?:Then|And|Plus|Now|Next|Also|So|Oh|Right|But|Well|Okay|Lastly|Finally)\b)"
    r"[A-Z][\w'-]*(?:[ ](?:[A-Z][\w'-]*|\d+(?![\w.,-]\w)))*)",
    "word": r"[\w#][\w./#-]*\w|\w",
    "text": r"[^.?!\n]+?",
    # a spoken reference to a value named earlier ("that order"), resolved from the conversation
    "ref": r"(?:that|the same|this)",
}
_REF_PREFIX = "ref__"


def said_status(value: str, article: bool = False, plural: bool = False) -> str:
    """A stored status in words: "checked_in" -> "checked in", "no_show" -> "no-show".

    A status that is a noun ("no_show": the patient was a no-show) takes an article after "is"
    (`article`) and an "s" for several records (`plural`: "both no-shows"); the others read as
    adjectives either way ("checked in", "in progress").
    """
    if "_" not in value:
        return value
    head, _, rest = value.partition("_")
    if head.lower() == "no":
        word = f"{head}-{rest.replace('_', '-')}"
        return word + "s" if plural else f"a {word}" if article else word
    return value.replace("_", " ")


def normalise(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


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


_FRAME_LEAD = re.compile(r"^(?:(?:can|could|would) you (?:please )?|please )", re.I)
_FRAME_TAIL = re.compile(r"(?:,? please| for me)?[.?!]*$", re.I)
IMPERATIVE_VERBS = frozenset(
    "add book break cancel change check file find give list log look move mark open pull record register "
    "revalue schedule set show sign suspend switch tell terminate transfer update upgrade block ship".split()
)
_REFERENCE = re.compile(r"\b(\w+) (?:#|number )?\{(\w+)\}")
REFERENCE_WORDS = ("that", "the same", "this")


def split_frame(phrasing: str) -> tuple[str, str]:
    """A phrasing as (kind, body): `imperative` with its bare verb phrase, or `as_is` with the sentence.

    "Can you pull up booking {booking_id}?" -> ("imperative", "pull up booking {booking_id}");
    "What's the status of order {order_id}?" -> ("as_is", the phrasing). The user's
    grammar puts an imperative body in frames of its own ("Would you mind ...",
    "I need you to ..."); the assistant recognises the body whatever the frame.
    """
    text = normalise(phrasing).strip()
    lead = _FRAME_LEAD.match(text)
    body = text[lead.end() :] if lead else text
    first = body.split(" ", 1)[0].lower()
    if lead is None and first not in IMPERATIVE_VERBS:
        return "as_is", text
    if first not in IMPERATIVE_VERBS:
        return "as_is", text
    body = _FRAME_TAIL.sub("", body)
    if "," in body or ":" in body and not body.rstrip().endswith("}"):
        return "as_is", text  # "Cancel my order, please" kept whole when it has clauses of its own
    return "imperative", body[:1].lower() + body[1:]


def referable(phrasing: str, slots: dict[str, str]) -> list[tuple[str, str]]:
    """(noun, slot) pairs of a phrasing whose id can be spoken as "that noun" ("order {order_id}")."""
    return [
        (m.group(1), m.group(2))
        for m in _REFERENCE.finditer(phrasing)
        if slots.get(m.group(2)) == "int" and m.group(1).isalpha() and m.group(1).lower() not in ("number", "to", "at")
    ]


def with_reference(phrasing: str, slot: str, word: str) -> str:
    """The phrasing with `noun {slot}` spoken as `<word> noun` ("that order")."""
    return re.sub(rf"\b(\w+) (?:#|number )?\{{{slot}\}}", lambda m: f"{word} {m.group(1)}", phrasing, count=1)


# how a phrasing gives the user's own email, and what it says once the email is known
_EMAIL_SENTENCE = re.compile(r"^[^.?!;]*\{email\}[^.?!;]*[.?!]?$")
_EMAIL_ACCOUNT = re.compile(
    r"\b(?:the|an?) (?:account|customer|passenger|patient|subscriber)(?: account)?"
    r" (?:with (?:the )?e-?mail(?: address)?|under|registered (?:as|to|under)) \{email\}",
    re.I,
)
_ACCOUNT_AS_PERSON = re.compile(
    r"\b(?:can|like|would|does|did|has|when) my account\b|\bmy account (?:to |see\b|has\b|wants\b|lost\b|is\b|needs\b)",
    re.I,
)
_EMAIL_QUALIFIER = re.compile(r",?\s+(?:under|for|on) (?:the account |my account |account )?\{email\}", re.I)


def elided(phrasing: str) -> str | None:
    """The phrasing as said by someone whose email the conversation already has: the email left out.

    "What have I ordered so far? My email is {email}." -> "What have I ordered so far?";
    "What orders are on the account with email {email}?" -> "What orders are on my account?";
    "Cancel my booking from {booking_date} under {email}." -> "Cancel my booking from {booking_date}."
    None when the phrasing cannot do without it.
    """
    if "{email}" not in phrasing:
        return None
    sentences = re.split(r"(?<=[.?!;])\s+", phrasing.strip())
    # a sentence that only gives the email ("My email is {email}."), never one that asks something too
    kept = [x for x in sentences if not (_EMAIL_SENTENCE.match(x) and len(_SLOT.findall(x)) == 1 and "?" not in x)]
    if kept and len(kept) < len(sentences) and "{email}" not in " ".join(kept):
        text = " ".join(kept)
        return text[:-1] + "." if text.endswith(";") else text
    text = _EMAIL_ACCOUNT.sub("my account", phrasing, count=1)
    text = re.sub(r"\b(for|book) my account\b", r"\1 me", text, flags=re.I)  # "Book a visit for me with ..."
    if _ACCOUNT_AS_PERSON.search(text) or len(re.findall(r"\bme\b", text, re.I)) > 1:
        return None  # "Can my account see Dr Lindholm?", "Show me every visit for me."
    if "{email}" in text:
        text = _EMAIL_QUALIFIER.sub("", text, count=1)
    return text if "{email}" not in text and text != phrasing else None


# interchangeable words: the user's grammar draws one, the assistant accepts any
LEAD_VERBS = (
    ("show me", "give me", "pull up", "bring up", "get me", "let me see", "find me", "fetch"),
    ("list", "go through", "run through", "walk me through", "take me through", "talk me through", "go over"),
    ("look up", "check", "find", "look into"),
    ("tell me", "find out", "let me know"),
)
PHRASES = (
    ("details", "info", "information", "particulars"),
    ("right now", "at the moment", "currently"),
    ("in total", "overall", "in all"),
    ("anymore", "any longer"),
    ("from now on", "going forward", "from today on"),
    ("placed", "made"),
    ("status", "current status", "state"),
    ("how full", "how busy", "how booked up"),
    ("what's", "what is"),
    # the same record, in the words people use for it
    ("booking", "reservation"),
    ("bookings", "reservations"),
    ("appointment", "visit"),
    ("appointments", "visits"),
    ("invoice", "bill"),
    ("invoices", "bills"),
    ("club", "team"),
    ("clubs", "teams"),
    ("item", "product", "article"),
    ("items", "products", "articles"),
    ("doctor", "physician"),
    ("doctors", "physicians"),
    ("I'd like", "I want", "I need", "I'd love"),
    ("email address", "e-mail address", "email", "e-mail"),
    ("this year", "this season"),
    ("so far", "to date", "up to now", "until now"),
    # how a user says where their record is (the sentence the email goes in)
    ("I'm registered as", "I'm signed up as", "I'm on file as"),
    ("the record is under", "my record is under", "my file is under"),
    ("altogether", "all told"),  # adverbs: "the combined market value" stays as it is
)
_PHRASE_GROUP = {member.lower(): group for group in PHRASES for member in group}


def synonyms(word: str) -> tuple[str, ...]:
    """The words people use for the same thing (`club` -> club, team), the word itself included."""
    return _PHRASE_GROUP.get(word.lower(), (word,))


_PHRASE_RE = re.compile(r"\b(" + "|".join(sorted(_PHRASE_GROUP, key=len, reverse=True)) + r")\b", re.I)
_PHRASE_OR_SLOT = re.compile(r"\{\w+\}|" + _PHRASE_RE.pattern, re.I)
ID_FORMS = ("{}", "{}", "#{}", "number {}", "no. {}")
_ID_PREFIX = re.compile(r"(?:#|number |no\. )\{(\w+)\}")
# a wh-question about "the X" is also asked as "tell me the X" (and so takes the grammar's frames)
_ASKS_FOR = re.compile(r"^(?:what's|what is|what are) (the [^?{]*\{\w+\}[^?]*)[.?]$", re.I)


def expanded_phrasings(intent_phrasings: tuple[str, ...]) -> tuple[str, ...]:
    """An intent's phrasings plus the imperative forms of its wh-questions about "the X"."""
    extra = []
    for phrasing in intent_phrasings:
        match = _ASKS_FOR.match(normalise(phrasing))
        if match:
            extra.append(f"Tell me {match.group(1)}.")
    return intent_phrasings + tuple(e for e in extra if e not in intent_phrasings)


def _lead_class(body: str) -> tuple[tuple[str, ...], str] | None:
    """The interchangeable verb an imperative body opens with, and the rest of the body."""
    lowered = body.lower()
    for group in LEAD_VERBS:
        for member in group:
            if lowered.startswith(member + " "):
                return group, body[len(member) + 1 :]
    return None


def vary_body(body: str, rng: random.Random) -> str:
    """An imperative body with its opening verb drawn from its equivalents."""
    lead = _lead_class(body)
    if lead is not None and not lead[1].startswith(("on ", "up ", "in ", "out ")):  # "check on ...": a verb of its own
        body = f"{rng.choice(lead[0])} {lead[1]}"
    return body


def vary_phrases(text: str, rng: random.Random) -> str:
    """Interchangeable words ("details", "right now") drawn from their equivalents."""

    def swap(match: re.Match[str]) -> str:
        if match.group(0).startswith("{"):
            return match.group(0)  # a slot's name is not a word of the sentence
        drawn = rng.choice(_PHRASE_GROUP[match.group(1).lower()])
        return drawn[:1].upper() + drawn[1:] if match.group(1)[:1].isupper() else drawn

    return _PHRASE_OR_SLOT.sub(swap, text)


def vary_ids(phrasing: str, slots: dict[str, str], rng: random.Random) -> str:
    """A phrasing with each id written as 17, #17, number 17 or no. 17, drawn per id."""

    def form(match: re.Match[str]) -> str:
        name = match.group(2)
        if slots.get(name) != "int" or not (name == "id" or name.endswith("_id")):
            return match.group(0)  # a count is a count: "scored 2", never "scored no. 2"
        return match.group(1) + rng.choice(ID_FORMS).format("{" + match.group(2) + "}")

    return re.sub(r"(\w )(?:#|number |no\. )?\{(\w+)\}", form, phrasing)


def _compile(phrasing: str, slots: dict[str, str]) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    kind, body = split_frame(phrasing)
    body = body.rstrip()
    trailing = ""
    while body and body[-1] in ".?!":
        trailing = body[-1]
        body = body[:-1]
    body = _ID_PREFIX.sub(lambda m: "{" + m.group(1) + "}" if slots.get(m.group(1)) == "int" else m.group(0), body)
    if kind == "imperative" and (lead := _lead_class(body)) is not None:
        parts.append("(?:" + "|".join(_literal(m) for m in lead[0]) + r")\s+")
        body = lead[1]
    for match in _SLOT.finditer(body):
        literal = body[position : match.start()]
        parts.append(_literal(literal))
        kind = "ref" if match.group(1).startswith(_REF_PREFIX) else slots.get(match.group(1), "text")
        pattern = SLOT_PATTERNS[kind]
        if kind == "text" and match.end() == len(body):
            pattern = r"[^.?!\n]+"
        if kind == "int":
            pattern = rf"(?:#|number\s+|no\.\s*)?(?P<{match.group(1)}>{pattern})"
            parts.append(pattern)
            position = match.end()
            continue
        parts.append(f"(?P<{match.group(1)}>{pattern})")
        position = match.end()
    parts.append(_literal(body[position:]))
    if trailing:
        parts.append(r"[.?!]?")
    return re.compile("".join(parts), re.IGNORECASE)


def _literal(text: str) -> str:
    if not text:
        return ""
    out: list[str] = []
    position = 0
    for match in _PHRASE_RE.finditer(text):
        out.append(_words(text[position : match.start()]))
        group = _PHRASE_GROUP[match.group(1).lower()]
        out.append("(?:" + "|".join(_words(m) for m in sorted(group, key=len, reverse=True)) + ")")
        position = match.end()
    out.append(_words(text[position:]))
    return "".join(out)


def _words(text: str) -> str:
    # "a"/"an" either way: the user's grammar fixes the article after swapping a word for its synonym
    return r"\s+".join(_word(word) for word in text.split(" ")) if text else ""


def _word(word: str) -> str:
    return r"an?" if word.lower() in ("a", "an") else re.escape(word) if word else ""


@dataclass(frozen=True)
class Request:
    """A request recognised in a user message."""

    intent: Intent
    slots: dict[str, object]
    start: int
    end: int
    said: str = ""  # the words of the message that made the request


@dataclass(frozen=True)
class Clarification:
    """A request the assistant recognised only in part: which slots it still needs."""

    intent: Intent
    missing: tuple[str, ...]


class RequestParser:
    """Finds intents' phrasings in free text."""

    def __init__(self, pack: DomainPack) -> None:
        self.pack = pack
        self._sources: list[tuple[Intent, str]] = []  # compiled on the first parse: see `_patterns`
        # parses of texts without spoken references, by text: a turn is read again on later turns
        self._parsed: dict[str, list[Request]] = {}
        # every phrasing's matches, by text, before spoken references are resolved (see `_matches`)
        self._matched: dict[str, list[tuple[Intent, tuple[tuple[str, str], ...], int, int]]] = {}
        # intent name -> what a user may say for it: the pack's phrasings and their imperative forms
        self.phrasings: dict[str, tuple[str, ...]] = {}
        # intent name -> its phrasings without the user's email, for when the conversation has it (`elided`)
        self.without_email: dict[str, tuple[str, ...]] = {}
        # pattern index -> the slot its phrasing leaves out (the email), which the conversation must give
        self._left_out: dict[int, str] = {}
        for intent in pack.intents:
            self.phrasings[intent.name] = expanded_phrasings(intent.phrasings)
            for phrasing in self.phrasings[intent.name]:
                self._sources.append((intent, phrasing))
                for _, slot in referable(phrasing, intent.slots):
                    spoken = with_reference(phrasing, slot, "{" + _REF_PREFIX + slot + "}")
                    self._sources.append((intent, spoken))
            if _finds_the_user_by_email(intent):
                short = tuple(dict.fromkeys(e for p in intent.phrasings if (e := elided(p)) is not None))
                self.without_email[intent.name] = short
                for phrasing in short:
                    self._left_out[len(self._sources)] = "email"
                    self._sources.append((intent, phrasing))
        # a word every match of a pattern contains (lower case), to skip patterns that cannot match
        self._anchors = _anchors(self._sources)

    @functools.cached_property
    def _patterns(self) -> list[tuple[Intent, re.Pattern[str]]]:
        """Every phrasing as a pattern, compiled when first needed: ~160 of them take 50-100 ms, which
        opening a saved session in the TUI would otherwise pay before its first frame."""
        return [(intent, _compile(phrasing, intent.slots)) for intent, phrasing in self._sources]

    def parse(self, text: str, resolve: Callable[[str], object | None] | None = None) -> list[Request]:
        """Every request in `text`, in order, non-overlapping (longest match wins).

        Args:
            resolve: slot name -> the value the conversation last gave it, for requests
                that refer back ("what's in that order?"); without it, or when it knows
                no value, such a request is not recognised.
        """
        text = normalise(text)
        if resolve is None and text in self._parsed:
            return list(self._parsed[text])
        found: list[Request] = []
        matches = self._matches(text)
        # what the text itself says of a slot before a match that leaves it out ("... under ana@x.com. And
        # what have I spent?"), else what the conversation said
        given = [(start, name, value) for _, groups, start, _ in matches for name, value in groups if value]
        for intent, groups, start, end in matches:
            slots: dict[str, object] = {}
            for name, value in groups:
                if name.startswith(_REF_PREFIX):
                    name = name[len(_REF_PREFIX) :]
                    said = [v for at, n, v in given if n == name and at < start] if not value else []
                    resolved = _convert(said[-1], intent.slots[name]) if said else None
                    if resolved is None:
                        resolved = resolve(name) if resolve is not None else None
                    if resolved is None:
                        break
                    slots[name] = resolved
                else:
                    slots[name] = _convert(value, intent.slots.get(name, "text"))
            else:
                found.append(Request(intent, slots, start, end, text[start:end]))
        found.sort(key=lambda r: (r.start, -(r.end - r.start)))
        chosen: list[Request] = []
        for request in found:
            if chosen and request.start < chosen[-1].end:
                continue
            chosen.append(request)
        if resolve is None:
            if len(self._parsed) > 4096:
                self._parsed.clear()
            self._parsed[text] = list(chosen)
        return chosen

    def _matches(self, text: str) -> list[tuple[Intent, tuple[tuple[str, str], ...], int, int]]:
        """Every phrasing's matches in the normalised `text`: (intent, named groups, start, end).

        Kept by text: the assistant reads the same user turn again at each step that serves it,
        with a `resolve` that only the spoken references depend on.
        """
        matches = self._matched.get(text)
        if matches is None:
            lowered = text.lower()
            matches = [
                (intent, tuple(match.groupdict().items()) + self._left_out_group(k), match.start(), match.end())
                for k, ((intent, pattern), anchor) in enumerate(zip(self._patterns, self._anchors, strict=True))
                if anchor in lowered
                for match in pattern.finditer(text)
            ]
            if len(self._matched) > 4096:
                self._matched.clear()
            self._matched[text] = matches
        return matches

    def _left_out_group(self, k: int) -> tuple[tuple[str, str], ...]:
        slot = self._left_out.get(k)
        return ((_REF_PREFIX + slot, ""),) if slot is not None else ()

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
        return Request(intent, slots, 0, len(text), normalise(text))


def _finds_the_user_by_email(intent: Intent) -> bool:
    """Whether the intent starts by finding the user from their email and goes on from there."""
    return intent.slots.get("email") == "email" and len(intent.steps) > 1 and intent.steps[0].tool.endswith("_by_email")


def _anchor_words(phrasing: str) -> list[str]:
    """The words of a phrasing that any text it matches contains as written, lower case.

    Words a pattern accepts in other forms (interchangeable phrases, lead verbs, id prefixes,
    articles) and slots are passed over.
    """
    kind, body = split_frame(phrasing)
    if kind == "imperative" and (lead := _lead_class(body)) is not None:
        body = lead[1]
    body = _PHRASE_OR_SLOT.sub(" ", body)
    return [w.lower() for w in re.findall(r"[A-Za-z']+", body) if w.lower() not in ("a", "an", "number", "no")]


def _anchors(sources: list[tuple[Intent, str]]) -> list[str]:
    """For each phrasing, the word a text must hold for the phrasing to match it ('' when none is sure):
    of its sure words, the one fewest of the pack's phrasings use (then the longest), so that a text
    goes through few patterns ("booked" rather than "subscriber", which half the pack says)."""
    words = [_anchor_words(phrasing) for _, phrasing in sources]
    used = Counter(w for ws in words for w in set(ws))
    return [min(ws, key=lambda w: (used[w], -len(w))) if ws else "" for ws in words]


def _convert(value: str, kind: str) -> object:
    value = value.strip()
    if kind == "int":
        return int(value)
    if kind == "float":
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    return value
