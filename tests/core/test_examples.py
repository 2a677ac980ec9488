"""The example sessions shipped in sessions/ load, verify and export."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnloom.core.export import export_sessions
from turnloom.core.quality.tool_replay import verify_session
from turnloom.core.storage.snapshot import load_session

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "sessions").glob("*.session.*"))


def test_there_are_examples_in_both_formats():
    assert {p.suffix for p in EXAMPLES} == {".json", ".toml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_an_example_loads_and_replays_exactly(path, tmp_path):
    session = load_session(path)
    assert session.finish_reason == "user_done"
    assert verify_session(session).ok
    report = export_sessions([session], "openai", tmp_path / "out.jsonl")
    assert report.written == 1
