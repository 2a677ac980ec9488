"""Seed-tools files (`--seed-tools`): OpenAI function-calling JSON or JSONL, checked on load."""

from __future__ import annotations

import json

import pytest

from turnloom.core.errors import ToolsetError
from turnloom.core.models import ToolOrigin
from turnloom.core.tools.seed_tools import load_seed_tools

FLIGHTS = {
    "type": "function",
    "function": {
        "name": "search_flights",
        "description": "Find flights.",
        "parameters": {"type": "object", "properties": {"origin": {"type": "string"}}, "required": ["origin"]},
    },
}
HOTEL = {"name": "book_hotel", "description": "Book a room.", "parameters": {"type": "object", "properties": {}}}


def test_a_json_array_an_object_with_tools_and_jsonl_records_all_load(tmp_path):
    array = tmp_path / "a.json"
    array.write_text(json.dumps([FLIGHTS, HOTEL]))
    wrapped = tmp_path / "b.json"
    wrapped.write_text(json.dumps({"tools": [FLIGHTS, HOTEL]}))
    lines = tmp_path / "c.jsonl"
    # one tool per line, and a dataset record whose `tools` is a JSON string (Nemotron's layout)
    lines.write_text(json.dumps(FLIGHTS) + "\n\n" + json.dumps({"tools": json.dumps([HOTEL, FLIGHTS])}) + "\n")
    for path in (array, wrapped, lines):
        tools = load_seed_tools(path)
        assert [t.name for t in tools] == ["search_flights", "book_hotel"]  # each name once
        assert tools[0].parameters["required"] == ["origin"] and tools[1].parameters["required"] == []
        assert all(t.origin is ToolOrigin.IMPORTED for t in tools)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (json.dumps(FLIGHTS) + "\n{oops\n", "line 2 is not JSON"),
        (json.dumps({"function": {"name": "has space", "parameters": {}}}), "line 1: field 'function.name'"),
        (json.dumps([HOTEL, {**HOTEL, "name": "x", "parameters": {"type": "array"}}]), "tool 1: field 'parameters'"),
        (json.dumps({"tools": [{"name": "a", "parameters": {"type": "object", "properties": 3}}]}), "tools[0]"),
        (json.dumps(FLIGHTS) + "\n" + json.dumps({"tools": "[not json"}), "line 2: field 'tools'"),
        ("[]", "no tool in it"),
        (json.dumps({**HOTEL, "description": 7}), "field 'description'"),
    ],
)
def test_a_broken_seed_tools_file_names_the_file_line_and_field(tmp_path, content, named):
    path = tmp_path / "seeds.jsonl"
    path.write_text(content)
    with pytest.raises(ToolsetError) as caught:
        load_seed_tools(path)
    assert str(path) in str(caught.value) and named in str(caught.value)
    assert caught.value.exit_code == 2
