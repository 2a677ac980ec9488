"""A quick answer to "do these tool-call arguments fit?" for the plain schemas tools mostly have.

`jsonschema` walks a schema with a new validator object for every property it descends into: about
a tenth of a millisecond per call, a sixth of an export's own work. Tool parameters derived from a
database (and most written by hand or by a model) use only a handful of keywords, whose meaning is
simple enough to check directly. `plain_schema` reads a schema made only of those into a `PlainSchema`,
whose `fits` answers exactly as `jsonschema`'s Draft 2020-12 validator without a format checker
(what `record_checks` uses) answers whether the instance is valid. A schema with any other keyword,
or any value of them outside this reading, gets None: `jsonschema` alone, as before. Only a yes is
taken from here; a no is handed to `jsonschema`, which finds the error to name.

The keywords: `type` (one of the seven JSON types, or a list of them), `enum` of scalars,
`minimum`/`maximum`, `properties`, `required`, `additionalProperties` as true or false, and the
annotations `description`, `title`, `default`, `examples`, `$comment`, `format` (not checked without
a format checker). Owns: `plain_schema`, `PlainSchema`. Leaves to `record_checks` checking that the
schema is a schema at all and naming a misfit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "$comment", "format"})
_KEYWORDS = _ANNOTATIONS | {"type", "enum", "minimum", "maximum", "properties", "required", "additionalProperties"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# jsonschema's Draft 2020-12 type checker over what `json.loads` makes (dict, list, str, int, float, bool, None)
_TYPES: dict[str, Callable[[Any], bool]] = {
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: (
        (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    ),
    "null": lambda value: value is None,
    "number": _is_number,
    "object": lambda value: isinstance(value, dict),
    "string": lambda value: isinstance(value, str),
}


def _same_scalar(member: Any, value: Any) -> bool:
    """jsonschema's `equal` for an enum member that is a scalar: True and 1 differ, 1 and 1.0 do not."""
    if isinstance(member, str) or isinstance(value, str):
        return member == value
    if isinstance(member, bool) or isinstance(value, bool):
        return isinstance(member, bool) and isinstance(value, bool) and member == value
    if member is None or value is None:
        return member is value
    return _is_number(value) and member == value


@dataclass(frozen=True)
class PlainSchema:
    """A schema of the plain keywords, read once; `fits` checks an instance against it."""

    types: tuple[Callable[[Any], bool], ...] | None = None
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    properties: tuple[tuple[str, PlainSchema], ...] = ()
    required: tuple[str, ...] = ()
    closed: bool = False  # additionalProperties: false
    names: frozenset[str] = frozenset()  # the keys `properties` names

    def fits(self, value: Any) -> bool:
        """Whether jsonschema finds no error in `value` (a value `json.loads` made) under this schema."""
        if self.types is not None and not any(test(value) for test in self.types):
            return False
        if self.enum is not None and not any(_same_scalar(member, value) for member in self.enum):
            return False
        if self.minimum is not None and _is_number(value) and value < self.minimum:
            return False
        if self.maximum is not None and _is_number(value) and value > self.maximum:
            return False
        if isinstance(value, dict):
            for key in self.required:
                if key not in value:
                    return False
            for key, schema in self.properties:
                if key in value and not schema.fits(value[key]):
                    return False
            if self.closed and any(key not in self.names for key in value):
                return False
        return True


def plain_schema(schema: Any) -> PlainSchema | None:
    """`schema` read as a `PlainSchema`, or None when it uses anything beyond the plain keywords."""
    if not isinstance(schema, dict) or not schema.keys() <= _KEYWORDS:
        return None
    types = schema.get("type")
    type_names: list[Any] = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    if types is not None and not (type_names is types or isinstance(types, str)):
        return None  # neither a type name nor a list of them
    if not all(isinstance(name, str) and name in _TYPES for name in type_names):
        return None
    enum = schema.get("enum")
    if enum is not None and not (
        isinstance(enum, list) and all(m is None or isinstance(m, (str, int, float, bool)) for m in enum)
    ):
        return None
    bounds = [schema.get(key) for key in ("minimum", "maximum")]
    if not all(bound is None or _is_number(bound) for bound in bounds):
        return None
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    closed = schema.get("additionalProperties", True)
    if not isinstance(properties, dict) or not isinstance(required, list) or not isinstance(closed, bool):
        return None
    if not all(isinstance(key, str) for key in required):
        return None
    read = {key: plain_schema(sub) for key, sub in properties.items()}
    if any(sub is None for sub in read.values()):
        return None
    return PlainSchema(
        types=tuple(_TYPES[name] for name in type_names) if types is not None else None,
        enum=tuple(enum) if enum is not None else None,
        minimum=bounds[0],
        maximum=bounds[1],
        properties=tuple((key, sub) for key, sub in read.items() if sub is not None),
        required=tuple(required),
        closed=not closed,
        names=frozenset(properties),
    )
