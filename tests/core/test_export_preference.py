"""Preference pairs from the curator's choices: `export --format dpo` writes TRL's preference format
(prompt, chosen, rejected, tools) from the turns an edit or an undo replaced."""

from __future__ import annotations

import json

from turnloom.core.cli import main
from turnloom.core.export import ExportOptions, sources_path
from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.models import Role


async def _bench(tmp_path, steps=12):
    bench = LiveSession.new(tmp_path / "sessions", domain="retail", seed=1)
    for _ in range(steps):
        await bench.step()
    return bench


def _reply_index(bench) -> int:
    return next(
        i for i, m in enumerate(bench.session.messages) if m.role is Role.ASSISTANT and m.content and not m.tool_calls
    )


async def test_an_edited_reply_is_a_pair_of_the_kept_turn_over_the_dropped_one(tmp_path):
    bench = await _bench(tmp_path)
    at = _reply_index(bench)
    before = bench.session.messages[at]
    prompt = [m.to_openai() for m in bench.session.messages[:at]]
    bench.edit(at, "Here is what I found, stated plainly.")
    path = bench.save()
    out = tmp_path / "pairs.jsonl"
    assert main(["export", str(path), "--format", "dpo", "--out", str(out)]) == 0
    (line,) = out.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["prompt"] == prompt
    assert record["chosen"] == [{"role": "assistant", "content": "Here is what I found, stated plainly."}]
    assert record["rejected"] == [before.to_openai()]
    sources = json.loads(sources_path(out).read_text(encoding="utf-8"))
    assert sources["format"] == "dpo" and [r["session"] for r in sources["records"]] == [bench.session.id]
    tools = json.loads(record["tools"])  # a JSON string by default, as the hf format writes it
    assert {t["function"]["name"] for t in tools} >= {c.name for m in bench.session.messages[:at] for c in m.tool_calls}


async def test_an_undone_edit_prefers_the_turn_it_restored(tmp_path):
    bench = await _bench(tmp_path)
    at = _reply_index(bench)
    original = bench.session.messages[at].to_openai()
    bench.edit(at, "A worse answer.")
    bench.undo()
    (record,) = export_pairs(bench.session)
    assert record["chosen"] == [original]
    assert record["rejected"][0]["content"] == "A worse answer."


async def test_a_user_override_or_a_session_without_choices_gives_no_pair(tmp_path):
    bench = await _bench(tmp_path)
    user = next(i for i, m in enumerate(bench.session.messages) if m.role is Role.USER and i > 0)
    bench.edit(user, "Actually, show me my orders.")
    path = bench.save()
    out = tmp_path / "pairs.jsonl"
    assert main(["export", str(path), "--format", "dpo", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == ""
    assert export_pairs(bench.session) == []


async def test_a_choice_whose_conversation_changed_before_it_is_not_paired(tmp_path):
    bench = await _bench(tmp_path, steps=20)
    replies = [
        i for i, m in enumerate(bench.session.messages) if m.role is Role.ASSISTANT and m.content and not m.tool_calls
    ]
    bench.edit(replies[1], "Second reply, edited.")
    bench.edit(replies[0], "First reply, edited.")  # the second edit's prompt is gone with this one
    records = export_pairs(bench.session)
    assert [r["chosen"][0]["content"] for r in records] == ["First reply, edited."]


def export_pairs(session) -> list[dict]:
    from turnloom.core.export.preference import preference_pairs
    from turnloom.core.export.record_checks import RecordRejected

    try:
        return preference_pairs(session, ExportOptions(json_strings=False))
    except RecordRejected:
        return []
