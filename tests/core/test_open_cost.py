"""Opening a saved session pays only for what showing it needs (issue 18: a long session opens fast)."""

from __future__ import annotations

from turnloom.core.domains import get_pack
from turnloom.core.players.offline.language import RequestParser


def test_a_request_parser_compiles_its_phrasings_on_its_first_parse_not_when_it_is_made():
    parser = RequestParser(get_pack("retail"))  # an offline session's engine makes one when it opens
    assert "_patterns" not in vars(parser)
    assert [(r.intent.name, r.slots) for r in parser.parse("Where is my order 12?")] == [
        ("order_status", {"order_id": 12})
    ]
    assert "_patterns" in vars(parser)
