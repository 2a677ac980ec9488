"""Reading a JSON session from its bytes (`load_session`'s fast path) gives what `loads` of the text gives.

The fast path validates a file as this build saves it straight from its bytes; every other
file, and every file that fails, goes the way `loads` goes. These tests hold the two to the
same session and the same error message, for saved files and for files edited or damaged
in any way.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from _session_builders import sessions, simple_session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from turnloom.core.errors import SessionFileError
from turnloom.core.models import SCHEMA_VERSION, Session
from turnloom.core.storage import snapshot as store

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIXTURES = Path(__file__).parent.parent / "fixtures"


def outcome(read, *args) -> str:
    """The session as its file text, or the error message: what a reader of the file sees."""
    try:
        return "session " + store.dumps(read(*args), "json")
    except SessionFileError as exc:
        return "error " + str(exc)


def both_ways(data: bytes) -> tuple[str, str]:
    """(bytes path, text path) outcomes for a file holding `data`."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.session.json"
        path.write_bytes(data)
        fast = outcome(store.load_session, path)
        text = outcome(lambda p: store.loads(store.read_text(p), "json", p), path)
    return fast, text


@PROPERTY
@given(sessions())
def test_a_saved_session_reads_back_the_same_from_its_bytes(session: Session) -> None:
    text = store.dumps(session, "json")
    assert store.loads_json_bytes(text.encode()) == store.loads(text, "json") == session


@PROPERTY
@given(
    sessions(),
    st.integers(min_value=0),
    st.integers(min_value=0, max_value=40),
    st.binary(max_size=12) | st.sampled_from([b"\\ud800", b"\\u0024ref", b"\r\n", b"\xff", b"NaN", b'"', b"1" * 4400]),
)
def test_an_edited_or_damaged_file_reads_the_same_both_ways(session: Session, at: int, cut: int, insert: bytes) -> None:
    data = store.dumps(session, "json").encode()
    at %= len(data)
    fast, text = both_ways(data[:at] + insert + data[at + cut :])
    assert fast == text


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        (
            "a later duplicate schema_version runs the migrations",
            lambda t: t.replace('"title"', '"schema_version": 1, "title"', 1),
        ),
        ("CRLF line ends", lambda t: t.replace("\n", "\r\n")),
        ("a cut-off file", lambda t: t[: len(t) // 2]),
        ("a byte-order mark", lambda t: "\ufeff" + t),
        ("a lone surrogate escape in text", lambda t: t.replace('"content": "', '"content": "\\udc80', 1)),
        ("an escaped $ref in a tool schema", lambda t: t.replace('"type": "string"', '"\\u0024ref": "http://x/y"', 1)),
        (
            "a newer schema version",
            lambda t: t.replace(f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 99', 1),
        ),
        ("a wrong field type", lambda t: t.replace('"title": null', '"title": 3', 1)),
    ],
)
def test_hand_edited_files_read_the_same_both_ways(name: str, edit) -> None:
    saved = store.dumps(simple_session(), "json")
    assert edit(saved) != saved
    fast, text = both_ways(edit(saved).encode())
    assert fast == text
    if "duplicate" in name:
        assert json.loads(fast.removeprefix("session "))["schema_version"] == SCHEMA_VERSION


def test_a_schema_1_file_reads_the_same_both_ways() -> None:
    fast, text = both_ways((FIXTURES / "schema_1" / "retail-change-of-mind.session.json").read_bytes())
    assert fast == text and fast.startswith("session ")


def test_a_file_as_saved_is_validated_without_building_a_python_json_tree(tmp_path, monkeypatch) -> None:
    path = tmp_path / "x.session.json"
    store.save_session(simple_session(), path)

    def no_tree(text, source):
        raise AssertionError("the file was parsed into Python objects first")

    monkeypatch.setattr(store, "_parse_json", no_tree)
    assert store.load_session(path) == simple_session()
