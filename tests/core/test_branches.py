"""Dropped branches and undo: what an edit, regenerate, override or cut replaces is kept, and comes back."""

from __future__ import annotations

from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.models import Role
from turnloom.core.storage.journal import open_session
from turnloom.core.storage.snapshot import load_session, save_session


async def _bench(tmp_path, steps=10):
    bench = LiveSession.new(tmp_path / "sessions", domain="retail", seed=1)
    for _ in range(steps):
        await bench.step()
    return bench


def _user_index(bench, nth=0):
    return [i for i, m in enumerate(bench.session.messages) if m.role is Role.USER][nth]


async def test_regenerate_draws_a_different_user_turn_and_keeps_the_old_one_as_a_branch(tmp_path):
    bench = await _bench(tmp_path)
    index = _user_index(bench, 1)
    before = [m.model_dump() for m in bench.session.messages]
    regenerated = await bench.regenerate(index)
    assert regenerated is not None and regenerated.content != before[index]["content"]
    branch = bench.session.dropped_branches[-1]
    assert branch.action == "regenerate" and branch.at == index
    assert [m.model_dump() for m in branch.messages] == before[index:]


async def test_each_regeneration_at_one_index_draws_anew(tmp_path):
    bench = await _bench(tmp_path)
    index = _user_index(bench, 1)
    seen = {bench.session.messages[index].content}
    for _ in range(2):
        proposal = await bench.propose_regeneration(index)
        seen.add(proposal.message.content)
        bench.undo()  # keep old: the next draw must still be a new one
    assert len(seen) == 3


async def test_undo_puts_back_an_edit_with_its_later_messages_and_database(tmp_path):
    bench = await _bench(tmp_path)
    before = [m.model_dump() for m in bench.session.messages]
    writes = list(bench.session.write_log)
    bench.edit(0, "Something else entirely, please.")
    assert len(bench.session.messages) == 1
    branch = bench.undo()
    assert branch is not None and branch.action == "edit"
    assert [m.model_dump() for m in bench.session.messages] == before
    assert bench.session.write_log == writes
    assert [b.action for b in bench.session.dropped_branches] == ["undone"]  # the edit is kept too
    await bench.step()  # the engine goes on from the restored transcript
    assert len(bench.session.messages) == len(before) + 1


async def test_undo_takes_back_an_override_and_keeps_the_proposal_it_replaced(tmp_path):
    bench = await _bench(tmp_path, steps=0)
    proposal = await bench.propose()
    await bench.commit(proposal, edited_text="I want to see my last order, please.")
    branch = bench.session.dropped_branches[-1]
    assert branch.action == "override" and branch.messages[0].content == proposal.message.content
    bench.undo()
    assert bench.session.messages == []


async def test_undo_goes_back_step_by_step_and_then_has_nothing_left(tmp_path):
    bench = await _bench(tmp_path)
    original = [m.model_dump() for m in bench.session.messages]
    bench.truncate(6)
    bench.edit(0, "Hello there.")
    assert bench.undo().action == "edit"
    assert len(bench.session.messages) == 6
    assert bench.undo().action == "truncate"
    assert [m.model_dump() for m in bench.session.messages] == original
    assert bench.undo() is None


async def test_branches_survive_the_journal_and_both_file_formats(tmp_path):
    bench = await _bench(tmp_path)
    await bench.regenerate(_user_index(bench, 1))
    recovered, _ = open_session(bench.path)  # from the journal alone: never saved
    assert recovered.dropped_branches == bench.session.dropped_branches
    for name in ("s.session.json", "s.session.toml"):
        save_session(bench.session, tmp_path / name)
        assert load_session(tmp_path / name).dropped_branches == bench.session.dropped_branches


async def _tool_call_turn(tmp_path):
    bench = await _bench(tmp_path)
    index = next(i for i, m in enumerate(bench.session.messages) if m.tool_calls)
    return bench, index


async def test_a_tool_call_turn_is_edited_as_its_calls_and_the_tool_runs_with_the_new_arguments(tmp_path):
    import json

    bench, index = await _tool_call_turn(tmp_path)
    document = json.loads(bench.editable_text(index))
    call = document["tool_calls"][0]
    assert call["name"] == bench.session.messages[index].tool_calls[0].name and call["arguments"]
    key = next(iter(call["arguments"]))
    call["arguments"][key] = "someone.else@example.com" if isinstance(call["arguments"][key], str) else 99999
    edited = bench.edit(index, json.dumps(document))
    assert edited.tool_calls and edited.tool_calls[0].parsed_arguments() == call["arguments"]
    assert edited.tool_calls[0].id == bench.session.dropped_branches[-1].messages[0].tool_calls[0].id
    result = await bench.step()
    assert result is not None and result.role is Role.TOOL and result.tool_call_id == edited.tool_calls[0].id


async def test_a_tool_call_edit_that_cannot_run_is_refused_and_changes_nothing(tmp_path):
    import json

    import pytest

    from turnloom.core.errors import TurnloomError

    bench, index = await _tool_call_turn(tmp_path)
    before = [m.model_dump() for m in bench.session.messages]
    for bad, said in (
        ("{ not json", "line 1"),
        (json.dumps({"tool_calls": [{"name": "no_such_tool", "arguments": {}}]}), "no_such_tool"),
        (json.dumps({"tool_calls": [{"name": before[index]["tool_calls"][0]["name"], "arguments": {"x": 1}}]}), "x"),
    ):
        with pytest.raises(TurnloomError, match=said):
            bench.edit(index, bad)
    assert [m.model_dump() for m in bench.session.messages] == before
