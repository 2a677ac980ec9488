"""Tool schemas every consumer accepts: enums of strings only.

LLaMA-Factory's default tool format joins an `enum` with `", ".join(...)`, so one integer,
boolean or null among its values raises `TypeError` and aborts the whole training job; some
chat templates do the same. The forge writes integer enums (0/1 for boolean columns, a
`CHECK (x IN (1, 2, 3))` column) and nullable ones. So, in the exported schema only:

- an enum of integers becomes a described integer range: `minimum`/`maximum` from its
  values, and the description says "one of 1, 2, 3" (or "from 1 to 3" when they run on);
- an enum of strings that also allows null keeps its strings, and the description adds
  "or null";
- any other enum (numbers, booleans, mixed) is dropped, its values named in the description.

The type is never changed, so the arguments in the record still fit the schema it lists.
The session's own schemas are untouched (the record checks validate against them).
"""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.models import ToolSpec

_NESTED_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_NESTED_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
_NESTED_MAP = ("properties", "patternProperties", "$defs", "definitions")


def portable_function(spec: ToolSpec) -> dict[str, Any]:
    """The tool as an OpenAI function schema whose enums are all strings.

    Args:
        spec: the tool.

    Returns:
        `{"type": "function", "function": {name, description, parameters}}`.
    """
    return portable_function_of(spec.name, spec.description, spec.parameters)


def portable_function_of(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """`portable_function` of a tool given by its parts (`export.toolsets` keeps no `ToolSpec`)."""
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": portable_schema(parameters)},
    }


def portable_schema(schema: Any) -> Any:
    """A copy of a JSON Schema with every non-string enum rewritten as the module says."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in _NESTED_ONE:
        if key in out:
            out[key] = portable_schema(out[key])
    for key in _NESTED_MANY:
        if isinstance(out.get(key), list):
            out[key] = [portable_schema(item) for item in out[key]]
    for key in _NESTED_MAP:
        if isinstance(out.get(key), dict):
            out[key] = {name: portable_schema(item) for name, item in out[key].items()}
    values = out.get("enum")
    if isinstance(values, list) and not all(isinstance(v, str) for v in values):
        _rewrite_enum(out, values)
    return out


def _rewrite_enum(out: dict[str, Any], values: list[Any]) -> None:
    del out["enum"]
    strings = [v for v in values if isinstance(v, str)]
    rest = [v for v in values if not isinstance(v, str)]
    integers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if strings and all(v is None for v in rest):
        out["enum"] = strings
        note = "or null"
    elif integers and len(integers) == len(values):
        low, high = min(integers), max(integers)
        out["minimum"], out["maximum"] = low, high
        distinct = sorted(set(integers))
        if distinct == list(range(low, high + 1)) and len(distinct) > 2:
            note = f"an integer from {low} to {high}"
        else:
            note = "one of " + ", ".join(str(v) for v in distinct)
    else:
        note = "one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
    described = str(out.get("description") or "").rstrip(". ")
    if described:
        out["description"] = f"{described} ({note})."
    else:
        out["description"] = "May also be null." if note == "or null" else f"{note[0].upper()}{note[1:]}."
