"""The TOML twin of a session snapshot: how a JSON-shaped session maps onto TOML losslessly.

TOML has no null and cannot hold a free-form JSON value faithfully, so, walking the pydantic
models field by field:

- every free-form field (a model field whose type mentions `Any`: a tool's `parameters` and
  `output_schema`, rule and write `params`, `meta.extra`, subtask `slots`, ...) is written as
  indented JSON in a TOML literal string (`'''...'''`); a hand editor may instead write a
  plain TOML table there, which is read as is;
- a null field whose default is null is omitted, as is an empty list/dict whose default is
  empty; any other null field is named in a `_null` array of its table.

Strings with a newline are written as multi-line strings for readability (rtoml picks the
form that reads back exactly: CRLF and control characters escaped).
Reading, migrating and atomic files are `store`'s business, not this module's.
"""

from __future__ import annotations

import functools
import json
import re
import types
import typing
import uuid
from typing import Any

import pydantic_core
import rtoml
from pydantic import BaseModel

from turnloom.core.errors import SessionFileError

_NULL_KEY = "_null"


def to_toml_text(model: type[BaseModel], data: dict[str, Any]) -> str:
    """Render a JSON-shaped model dump as TOML.

    Args:
        model: the model class `data` was dumped from (e.g. `Session`).
        data: `model.model_dump(mode="json")`.

    Returns:
        The TOML text.
    """
    spliced = _Spliced()
    text = rtoml.dumps(_to_toml(model, data, spliced), pretty=True)
    return spliced.into(text)


def from_toml_data(model: type[BaseModel], raw: dict[str, Any], source: Any) -> dict[str, Any]:
    """Turn parsed TOML back into the JSON shape of `model`.

    Args:
        model: the model class (e.g. `Session`).
        raw: what `tomllib` parsed.
        source: the file name to put in error messages.

    Returns:
        A dict ready for migration and `model.model_validate`.

    Raises:
        SessionFileError: a free-form field holding invalid JSON, or a malformed `_null`.
    """
    return _from_toml(model, raw, source, "")


def _field_shape(annotation: Any) -> tuple[str, type[BaseModel] | None]:
    """Classify a field: ("model", cls), ("models", cls), ("json", None) or ("plain", None)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _field_shape(args[0])
    if annotation is Any:
        return "json", None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return "models", args[0]
    if _mentions_any(annotation):
        return "json", None
    return "plain", None


def _mentions_any(annotation: Any) -> bool:
    return annotation is Any or any(_mentions_any(a) for a in typing.get_args(annotation))


@functools.cache
def _fields(model: type[BaseModel]) -> tuple[tuple[str, Any, str, type[BaseModel] | None], ...]:
    """Each field of `model` as (name, default, shape, inner model): worked out once per class.

    A field's default is only compared with, never handed out, so one made now serves every dump
    (pydantic's `get_default` inspects the factory's signature on each call: most of a save's time).
    """
    return tuple(
        (name, field.get_default(call_default_factory=True), *_field_shape(field.annotation))
        for name, field in model.model_fields.items()
    )


def _to_toml(model: type[BaseModel], data: dict[str, Any], spliced: _Spliced) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nulls: list[str] = []
    for name, default, shape, inner in _fields(model):
        if name not in data:
            continue
        value = data[name]
        if value is None:
            if default is not None:
                nulls.append(name)
            continue
        if value in ([], {}) and default == value:
            continue
        if shape == "json":
            out[name] = spliced.token(value)
        elif shape == "model" and inner is not None:
            out[name] = _to_toml(inner, value, spliced)
        elif shape == "models" and inner is not None:
            out[name] = [_to_toml(inner, item, spliced) for item in value]
        else:
            out[name] = value
    if nulls:
        out[_NULL_KEY] = nulls
    return out


def _from_toml(model: type[BaseModel], raw: Any, source: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        return raw  # let validation name the problem
    data = dict(raw)
    nulls = data.pop(_NULL_KEY, [])
    if not isinstance(nulls, list):
        raise SessionFileError(f"{source}: {where or 'top level'}: {_NULL_KEY} must be a list of field names")
    for name in nulls:
        data[name] = None
    for name, field in model.model_fields.items():
        value = data.get(name)
        if value is None:
            continue
        shape, inner = _field_shape(field.annotation)
        path = f"{where}.{name}" if where else name
        if shape == "json" and isinstance(value, str):
            try:
                data[name] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise SessionFileError(
                    f"{source}: field {path!r} holds invalid JSON "
                    f"(line {exc.lineno}, column {exc.colno} of the value): {exc.msg}"
                ) from None
        elif shape == "model" and inner is not None:
            data[name] = _from_toml(inner, value, source, path)
        elif shape == "models" and inner is not None and isinstance(value, list):
            data[name] = [_from_toml(inner, v, source, f"{path}[{i}]") for i, v in enumerate(value)]
    return data


class _Spliced:
    """Free-form values written as JSON in TOML literal strings, spliced into rtoml's output.

    The writer sees a placeholder string in each one's place; rtoml (the Rust `toml` crate) then
    writes the whole document in a few milliseconds (tomli_w, walking every value in Python, took
    ~90 ms for 1,000 messages), picking each string's form so it reads back as written.
    """

    def __init__(self) -> None:
        self.nonce = uuid.uuid4().hex
        self.texts: list[str] = []

    def token(self, value: Any) -> str:
        self.texts.append(_json_literal(value))
        return f"@turnloom-json-{self.nonce}-{len(self.texts) - 1}@"

    def into(self, text: str) -> str:
        """`text` with each placeholder (quoted either way) replaced by its literal, in one pass."""
        if not self.texts:
            return text
        found = re.compile(f"([\"'])@turnloom-json-{self.nonce}-([0-9]+)@\\1")
        return found.sub(lambda match: self.texts[int(match.group(2))], text)


def _json_literal(value: Any) -> str:
    """`value` as indented JSON in a TOML literal string."""
    try:  # what json.dumps(ensure_ascii=False, indent=2) writes, in Rust
        text = pydantic_core.to_json(value, indent=2, inf_nan_mode="constants").decode("utf-8")
    except pydantic_core.PydanticSerializationError:  # a lone surrogate, which only json escapes
        text = json.dumps(value, ensure_ascii=False, indent=2)
    # `'` and DEL only occur inside JSON strings, where \u escapes mean the same;
    # escaping them keeps the text legal inside a TOML '''literal''' string.
    if "'''" in text:
        text = text.replace("'", "\\u0027")
    text = text.replace("\x7f", "\\u007f")
    if "\n" not in text and "'" not in text:
        return f"'{text}'"
    return f"'''\n{text}'''"
