"""Opening a saved session pays only for what showing it needs (issue 18: a long session opens fast)."""

from __future__ import annotations

from turnloom.core.domains import get_pack
from turnloom.core.players.offline.language import RequestParser


def test_a_request_parser_compiles_its_phrasings_on_its_first_parse_not_when_it_is_made():
    parser = RequestParser(get_pack("retail"))  # an offline session's engine makes one when it opens
    assert "_patterns" not in vars(parser)
    text = "Hi, I'm Diego Silva. What did my last order contain? My email is diego.silva@example.com."
    assert parser.parse(text)
    assert "_patterns" in vars(parser)
