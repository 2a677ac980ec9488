"""Tools made portable and encoded once per toolset: every record's bytes are what encoding it anew gives.

`export.toolsets` encodes each distinct toolset once per process and each record reuses the
text. The reference here uses no cache at all: `schemas.portable_function` of each listed spec,
and `json.dumps` of the whole record, as every export did before. Records are built in one
process one after another, so each one meets a cache already holding the toolsets before it —
tools that differ only in a JSON type (1, 1.0, true), in key order, or by NaN must not share one.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest
from _session_builders import simple_session, weather_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from turnloom.core.export import FORMATS, ExportOptions, ToolSelection, build_record, build_records, jsonl_line
from turnloom.core.export.hermes import _XML_SPECIAL
from turnloom.core.export.schemas import portable_function
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.models import Role, Session, ToolSpec

LINE_BREAKS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
OPTIONS = [
    ExportOptions(),
    ExportOptions(json_strings=True),
    ExportOptions(json_strings=False),
    ExportOptions(tools=ToolSelection(used_only=True, distractors=3)),
]


def fitting(fmt: str, options: ExportOptions) -> bool:
    return options.json_strings is None or fmt in ("openai", "hf")


def listed_specs(session: Session, record: dict[str, Any], fmt: str) -> list[ToolSpec]:
    """The specs a record lists, in the session's order (read off the record's tool names)."""
    if fmt == "hermes":
        text = record["text"].split("<tools>\n", 1)[1].split("\n</tools>", 1)[0]
        names = [json.loads(line)["function"]["name"] for line in text.split("\n")]
    else:
        tools = record["tools"]
        tools = json.loads(tools) if isinstance(tools, str) else tools
        names = [tool["function"]["name"] if "function" in tool else tool["name"] for tool in tools]
    by_name = {spec.name: spec for spec in session.tools}
    return [by_name[name] for name in names]


def uncached_line(session: Session, fmt: str, options: ExportOptions, record: dict[str, Any]) -> str:
    """The record's JSONL line with its tools made from the specs and encoded anew (no cache anywhere)."""
    specs = listed_specs(session, record, fmt)
    functions = [portable_function(spec) for spec in specs]
    expected = dict(record)
    if fmt == "hermes":
        listed = "\n".join(json.dumps(f, ensure_ascii=False).translate(_XML_SPECIAL) for f in functions)
        assert f"<tools>\n{listed}\n</tools>" in record["text"]
    elif fmt == "sharegpt":
        expected["tools"] = json.dumps([f["function"] for f in functions], ensure_ascii=False)
    elif options.strings_for(fmt):
        expected["tools"] = json.dumps(functions, ensure_ascii=False)
    else:
        expected["tools"] = functions
    return plain_line(expected)


def plain_line(record: dict[str, Any]) -> str:
    """`export.jsonl_line` as it was: json.dumps of the whole record, line breaks escaped."""
    line = json.dumps(record, ensure_ascii=False, allow_nan=False)
    for char, escaped in LINE_BREAKS.items():
        line = line.replace(char, escaped)
    return line + "\n"


def assert_same_as_uncached(session: Session, fmt: str, options: ExportOptions) -> None:
    record = build_record(session, fmt, {}, options)
    try:
        expected: str | type[ValueError] = uncached_line(session, fmt, options, record)
    except ValueError:  # NaN in objects: strict JSON refuses it, with or without the cache
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            jsonl_line(record)
    else:
        assert jsonl_line(record) == expected


@pytest.fixture(scope="module")
def offline_sessions() -> list[Session]:
    sessions = []
    for seed, domain in enumerate(["airline", "clinic", "retail", "airline", "retail"]):
        session = create_session(domain, seed=seed, tasks=2)
        engine = open_engine(session)
        asyncio.run(engine.run())
        engine.environment.close()
        sessions.append(session)
    return sessions


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_writes_offline_records_byte_for_byte_as_encoding_anew(offline_sessions, fmt: str) -> None:
    for options in OPTIONS:
        if not fitting(fmt, options):
            continue
        for session in offline_sessions:  # two domains met twice: the second time from the cache
            assert_same_as_uncached(session, fmt, options)


def test_a_record_lists_its_tools_as_a_plain_list_or_string(offline_sessions) -> None:
    session = offline_sessions[0]
    objects = build_record(session, "openai", {}, ExportOptions())["tools"]
    text = build_record(session, "hf", {}, ExportOptions())["tools"]
    assert objects == [portable_function(spec) for spec in session.tools] and isinstance(objects, list)
    assert text == json.dumps(objects, ensure_ascii=False) and isinstance(text, str)
    assert json.loads(jsonl_line({"tools": objects})) == {"tools": objects}


async def test_preference_pairs_write_their_tools_byte_for_byte_as_encoding_anew(tmp_path) -> None:
    bench = LiveSession.new(tmp_path / "sessions", domain="retail", seed=1)
    for _ in range(12):
        await bench.step()
    replies = [i for i, m in enumerate(bench.session.messages) if m.role is Role.ASSISTANT and not m.tool_calls]
    bench.edit(replies[0], "Here is what I found, stated plainly.")
    for options in (ExportOptions(), ExportOptions(json_strings=False), OPTIONS[3]):
        for _ in range(2):  # the second time from the cache
            (record,) = build_records(bench.session, "dpo", {}, options)
            specs = listed_specs(bench.session, record, "dpo")
            functions = [portable_function(spec) for spec in specs]
            expected = {
                **record,
                "tools": json.dumps(functions, ensure_ascii=False) if options.strings_for("dpo") else functions,
            }
            assert jsonl_line(record) == plain_line(expected)


def weather_with(**extra: Any) -> Session:
    """A valid session whose one tool's `unit` parameter also holds `extra` (in that key order)."""
    tool = weather_tool()
    parameters = json.loads(json.dumps(tool.parameters))
    parameters["properties"]["unit"] = {"type": ["string", "null"], **extra}
    session = simple_session()
    session.tools = [ToolSpec(name=tool.name, description=tool.description, parameters=parameters)]
    return session


# tools that compare equal in Python (1 == 1.0 == True; dicts ignore order) but are other JSON
LOOK_ALIKES = [
    {"enum": [0, 1]},
    {"enum": [False, True]},
    {"enum": [0.0, 1.0]},
    {"enum": [0, 1, None]},
    {"default": 1, "description": "Unit."},
    {"description": "Unit.", "default": 1},
    {"default": 1.0, "description": "Unit."},
    {"default": True, "description": "Unit."},
    {"default": None},
    {"default": math.nan},
    {"default": math.inf},
    {"default": "\u2028 a line break"},
    {"default": "\ud800 a lone surrogate"},
]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_tools_that_differ_only_in_json_type_or_order_are_each_encoded_as_themselves(fmt: str) -> None:
    for options in OPTIONS[:3]:
        if not fitting(fmt, options):
            continue
        for extra in LOOK_ALIKES * 2:
            assert_same_as_uncached(weather_with(**extra), fmt, options)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(json_values, min_size=1, max_size=3), json_values), min_size=1, max_size=4))
def test_any_sequence_of_toolsets_gives_each_record_its_own_tools(toolsets: list[tuple[list[Any], Any]]) -> None:
    for enum, default in toolsets:
        session = weather_with(enum=enum, default=default)
        for fmt, options in (
            ("openai", OPTIONS[0]),
            ("hf", OPTIONS[0]),
            ("sharegpt", OPTIONS[0]),
            ("hermes", OPTIONS[0]),
        ):
            assert_same_as_uncached(session, fmt, options)
