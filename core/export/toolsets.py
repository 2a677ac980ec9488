"""A session's tools made portable and encoded once per distinct toolset, for every record to reuse.

Every session of a domain lists the same 43-48 tools. Making them portable (`schemas`) and
encoding them as JSON (for the secret check, for a `tools` JSON string, for the record's JSONL
line) cost about a millisecond a record, most of an export's own work. So each distinct toolset is
done once per process (`toolset`), and each record reuses the tools' text:

- the key is the toolset's `(name, description, parameters)` of every tool, as JSON (pydantic's
  serializer: tens of microseconds; NaN and Infinity written as such, so no two values share a key);
- the toolset is then built from that key alone, so what a record gets is a function of exactly what
  the key holds: two sessions share the encoded tools only when their tools are the same JSON. A
  toolset that has no JSON form (a lone surrogate, an object JSON cannot hold) is built from its specs
  for that record only, as before;
- a record's `tools` is a `ToolList` (the function objects) or a `ToolsText` (their JSON string):
  a list or str like any other, which also carries its own JSONL text (`line_text`), so `jsonl_line`
  writes the record without encoding the tools again. Their function objects are shared between
  records: read them, copy before changing them.

Owns: `toolset`, `Toolset`, `PortableTool`, `ToolList`, `ToolsText`. Leaves to others: what a portable schema
is (`schemas`), which tools a record lists (`shaping.listed_tools`), the formats.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from pydantic import ConfigDict, TypeAdapter
from pydantic_core import PydanticSerializationError

from turnloom.core.export.schemas import portable_function_of
from turnloom.core.models import ToolSpec

_TOOLSETS_KEPT = 64  # distinct toolsets remembered per process (a domain has one)
_LISTINGS_KEPT = 8  # listings remembered per toolset: all its tools, mostly (`--tools used` makes one a record)
# characters that str.splitlines() and some JSONL readers treat as line breaks (`export.jsonl_line`)
LINE_BREAKS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def escape_line_breaks(text: str) -> str:
    """`text` with every Unicode line break written as its JSON escape."""
    for char, escaped in LINE_BREAKS.items():
        if char in text:
            text = text.replace(char, escaped)
    return text


class PortableTool:
    """One tool as exports write it, each encoding made on first use."""

    def __init__(self, name: str, description: str, parameters: dict[str, Any]) -> None:
        self.name, self.description, self.parameters = name, description, parameters

    @cached_property
    def openai_text(self) -> str:
        """The tool as the API takes it (`ToolSpec.to_openai`), as JSON: what the secret check reads."""
        function = {"name": self.name, "description": self.description, "parameters": self.parameters}
        return json.dumps({"type": "function", "function": function}, ensure_ascii=False)

    @cached_property
    def function(self) -> dict[str, Any]:
        """`schemas.portable_function` of the tool (shared: do not change it)."""
        return portable_function_of(self.name, self.description, self.parameters)

    @cached_property
    def function_text(self) -> str:
        """`function` as `json.dumps(..., ensure_ascii=False)` writes it."""
        return json.dumps(self.function, ensure_ascii=False)

    @cached_property
    def strict_text(self) -> str | None:
        """`function` as a JSONL line holds it (strict JSON, line breaks escaped); None if it holds NaN or Infinity."""
        try:
            return escape_line_breaks(json.dumps(self.function, ensure_ascii=False, allow_nan=False))
        except ValueError:
            return None

    @cached_property
    def inner_text(self) -> str:
        """The function's own object (name, description, parameters) as JSON, as ShareGPT lists it."""
        return json.dumps(self.function["function"], ensure_ascii=False)


class ToolList(list[dict[str, Any]]):
    """A record's tools as function objects, carrying their JSONL text (`line_text`; None: encode as usual)."""

    line_text: str | None = None


class ToolsText(str):
    """A record's tools as one JSON string, carrying its JSONL text (`line_text`)."""

    line_text: str | None = None


