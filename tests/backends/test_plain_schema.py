"""The quick check of plain schemas says what jsonschema says, and declines what it does not handle."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnloom.core.endpoint.plain_schema import plain_check
from turnloom.core.endpoint.structured import schema_problem
from turnloom.core.players.llm.tasks import TASK_SCHEMA
from turnloom.core.players.llm.user import USER_SCHEMA

SCHEMAS = [
    USER_SCHEMA,
    TASK_SCHEMA,
    {"type": ["integer", "null"], "minimum": 0, "maximum": 10},
    {"type": "number", "minimum": 0.5},
    {"enum": [1, "1", True, None, [1], {"a": 1}]},
    {"const": 1},
    {"const": False},
    {"type": "string", "minLength": 2, "maxLength": 3},
    {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 2},
    {"properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
    {"type": "object", "properties": {"a": False}, "required": ["b"]},
    {"items": False},
    True,
    False,
    {"title": "anything", "description": "at all"},
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 12)
    | st.floats(-3, 12, allow_nan=False)
    | st.sampled_from(["", "a", "ab", "abc", "abcd", "1", "user_message", "goal"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["a", "b", "user_message", "subtasks", "is_task_complete", "goal", "difficulty", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def typical(schema):
    """Values shaped like what the schema asks (so the agreeing 'yes' is exercised, not only 'no')."""
    if schema is USER_SCHEMA:
        return st.fixed_dictionaries(
            {
                "user_message": st.text(max_size=5),
                "subtasks": st.lists(st.integers(0, 3) | st.floats(0, 3), max_size=3),
                "is_task_complete": st.booleans() | st.integers(0, 1),
            },
            optional={"extra": st.none()},
        )
    return json_values


@pytest.mark.parametrize("schema", SCHEMAS, ids=[str(i) for i in range(len(SCHEMAS))])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_quick_check_agrees_with_jsonschema_on_any_value(schema, data):
    check = plain_check(schema)
    assert check is not None
    value = data.draw(json_values | typical(schema))
    assert check(value) == jsonschema.Draft202012Validator(schema).is_valid(value)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^a"},
        {"$ref": "#/$defs/x", "$defs": {"x": {"type": "string"}}},
        {"anyOf": [{"type": "string"}]},
        {"type": "string", "format": "email"},
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"},
        {"properties": {"a": {"type": "string", "pattern": "x"}}},
        {"type": "decimal"},
        {"prefixItems": [{"type": "string"}], "items": False},
    ],
)
def test_a_schema_with_anything_else_is_left_to_jsonschema(schema):
    assert plain_check(schema) is None


def test_a_reply_that_does_not_fit_is_still_worded_by_jsonschema():
    assert schema_problem({"user_message": "hi", "subtasks": [1], "is_task_complete": True}, USER_SCHEMA) is None
    problem = schema_problem({"user_message": "hi", "subtasks": ["one"], "is_task_complete": True}, USER_SCHEMA)
    assert problem == "at subtasks/0: 'one' is not of type 'integer'"
    assert "is_task_complete" in (schema_problem({"user_message": "hi", "subtasks": []}, USER_SCHEMA) or "")
