"""A quick yes for the plain JSON Schemas requests and tools are checked against.

`plain_check(schema)` turns a schema made only of the common keywords (`type`,
`properties`, `required`, `additionalProperties`, `items`, `enum`, `const`, the
length, size and range bounds, and annotations) into a predicate that says
whether an instance fits, with the meaning jsonschema's Draft 2020-12 validator
gives those keywords; any other keyword (a `$ref`, a pattern, a combinator, a
`$schema`) gives None. Callers use it only for the usual case, a fitting value:
when it says no, or cannot say, they ask jsonschema, which also words the error.
A role asks with one schema for every request and a batch's dialogues share their
tools, so the predicate is built once per schema; checking a reply with it takes
a fraction of jsonschema's walk (which makes a validator object per level).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsonschema._utils import equal  # jsonschema's own equality (1 is not True), for enum and const

Check = Callable[[Any], bool]

# keywords that only annotate: they never make an instance fail
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment", "deprecated", "readOnly"})
_HANDLED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
    }
)
_MAX_DEPTH = 32


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": _is_integer,
    "number": _is_number,
}


def plain_check(schema: Any) -> Check | None:
    """A predicate equal to Draft 2020-12 validity for a schema of the keywords above, or None.

    Args:
        schema: a JSON Schema (a dict, or True/False).

    Returns:
        `check(instance) -> bool`, or None when the schema uses anything else (then only
        jsonschema can say).
    """
    try:
        return _compile(schema, 0)
    except _NotPlain:
        return None


class _NotPlain(Exception):
    """The schema uses a keyword (or a value shape) this module does not handle."""


def _compile(schema: Any, depth: int) -> Check:
    if schema is True:
        return lambda _value: True
    if schema is False:
        return lambda _value: False
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        raise _NotPlain
    for keyword in schema:
        if keyword not in _HANDLED and keyword not in _ANNOTATIONS:
            raise _NotPlain
    checks: list[Check] = []
    if "type" in schema:
        checks.append(_type_check(schema["type"]))
    if "enum" in schema:
        options = schema["enum"]
        if not isinstance(options, list):
            raise _NotPlain
        checks.append(lambda v: any(equal(option, v) for option in options))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v: equal(v, const))
    checks.extend(_object_checks(schema, depth))
    checks.extend(_bound_checks(schema, depth))
    if not checks:
        return lambda _value: True
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _type_check(spec: Any) -> Check:
    names = [spec] if isinstance(spec, str) else spec
    if not isinstance(names, list) or not names or any(name not in _TYPES for name in names):
        raise _NotPlain
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(test(v) for test in tests)


def _object_checks(schema: dict[str, Any], depth: int) -> list[Check]:
    checks: list[Check] = []
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise _NotPlain
    compiled = {name: _compile(sub, depth + 1) for name, sub in properties.items()}
    if compiled:
        items = tuple(compiled.items())
        checks.append(lambda v: not isinstance(v, dict) or all(check(v[name]) for name, check in items if name in v))
    if "required" in schema:
        required = schema["required"]
        if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
            raise _NotPlain
        checks.append(lambda v: not isinstance(v, dict) or all(name in v for name in required))
    if "additionalProperties" in schema:
        extra = _compile(schema["additionalProperties"], depth + 1)
        known = frozenset(properties)
        checks.append(
            lambda v: not isinstance(v, dict) or all(extra(value) for key, value in v.items() if key not in known)
        )
    if "items" in schema:
        item = _compile(schema["items"], depth + 1)
        checks.append(lambda v: not isinstance(v, list) or all(item(element) for element in v))
    return checks


def _bound_checks(schema: dict[str, Any], depth: int) -> list[Check]:
    checks: list[Check] = []
    for keyword, applies, measure, at_least in (
        ("minLength", _TYPES["string"], len, True),
        ("maxLength", _TYPES["string"], len, False),
        ("minItems", _TYPES["array"], len, True),
        ("maxItems", _TYPES["array"], len, False),
        ("minimum", _is_number, None, True),
        ("maximum", _is_number, None, False),
    ):
        if keyword not in schema:
            continue
        bound = schema[keyword]
        if not _is_number(bound):
            raise _NotPlain
        checks.append(_bound(applies, measure, bound, at_least))
    return checks


def _bound(applies: Check, measure: Callable[[Any], Any] | None, bound: Any, at_least: bool) -> Check:
    if measure is None:
        if at_least:
            return lambda v: not applies(v) or not v < bound
        return lambda v: not applies(v) or not v > bound
    if at_least:
        return lambda v: not applies(v) or not measure(v) < bound
    return lambda v: not applies(v) or not measure(v) > bound