class Toolset:
    """The portable tools of one distinct toolset, and the listings records made of them.

    A listing is given as the places of its tools in the toolset (`places`), in order.
    """

    def __init__(self, tools: tuple[PortableTool, ...]) -> None:
        self.tools = tools
        self._listings: dict[tuple[str, tuple[int, ...]], ToolList | ToolsText] = {}

    @cached_property
    def schema_texts(self) -> dict[str, str]:
        """Tool name -> its parameters as `json.dumps(..., sort_keys=True)`, what `record_checks` keys
        its validators by (of two tools with one name, the last: as `build_record`'s tools by name)."""
        return {tool.name: json.dumps(tool.parameters, sort_keys=True) for tool in self.tools}

    def listed(self, every: Sequence[ToolSpec], chosen: Sequence[ToolSpec]) -> ListedTools:
        """The portable form of `chosen`, some of `every` (the specs this toolset was made of, in order)."""
        if len(chosen) == len(every):
            return ListedTools(self, tuple(range(len(every))))
        place = {id(spec): index for index, spec in enumerate(every)}
        return ListedTools(self, tuple(place[id(spec)] for spec in chosen))

    def at(self, places: tuple[int, ...]) -> list[PortableTool]:
        """The tools at `places`."""
        return [self.tools[index] for index in places]

    def objects(self, places: tuple[int, ...]) -> ToolList:
        """The tools at `places` as function objects: `[portable_function(spec), ...]`."""
        return self._remember("objects", places, _objects)

    def json_text(self, places: tuple[int, ...]) -> ToolsText:
        """`json.dumps([portable_function(spec), ...], ensure_ascii=False)` of the tools at `places`."""
        return self._remember("json", places, lambda tools: _text([t.function_text for t in tools]))

    def inner_json_text(self, places: tuple[int, ...]) -> ToolsText:
        """`json.dumps([portable_function(spec)["function"], ...], ensure_ascii=False)` of the tools at `places`."""
        return self._remember("inner", places, lambda tools: _text([t.inner_text for t in tools]))

    def _remember(self, kind: str, places: tuple[int, ...], make: Callable[[list[PortableTool]], Any]) -> Any:
        made = self._listings.get((kind, places))
        if made is None:
            made = make(self.at(places))
            if len(self._listings) < _LISTINGS_KEPT:
                self._listings[kind, places] = made
        return made


@dataclass(frozen=True)
class ListedTools:
    """The tools one record lists: places in its session's toolset."""

    toolset: Toolset
    places: tuple[int, ...]

    def __iter__(self) -> Iterator[PortableTool]:
        return iter(self.toolset.at(self.places))

    def objects(self) -> ToolList:
        """As function objects (`Toolset.objects`)."""
        return self.toolset.objects(self.places)

    def json_text(self) -> ToolsText:
        """As one JSON string of function objects (`Toolset.json_text`)."""
        return self.toolset.json_text(self.places)

    def inner_json_text(self) -> ToolsText:
        """As one JSON string of the functions' own objects (`Toolset.inner_json_text`)."""
        return self.toolset.inner_json_text(self.places)


def _objects(tools: Sequence[PortableTool]) -> ToolList:
    out = ToolList(tool.function for tool in tools)
    parts = [tool.strict_text for tool in tools]
    out.line_text = None if None in parts else "[" + ", ".join(p for p in parts if p is not None) + "]"
    return out


def _text(parts: list[str]) -> ToolsText:
    out = ToolsText("[" + ", ".join(parts) + "]")
    out.line_text = escape_line_breaks(json.dumps(str(out), ensure_ascii=False))
    return out


def toolset(tools: Sequence[ToolSpec]) -> Toolset:
    """The portable tools of `tools` (a session's), made once per distinct toolset in this process."""
    try:
        key = _key_adapter().dump_json(
            [(spec.name, spec.description, spec.parameters) for spec in tools], warnings=False
        )
    except PydanticSerializationError:  # no JSON form to key it by: made for this record only
        return Toolset(tuple(PortableTool(spec.name, spec.description, spec.parameters) for spec in tools))
    return _toolset(key)


@lru_cache(maxsize=1)
def _key_adapter() -> TypeAdapter[list[tuple[str, str, dict[str, Any]]]]:
    """What a toolset's key holds: each tool's name, description and parameters, in order (made on first use)."""
    return TypeAdapter(list[tuple[str, str, dict[str, Any]]], config=ConfigDict(ser_json_inf_nan="constants"))


@lru_cache(maxsize=_TOOLSETS_KEPT)
def _toolset(key: bytes) -> Toolset:
    return Toolset(
        tuple(PortableTool(name, description, parameters) for name, description, parameters in json.loads(key))
    )
