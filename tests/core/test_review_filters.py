"""Filters, sorting and the text search of the review view, on a generated folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from _review_helpers import generated_folder, spoil

from turnloom.core.models import ChatMessage, Role, SessionLabel
from turnloom.core.review.filters import ReviewFilter, apply, search_text, sort_rows
from turnloom.core.review.index import load_index
from turnloom.core.review.labels import set_label
from turnloom.core.storage.journal import Journal
from turnloom.core.storage.snapshot import load_session, save_session


@pytest.fixture
def folder(tmp_path_factory, tmp_path) -> Path:
    return generated_folder(tmp_path_factory.getbasetemp() / "review-made", tmp_path / "batch")


def test_each_filter_keeps_only_the_rows_it_names(folder):
    rows = load_index(folder)
    spoil(folder / rows[0].path)
    set_label(folder, rows[1].path, SessionLabel(kind="drop", reason="too short"))
    set_label(folder, rows[2].path, SessionLabel(kind="keep"))
    rows = load_index(folder)
    paths = [row.path for row in rows]
    assert [r.path for r in apply(rows, ReviewFilter(rejected_only=True))] == [paths[0]]
    assert [r.path for r in apply(rows, ReviewFilter(check="feedback"))] == [paths[0]]
    assert apply(rows, ReviewFilter(check="placeholders")) == []
    assert [r.path for r in apply(rows, ReviewFilter(unlabelled=True))] == [paths[0], *paths[3:]]
    assert [r.path for r in apply(rows, ReviewFilter(label="drop"))] == [paths[1]]
    assert apply(rows, ReviewFilter(domain="airline")) == [] and apply(rows, ReviewFilter(domain="retail")) == rows
    assert [r.path for r in apply(rows, ReviewFilter(text="TOO SHORT"))] == [paths[1]]  # the row's own text
    both = ReviewFilter(unlabelled=True, rejected_only=True)
    assert [r.path for r in apply(rows, both)] == [paths[0]]
    assert [r.path for r in apply(rows, ReviewFilter(text="x"), text_matches={paths[4]})] == [paths[4]]


def test_sort_orders_by_a_column_either_way_with_empty_values_last(folder):
    (folder / "broken.session.json").write_text("{")
    rows = load_index(folder)
    by_messages = sort_rows(rows, "messages")
    readable = [r for r in by_messages if r.problem is None]
    assert [r.messages for r in readable] == sorted(r.messages for r in readable)
    down = sort_rows(rows, "verdict", reverse=True)
    assert down[-1].path == "broken.session.json"  # accepted None: last either way
    assert sort_rows(rows, "verdict")[-1].path == "broken.session.json"
    assert [r.path for r in sort_rows(rows, "path", reverse=True)] == sorted((r.path for r in rows), reverse=True)
    with pytest.raises(ValueError, match="unknown sort key 'nope'; use one of: path, id"):
        sort_rows(rows, "nope")


def test_text_search_finds_words_in_messages_and_tool_calls_ignoring_case_not_in_the_tools(folder):
    rows = load_index(folder)
    first = load_session(folder / rows[0].path)
    call = next(m.tool_calls[0] for m in first.messages if m.tool_calls)
    assert rows[0].path in search_text(folder, rows, call.name.upper())
    # a tool every session carries, never called in the first one: its name is in the file, not in a message
    called = {c.name for m in first.messages for c in m.tool_calls}
    uncalled = next(t.name for t in first.tools if t.name not in called and t.name not in str(first.messages))
    assert rows[0].path not in search_text(folder, rows, uncalled)
    assert search_text(folder, rows, "  ") == {r.path for r in rows}
    words = (first.messages[0].content or "").split()
    assert rows[0].path in search_text(folder, rows, " ".join(words[:3]).swapcase())


def test_text_search_reads_toml_files_journals_and_texts_json_escapes(folder):
    rows = load_index(folder)
    session = load_session(folder / rows[0].path)
    session.messages[0] = session.messages[0].model_copy(update={"content": 'Hi, I said "Zebra\\Quote" é'})
    save_session(session, folder / rows[0].path)
    toml = folder / "twin.session.toml"
    save_session(load_session(folder / rows[1].path), toml)
    third = load_session(folder / rows[2].path)
    with Journal.open(folder / rows[2].path, third) as journal:
        journal.record_message(len(third.messages), ChatMessage(role=Role.USER, content="And a purple kettle."))
    rows = load_index(folder)
    assert search_text(folder, rows, '"zebra\\quote"') == {rows[0].path}
    assert rows[0].path in search_text(folder, rows, "É")
    twin_text = next(m.content for m in load_session(toml).messages if m.role is Role.USER)
    assert "twin.session.toml" in search_text(folder, rows, twin_text[:20])
    assert search_text(folder, rows, "PURPLE KETTLE") == {rows[2].path}


def test_text_search_skips_unreadable_rows_and_files_gone_since(folder):
    (folder / "broken.session.json").write_text("{")
    rows = load_index(folder)
    (folder / rows[0].path).unlink()
    found = search_text(folder, rows, "a")
    assert "broken.session.json" not in found and rows[0].path not in found and rows[1].path in found


def _reference(folder: Path, rows, needle: str) -> set[str]:
    """What the search must find, the slow and certain way: every session opened, its texts compared."""
    found = set()
    for row in rows:
        session = load_session(folder / row.path)
        texts = [t for m in session.messages for t in (m.content, m.reasoning, m.name) if t]
        texts += [t for m in session.messages for c in m.tool_calls for t in (c.name, c.arguments)]
        if any(needle.casefold() in text.casefold() for text in texts):
            found.add(row.path)
    return found


@pytest.mark.parametrize(
    "needle", ["order", "Toys", "provenance", "simulator", "offline", "user", "null", "task_done", ",", "ok"]
)
def test_the_in_place_search_finds_exactly_what_opening_every_session_finds(folder, needle):
    rows = load_index(folder)
    assert search_text(folder, rows, needle) == _reference(folder, rows, needle)


def test_an_escape_in_a_message_is_not_text_and_a_key_is_not_a_value(folder):
    rows = load_index(folder)
    session = load_session(folder / rows[0].path)
    session.messages[0] = session.messages[0].model_copy(update={"content": "line one\nnext line"})
    save_session(session, folder / rows[0].path)
    rows = load_index(folder)
    assert rows[0].path in search_text(folder, rows, "one")
    assert search_text(folder, rows, "nnext") == set()  # the `n` of `\n` is not a letter of the text
    assert search_text(folder, rows, "content") == _reference(folder, rows, "content")


def test_a_file_changed_since_the_index_was_read_is_searched_as_it_is_now(folder):
    rows = load_index(folder)
    session = load_session(folder / rows[0].path)
    session.tools = session.tools[:3]  # the messages move to another place in the file
    session.messages[0] = session.messages[0].model_copy(update={"content": "A tangerine umbrella, please."})
    save_session(session, folder / rows[0].path)
    assert search_text(folder, rows, "tangerine umbrella") == {rows[0].path}  # rows read before the change
