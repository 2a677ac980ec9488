"""A reader's shared tool lists (`ToolListCache`) give the session reading the whole file gives.

`stats`, `export` and the review index read many files whose tool lists are the same bytes;
their workers validate each distinct list once and the rest of each file on its own. These
tests hold that way of reading to the ordinary one (same session, same error message) for
saved files, hand-edited and damaged ones read after a file that warmed the cache, and files
built to mislead the search for the list.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from _session_builders import sessions, simple_session, weather_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from turnloom.core.errors import SessionFileError
from turnloom.core.models import Session, ToolSpec
from turnloom.core.storage import snapshot as store
from turnloom.core.storage.parallel_read import map_sessions
from turnloom.core.storage.session_folder import find_sessions, read_sessions
from turnloom.core.storage.tool_lists import ToolListCache

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(path: Path, tool_lists: ToolListCache | None) -> str:
    """The session as its file text, or the error message: what a reader of the file sees."""
    try:
        return "session " + store.dumps(store.load_session(path, tool_lists), "json")
    except SessionFileError as exc:
        return "error " + str(exc)


def warm_and_plain(warm_with: bytes, data: bytes) -> tuple[str, str, ToolListCache]:
    """(outcome with a cache that read `warm_with` first, outcome without a cache, the cache) for `data`."""
    cache = ToolListCache()
    with tempfile.TemporaryDirectory() as folder:
        first, path = Path(folder) / "a.session.json", Path(folder) / "b.session.json"
        first.write_bytes(warm_with)
        outcome(first, cache)
        path.write_bytes(data)
        return outcome(path, cache), outcome(path, None), cache


def saved(session: Session) -> bytes:
    return store.dumps(session, "json").encode()


@PROPERTY
@given(sessions())
def test_a_saved_session_reads_the_same_with_its_tool_list_shared(session: Session) -> None:
    other = session.model_copy(update={"id": "other", "messages": [], "tasks": []})
    cached, plain, cache = warm_and_plain(saved(other), saved(session))
    assert cached == plain == "session " + store.dumps(session, "json")
    assert cache.hits == 1  # the second file's tools were the first file's, validated once


@PROPERTY
@given(
    sessions(),
    st.integers(min_value=0),
    st.integers(min_value=0, max_value=40),
    st.binary(max_size=12)
    | st.sampled_from([b"\\ud800", b"\\u0024ref", b'"$ref": "http://x/y", ', b"\r\n", b"\xff", b"]", b"], [", b'"']),
    st.booleans(),
)
def test_an_edited_or_damaged_file_reads_the_same_after_one_that_shared_its_tools(
    session: Session, at: int, cut: int, insert: bytes, near_tools: bool
) -> None:
    data = saved(session)
    if near_tools:  # edits around the tool list's edges, where the search for it looks
        edges = [data.find(b'"tools": ['), data.find(b"\n  ]", data.find(b'"tools": ['))]
        at = edges[at % 2] + at % 7
    at %= len(data)
    cached, plain, _ = warm_and_plain(
        saved(session.model_copy(update={"id": "warm"})), data[:at] + insert + data[at + cut :]
    )
    assert cached == plain


def _tool_text(tool: ToolSpec, indent: str) -> str:
    lines = store.dumps(Session(domain="d", tools=[tool]), "json").split("\n")
    start = lines.index('  "tools": [')
    return "\n".join(line.replace("    ", indent, 1) for line in lines[start + 1 : lines.index("  ],", start)])


@pytest.mark.parametrize(
    "name",
    [
        "a tool list nested in a rule's params, written at the top level's indent",
        "a second top-level tools key after the first",
        "the first list's bytes followed by more tools",
        "another tool list of the same length",
        "a lone surrogate escape in a tool",
        "a lone surrogate escape in a message",
        "a schema $ref in a tool",
        "an escaped schema $ref in a tool",
        "no tools",
    ],
)
def test_files_built_to_mislead_the_search_read_the_same(name: str) -> None:
    session = simple_session()
    text = store.dumps(session, "json")
    tool = _tool_text(weather_tool(), "  ")
    other = weather_tool().model_copy(update={"name": "get_forecast"})
    if name.startswith("a tool list nested"):
        rule = '"rules": [\n      {\n        "id": "r",\n        "title": "t",\n        "params": {\n  "tools": [\n'
        text = text.replace('"rules": [],', rule + _tool_text(other, "  ") + "\n  ]}}],", 1)
    elif name.startswith("a second top-level"):
        text = text.replace(
            '\n  "disabled_tools"', '\n  "tools": [\n' + _tool_text(other, "    ") + '\n  ],\n  "disabled_tools"', 1
        )
    elif name.startswith("the first list's bytes"):
        text = text.replace(
            '\n  ],\n  "disabled_tools"', "\n  ], [\n" + _tool_text(other, "    ") + '\n  ],\n  "disabled_tools"', 1
        )
    elif name == "another tool list of the same length":
        text = text.replace("weather for a city.", "weather for a town.", 1)
    elif name == "a lone surrogate escape in a tool":
        text = text.replace('"Current weather', '"\\udc80Current weather', 1)
    elif name == "a lone surrogate escape in a message":
        text = text.replace('"content": "', '"content": "\\udc80', 1)
    elif name == "a schema $ref in a tool":
        text = text.replace('"city": {', '"city": {\n "$ref": "http://example.com/s",', 1)
    elif name == "an escaped schema $ref in a tool":
        text = text.replace('"city": {', '"city": {\n "\\u0024ref": "http://example.com/s",', 1)
    else:
        text = store.dumps(session.model_copy(update={"tools": []}), "json")
    assert text != store.dumps(session, "json") or name == "no tools"
    for warm_with in (saved(session), text.encode()):  # the list cached from a clean file, or from this one
        cached, plain, _ = warm_and_plain(warm_with, text.encode())
        assert cached == plain, name
    if "$ref" in name:
        assert plain.startswith("error ") and "tools[0] (get_weather).parameters" in plain
    assert tool  # the helper found the tool's lines


def test_the_sessions_read_with_one_cache_share_their_tools_but_not_their_lists(tmp_path: Path) -> None:
    for index in range(3):
        store.save_session(simple_session(session_id=f"s{index}"), tmp_path / f"s{index}.session.json")
    cache = ToolListCache()
    first, second, third = (read.session for read in read_sessions(find_sessions([tmp_path]), cache))
    assert first is not None and second is not None and third is not None
    assert (cache.misses, cache.hits) == (1, 2)
    assert first.tools[0] is second.tools[0] and first.tools is not second.tools
    first.tools.append(weather_tool())
    assert len(second.tools) == 1
    assert first.model_copy(update={"tools": first.tools[:1]}) == simple_session(session_id="s0")


def _tool_count(path: Path, session: Session) -> int:
    return len(session.tools)


def test_a_pool_of_workers_reads_a_folder_of_two_toolsets_as_reading_each_file_does(tmp_path: Path) -> None:
    forecast = weather_tool().model_copy(update={"name": "get_forecast"})
    for index in range(130):
        tools = [weather_tool()] + ([forecast] if index % 3 == 0 else [])
        store.save_session(
            simple_session(session_id=f"s{index:03}").model_copy(update={"tools": tools}),
            tmp_path / f"s{index:03}.session.json",
        )
    found = find_sessions([tmp_path])
    counts = [item.result for item in map_sessions(found, _tool_count)]
    assert counts == [len(store.load_session(path).tools) for path in found.paths]
    assert counts.count(2) == 44
