"""A tool schema with a remote `$ref` is refused where exports and tool replays read it: nothing is fetched."""

from __future__ import annotations

from turnloom.core.export import export_sessions
from turnloom.core.lifecycle.dialogue import create_session, run_to_end

REMOTE = "http://127.0.0.1:9/schema.json"  # the discard port: a fetch would fail with a connection error


def test_an_export_refuses_a_tool_whose_parameters_point_at_a_remote_schema(tmp_path):
    session = run_to_end(create_session("retail", seed=1, tasks=1))
    called = next(c.name for m in session.messages for c in m.tool_calls)
    session.tools = [
        t.model_copy(update={"parameters": {"$ref": REMOTE}}) if t.name == called else t for t in session.tools
    ]
    report = export_sessions([session], "hf", tmp_path / "out.jsonl")
    assert report.written == 0
    ((_, reason),) = report.skipped
    assert called in reason and REMOTE in reason
