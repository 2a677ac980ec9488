"""Human nouns from schema names: `InvoiceLine`, `invoiceline`, `tbl_order_items` -> "invoice line", "order items".

A database's tables and tools are named for machines: camelCase, snake_case,
plural tables, `tbl_` prefixes, `_id` suffixes, and (because tool names are
lower-cased) run-together words like `invoiceline`. `noun_of` splits a name into
words (case and separator boundaries first, then word segmentation of any
run-together piece against a small built-in vocabulary plus the words the
database itself spells out in its column and table names), drops prefixes and
key suffixes, and gives the singular and plural.

A `Lexicon` names a toolset's records: each tool's table as a noun, each field
as words. Where the words are used (phrasings, replies) is left to `generic`
and `replies`; singularising one word is `tools.schema.singular`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from turnloom.core.models import ToolSpec
from turnloom.core.tools.schema import singular

# Words common in schemas, for segmenting run-together names; a database adds its own (`vocabulary_of`).
_BUILTIN_WORDS = frozenset(
    """
    account activity address admin agent aircraft airline airport album allergy amount appointment area artist
    asset attribute author balance bank bed bill billing birth book booking branch brand budget building
    cabin call campaign car card cart case category charge city claim class client clinic club code
    comment company contact content contract conversion cost country county coupon course credit currency
    customer data date day department deposit description detail device diagnosis discount doctor document
    driver drug due duration email employee end enrollment entry equipment event exam expense family
    fee file film first flight genre grade group guest head hire history hospital hotel hour image
    income insurance inventory invoice item job journal key language last league level license line
    list loan location log manager manufacturer match media medication member membership message method
    model month movie name note number order owner package page part passenger patient payment people person
    phone photo plan platform play player playlist policy position post postal prescription price
    product profile project property purchase quantity rate rating reading receipt record region
    rental rep report request reservation result review role room route sale salary schedule school
    score seat season section seller service session shift ship shipment shipping size skill slot
    song source staff stadium start state station status stock store student subject subscriber
    subscription supplier support tag task tax team term territory test text ticket time title total
    tour track trade transaction transfer trip type unit usage user vehicle vendor venue visit
    warehouse weight work year zip
    of to by per
    """.split()
)
_PREFIXES = ("tbl", "tb", "t", "vw", "v")  # only dropped when they stand apart (tbl_orders, tblOrders)
_KEY_SUFFIXES = frozenset({"id", "ids", "key", "pk", "fk", "uuid", "guid"})
_UNCOUNTABLE = frozenset(
    {"data", "staff", "information", "equipment", "media", "news", "series", "species", "inventory", "history"}
)
_IRREGULAR_PLURALS = {"person": "people", "child": "children", "man": "men", "woman": "women", "analysis": "analyses"}
_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+("(?:[^"]|"")+"|\w+)', re.I)
_QUOTED = re.compile(r'(?<!AS )"((?:[^"]|"")+)"')  # tables and columns, not the aliases the forge made
_TOOL_PREFIXES = (
    "get_", "search_", "list_", "find_", "create_", "add_", "update_", "set_", "change_", "delete_", "remove_",
)  # fmt: skip
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SEPARATORS = re.compile(r"[^0-9A-Za-z]+")


@dataclass(frozen=True)
class Noun:
    """A schema name as a person says it."""

    one: str
    many: str

    def __str__(self) -> str:
        return self.one


def vocabulary_of(names: Iterable[str]) -> frozenset[str]:
    """The words a database spells out itself: from names with case or separator boundaries.

    Args:
        names: table and column names as the database writes them, e.g. ``InvoiceLineId``, ``unit_price``.

    Returns:
        Lower-case words of three letters or more, e.g. ``{"invoice", "line", "unit", "price"}``.
    """
    found: set[str] = set()
    for name in names:
        pieces = _pieces(name)
        if len(pieces) > 1:
            # a piece the built-in words already spell as several (``invoiceline_count``) is a compound, not a word
            found.update(p for p in pieces if len(p) >= 3 and p.isalpha() and len(_segment(p, _BUILTIN_WORDS)) == 1)
    return frozenset(found)


def noun_of(name: str, vocabulary: frozenset[str] = frozenset()) -> Noun:
    """The singular and plural a person would use for a table, entity or column name.

    Args:
        name: e.g. ``InvoiceLine``, ``invoiceline``, ``tbl_customers``, ``order_items``, ``customer_id``.
        vocabulary: extra words for segmenting run-together names (see `vocabulary_of`).

    Returns:
        e.g. ``Noun("invoice line", "invoice lines")``, ``Noun("customer", "customers")``.
    """
    return _noun_of(name, vocabulary)


def noun(table: str, vocabulary: frozenset[str] = frozenset()) -> str:
    """`noun_of(table).one`: ``InvoiceLine`` -> ``invoice line``."""
    return _noun_of(table, vocabulary).one


def plural(table: str, vocabulary: frozenset[str] = frozenset()) -> str:
    """`noun_of(table).many`: ``InvoiceLine`` -> ``invoice lines``."""
    return _noun_of(table, vocabulary).many


def split_words(name: str, vocabulary: frozenset[str] = frozenset()) -> list[str]:
    """The words of a name, lower-case, with prefixes and key suffixes kept (``customer_id`` -> customer, id)."""
    words: list[str] = []
    for piece in _pieces(name):
        words += _segment(piece, _BUILTIN_WORDS | vocabulary) if piece.isalpha() else [piece]
    return words


# a past participle in a date column's name, as the noun a person uses for that date
_EVENT_NOUNS = {
    "opened": "opening", "created": "creation", "booked": "booking", "joined": "joining", "issued": "issue",
    "signed": "signing", "started": "start", "ended": "end", "shipped": "shipping", "paid": "payment",
    "activated": "activation", "closed": "closing", "updated": "update", "registered": "registration",
    "delivered": "delivery", "born": "birth", "hired": "hire", "released": "release", "modified": "modification",
    "cancelled": "cancellation", "canceled": "cancellation", "completed": "completion", "submitted": "submission",
    "resolved": "resolution", "expired": "expiry", "renewed": "renewal", "approved": "approval", "placed": "order",
    "purchased": "purchase", "sent": "sending", "received": "receipt", "scheduled": "scheduled",
}  # fmt: skip


def field_phrase(label: str) -> str:
    """A field's words as a noun phrase: "opened on" -> "opening date", "created at" -> "creation time", "due on" -> "due date".

    Labels that already are noun phrases ("visit date", "email address") come back unchanged.
    """
    words = label.split()
    if len(words) < 2 or words[-1] not in ("on", "at"):
        return label
    event = words[-2]
    noun = _EVENT_NOUNS.get(event, event)
    return " ".join([*words[:-2], noun, "date" if words[-1] == "on" else "time"])


def pluralise(word: str) -> str:
    """The plural of one lower-case English noun (``category`` -> ``categories``)."""
    if word in _UNCOUNTABLE or not word:
        return word
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    if singular(word) != word:
        return word  # already plural
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


@lru_cache(maxsize=4096)
def _noun_of(name: str, vocabulary: frozenset[str]) -> Noun:
    separate = _pieces(name)
    words = split_words(name, vocabulary)
    if len(separate) > 1 and separate[0] in _PREFIXES:
        words = words[1:]
    elif len(words) > 1 and words[0] == "tbl":
        words = words[1:]  # tblorders segments to tbl + orders
    while len(words) > 1 and words[-1] in _KEY_SUFFIXES:
        words = words[:-1]
    if not words:
        words = [name.lower()]
    head = words[-1]
    one = head if head in _UNCOUNTABLE else singular(head)
    return Noun(" ".join([*words[:-1], one]), " ".join([*words[:-1], pluralise(one)]))


def _pieces(name: str) -> list[str]:
    """Split on separators and case changes, lower-cased: ``tblInvoice_LINE2`` -> tbl, invoice, line, 2."""
    return [m.lower() for part in _SEPARATORS.split(name.strip("\"'`[]")) for m in _CAMEL.findall(part)]


@lru_cache(maxsize=4096)
def _segment(piece: str, vocabulary: frozenset[str]) -> list[str]:
    """The fewest known words that spell `piece` (their singulars count), or the piece whole.

    Ties go to the segmentation with the longest words, so `invoiceline` is invoice + line,
    never in + voice + line. A piece that no run of known words spells stays whole.
    """
    if _known(piece, vocabulary) or len(piece) < 5:
        return [piece]
    if piece.startswith("tbl") and len(piece) > 5:
        return ["tbl", *_segment(piece[3:], vocabulary)]
    n = len(piece)
    # best[i]: (word count, -sum of squared lengths, words) spelling piece[:i]
    best: list[tuple[int, int, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, 0, [])
    for end in range(2, n + 1):
        for start in range(max(0, end - 20), end - 1):
            before = best[start]
            word = piece[start:end]
            if before is None or not (_known(word, vocabulary) or word in _KEY_SUFFIXES):
                continue
            candidate = (before[0] + 1, before[1] - len(word) ** 2, [*before[2], word])
            current = best[end]
            if current is None or candidate[:2] < current[:2]:
                best[end] = candidate
    found = best[n]
    return found[2] if found is not None else [piece]


def _known(word: str, vocabulary: frozenset[str]) -> bool:
    return word in vocabulary or (singular(word) != word and singular(word) in vocabulary)


@dataclass(frozen=True)
class Lexicon:
    """How the tools' records are named: tool -> the noun of the table it reads or changes."""

    nouns: dict[str, Noun]
    vocabulary: frozenset[str]

    def noun(self, tool: str) -> Noun:
        found = self.nouns.get(tool)
        return found if found is not None else noun_of(_tool_subject(tool), self.vocabulary)

    def label(self, field: str) -> str:
        """A field as a person names it: ``UnitPrice`` -> "unit price", ``is_default`` -> "default"."""
        words = split_words(field, self.vocabulary)
        if len(words) > 1 and words[0] in ("is", "has"):
            words = words[1:]
        if len(words) > 1 and words[-1] in ("id", "ids"):
            words = [*words[:-1], "ID"]
        return re.sub(r" (\d+)\b", r"\1", " ".join(words))  # digits stay on their word: "line2"

    @staticmethod
    def is_flag(field: str) -> bool:
        """Whether a field is a yes/no flag by its name (``is_default``, ``hasWifi``)."""
        return re.match(r"(is|has)(_|[A-Z])", field) is not None


def lexicon_for(tools: Sequence[ToolSpec]) -> Lexicon:
    """The lexicon of a toolset (cached: a dialogue's tools do not change between replies)."""
    return _lexicon(tuple((t.name, t.sql or "") for t in tools))


@lru_cache(maxsize=64)
def _lexicon(tools: tuple[tuple[str, str], ...]) -> Lexicon:
    vocabulary = vocabulary_of(q.replace('""', '"') for _, sql in tools for q in _QUOTED.findall(sql))
    nouns: dict[str, Noun] = {}
    for name, sql in tools:
        match = _TABLE.search(sql)
        if match is not None:
            nouns[name] = noun_of(match.group(1).strip('"'), vocabulary)
    return Lexicon(nouns, vocabulary)


def _tool_subject(tool: str) -> str:
    name = next((tool[len(p) :] for p in _TOOL_PREFIXES if tool.startswith(p)), tool)
    return name.split("_by_")[0].removesuffix("_summary")
