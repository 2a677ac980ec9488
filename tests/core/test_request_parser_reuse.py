"""The request parser matches a text once, but resolves its spoken references ("that order") on every call."""

from __future__ import annotations

from turnloom.core.domains import get_pack
from turnloom.core.players.offline.language import RequestParser


def _read(parser: RequestParser, text: str, resolve=None) -> list[tuple[str, dict]]:
    return [(r.intent.name, r.slots) for r in parser.parse(text, resolve)]


def test_a_reread_turn_resolves_its_reference_against_the_conversation_of_the_call() -> None:
    parser = RequestParser(get_pack("retail"))
    text = "What did I buy in that order? And where is my order 12?"
    assert _read(parser, text, lambda slot: 7) == [("order_items", {"order_id": 7}), ("order_status", {"order_id": 12})]
    assert _read(parser, text, lambda slot: 9) == [("order_items", {"order_id": 9}), ("order_status", {"order_id": 12})]
    assert _read(parser, text, lambda slot: None) == [("order_status", {"order_id": 12})]
    assert _read(parser, text) == [("order_status", {"order_id": 12})]
    assert _read(parser, text, lambda slot: 3) == [("order_items", {"order_id": 3}), ("order_status", {"order_id": 12})]


def test_each_call_gets_its_own_requests() -> None:
    parser = RequestParser(get_pack("retail"))
    first = parser.parse("What did I buy in order 4?", lambda slot: None)
    first[0].slots["order_id"] = 99
    again = parser.parse("What did I buy in order 4?", lambda slot: None)
    assert again[0].slots == {"order_id": 4}
