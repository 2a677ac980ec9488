"""A tool call's arguments are checked as they always were: the same text kept, the same reason refused.

`ToolCall`'s validator parses the arguments with one strict decoder made once and no longer cleans
the parsed document's strings (it keeps only the text). The reference is the check as it was:
`json.loads` with the strict hooks, each string cleaned, then the type. Random texts mixing JSON,
NaN, huge numbers, escapes (lone surrogates too), a byte-order mark and deep nesting must give
the same outcome both ways.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from turnloom.core.models import ToolCall
from turnloom.core.untrusted import (
    StrictJsonError,
    _finite_float,
    _refuse_constant,
    fix_json_escapes,
    writable_data,
)


def reference(value: str) -> str:
    """The arguments kept, or `Value error, <reason>` as the validator said before."""
    value = fix_json_escapes(value)
    try:
        text = fix_json_escapes(value)
        parsed = writable_data(json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float))
    except StrictJsonError as exc:
        return f"Value error, tool-call arguments are not strict JSON: {exc}"
    except (json.JSONDecodeError, RecursionError) as exc:
        return f"Value error, tool-call arguments are not valid JSON: {exc or 'nested too deeply'}"
    if not isinstance(parsed, dict):
        return "Value error, tool-call arguments must be a JSON object"
    return value


def outcome(value: str) -> str:
    try:
        return ToolCall(id="c1", name="f", arguments=value).arguments
    except ValidationError as exc:
        return exc.errors()[0]["msg"]


PIECES = [
    '{"a": ',
    "1",
    "1.5",
    "1e999",
    "NaN",
    "-Infinity",
    '"x"',
    '"\\ud800"',
    '"\\ud83d\\ude00"',
    "\ud800",
    "[",
    "]",
    "{",
    "}",
    ", ",
    '"b": ',
    "null",
    "\ufeff",
    " ",
    "true",
    "\\",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=2), max_size=8).map("".join))
def test_random_arguments_get_the_outcome_they_always_got(value: str) -> None:
    assert outcome(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    ['{"a": 1}', '\ufeff{"a": 1}', '{"a": NaN}', '{"a": 1e999}', "[1]", '{"a": "\\udc00"}', "{" * 5000, "", "{}"],
)
def test_known_arguments_get_the_outcome_they_always_got(value: str) -> None:
    assert outcome(value) == reference(value)
