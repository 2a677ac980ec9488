"""Model JSON decoded as it streams (pydantic_core's partial parser) and repaired when a finished reply is nearly right."""

from __future__ import annotations

import json

import pytest

from turnloom.core.endpoint.exchange import StreamedField, extract_json, partial_json, repair_json

MESSAGE = 'Hi, order 12 "quoted", a\nnewline, ünïcode 😀, a \\ back and \t tab'
REPLY = {"user_message": MESSAGE, "is_task_complete": False, "notes": {"a": [1, 2.5]}}


@pytest.mark.parametrize("ascii_only", [False, True])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 12])
def test_a_streamed_field_surfaces_exactly_its_value_in_order(ascii_only, size):
    text = "Sure! " + json.dumps(REPLY, ensure_ascii=ascii_only)
    field = StreamedField("user_message")
    pieces = [field.feed(text[i : i + size]) for i in range(0, len(text), size)]
    assert "".join(pieces) == MESSAGE  # a surrogate pair split across pieces arrives whole
    assert all("\ud83d" not in piece for piece in pieces)


def test_a_streamed_field_reads_a_lone_surrogate_as_a_replacement_and_goes_on():
    text = '{"user_message": "a\\ud800b and more text after it"}'
    field = StreamedField("user_message")
    assert "".join(field.feed(c) for c in text) == "a\ufffdb and more text after it"


def test_a_streamed_field_ignores_other_fields_and_nested_namesakes():
    text = '{"notes": {"user_message": "no"}, "user_message": "yes"}'
    field = StreamedField("user_message")
    assert "".join(field.feed(c) for c in text) == "yes"


def test_partial_json_closes_what_was_cut_off_and_refuses_nan():
    assert partial_json('{"a": "hel') == {"a": "hel"}
    assert partial_json('{"a": [1, 2,') == {"a": [1, 2]}
    assert partial_json('{"a": 1} and then prose') == {"a": 1}
    for bad in ('{"a": NaN}', '{"a": 1e999}', '{"a": Infinity'):
        with pytest.raises(ValueError):
            partial_json(bad)


# what repair_json gives for a finished reply that is nearly right (a cut-off key or value is refused, not dropped)
REPAIRS = [
    ('{"limit": 2', {"limit": 2}),
    ('{"a": "hel', {"a": "hel"}),
    ('{"a": 1,}', {"a": 1}),
    ('{"a": [1, 2,', {"a": [1, 2]}),
    ('{"a":', {"a": None}),
    ('{"a": True, "b": None}', {"a": True, "b": None}),
    ('{"order_id": 12, "sta', None),
    ('{"a": tr', None),
    ('{"a": NaN}', None),
    ("no json", None),
]


@pytest.mark.parametrize("text, value", REPAIRS)
def test_repair_mends_near_misses_and_refuses_what_was_cut_off_mid_token(text, value):
    assert repair_json(text) == value


def test_extract_json_finds_the_value_in_a_chatty_reply():
    assert extract_json('Here you go:\n```json\n{"answer": "fine"}\n```') == {"answer": "fine"}
    assert extract_json('Sure {"a": 1} and {"b": 2}') == {"a": 1}
    assert extract_json('<think>x</think>{"a": "b"') == {"a": "b"}
    with pytest.raises(ValueError):
        extract_json("no json here")
