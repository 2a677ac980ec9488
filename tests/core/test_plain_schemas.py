"""The quick argument check (`plain_schemas`) answers as jsonschema does, and hands it every misfit.

Random schemas of the plain keywords (nested objects, type lists, scalar enums with `true`, `1`
and `1.0`, bounds) and random instances (the values `json.loads` makes, NaN and integral floats
among them): `fits` must equal jsonschema's `is_valid` under the validator the record checks use.
A schema with any other keyword is not read at all. The tools offline sessions carry are all read,
and an export still names jsonschema's error for arguments that do not fit.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from _session_builders import simple_session
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from turnloom.core.export import build_record
from turnloom.core.export.plain_schemas import plain_schema
from turnloom.core.export.record_checks import RecordRejected
from turnloom.core.models import ToolCall

KEYS = ["a", "b", "c"]
TYPES = ["array", "boolean", "integer", "null", "number", "object", "string"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([1.0, 0.0, -2.0, 2.5, float("nan"), float("inf"), 10**20])
    | st.sampled_from(["", "x", "1", "true"])
)
instances = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def schemas(draw: st.DrawFn, depth: int = 2) -> dict[str, Any]:
    """A schema of a few plain keywords (a few, so that many instances fit it)."""
    parts: dict[str, st.SearchStrategy[Any]] = {
        "type": st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
        "enum": st.lists(scalars, min_size=1, max_size=4),
        "minimum": st.integers(-2, 2) | st.sampled_from([0.5, -1.5]),
        "maximum": st.integers(-2, 2) | st.sampled_from([0.5, 2.0]),
        "required": st.lists(st.sampled_from(KEYS), max_size=2, unique=True),
        "additionalProperties": st.booleans(),
        "description": st.text(max_size=5),
        "format": st.sampled_from(["date", "email"]),
    }
    if depth:
        parts["properties"] = st.dictionaries(st.sampled_from(KEYS), schemas(depth - 1), max_size=3)
    chosen = draw(st.lists(st.sampled_from(sorted(parts)), max_size=3, unique=True))
    return {key: draw(parts[key]) for key in chosen}


def jsonschema_says(schema: dict[str, Any], instance: Any) -> bool:
    validator_cls = jsonschema.validators.validator_for(schema)
    return validator_cls(schema).is_valid(instance)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(schemas(), instances)
@example({"type": "integer"}, 2.0)
@example({"type": "integer"}, 2.5)
@example({"minimum": 1}, 1)
@example({"maximum": 1.0}, 1)
@example({"enum": [1]}, True)
@example({"enum": [True]}, 1)
@example({"enum": [1.0]}, 1)
@example({"properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"a": "x", "b": 1})
def test_a_plain_schema_fits_exactly_what_jsonschema_finds_valid(schema: dict[str, Any], instance: Any) -> None:
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError:
        assume(False)
    plain = plain_schema(schema)
    assert plain is not None
    assert plain.fits(instance) == jsonschema_says(schema, instance)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^a"},
        {"type": "object", "properties": {"a": {"type": "string", "minLength": 2}}},
        {"$ref": "#/$defs/x", "$defs": {"x": {"type": "string"}}},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"enum": [[1], {"a": 1}]},
        {"properties": {"a": True}},
        {"type": "decimal"},
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"},
    ],
)
def test_a_schema_with_other_keywords_is_left_to_jsonschema(schema: dict[str, Any]) -> None:
    assert plain_schema(schema) is None


def test_the_tools_of_offline_sessions_are_all_plain(tmp_path) -> None:
    from turnloom.core.cli import main
    from turnloom.core.storage.snapshot import load_session

    assert main(["generate", "--n", "5", "--out", str(tmp_path), "--quiet"]) == 0
    tools = [spec for path in sorted(tmp_path.glob("*.session.json")) for spec in load_session(path).tools]
    assert tools and all(plain_schema(json.loads(json.dumps(spec.parameters))) is not None for spec in tools)


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ('{"city": 3}', "do not fit its schema at $.city: 3 is not of type 'string'"),
        ('{"city": "Oslo", "unit": "k"}', "do not fit its schema at $.unit: 'k' is not one of ['c', 'f', None]"),
        ('{"unit": "c"}', "do not fit its schema at $: 'city' is a required property"),
        ('{"city": "Oslo", "wind": 1}', "Additional properties are not allowed ('wind' was unexpected)"),
    ],
)
def test_arguments_that_do_not_fit_are_named_as_jsonschema_names_them(arguments: str, reason: str) -> None:
    session = simple_session()
    call = session.messages[2].tool_calls[0]
    session.messages[2].tool_calls[0] = ToolCall(id=call.id, name=call.name, arguments=arguments)
    with pytest.raises(RecordRejected) as rejected:
        build_record(session, "openai", {})
    assert reason in str(rejected.value)
    assert build_record(simple_session(), "openai", {})["messages"]
