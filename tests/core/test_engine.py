"""The dialogue engine: whose turn, propose/commit/step/run, override, edit, fork, finish reasons."""

from __future__ import annotations

import json

import pytest

from turnloom.core.engine.engine import (
    DialogueFinishedError,
    MessageCommitted,
    ProposalReady,
    ProposalStarted,
    StaleProposalError,
    TaskAdded,
    next_role,
)
from turnloom.core.errors import TurnloomError
from turnloom.core.lifecycle.dialogue import create_session, fork_session, open_engine
from turnloom.core.models import ChatMessage, FinishReason, MessageMeta, Mode, Provenance, Role, ToolCall


def _call(id_: str, name: str = "get_order_by_id", arguments: str = '{"id": 1}') -> ToolCall:
    return ToolCall(id=id_, name=name, arguments=arguments)


def test_whose_turn_is_a_pure_function_of_the_transcript():
    user = ChatMessage(role=Role.USER, content="hi")
    calls = ChatMessage(role=Role.ASSISTANT, tool_calls=[_call("a"), _call("b")])
    result_a = ChatMessage(role=Role.TOOL, content="{}", tool_call_id="a")
    result_b = ChatMessage(role=Role.TOOL, content="{}", tool_call_id="b")
    reply = ChatMessage(role=Role.ASSISTANT, content="done")
    assert next_role([]) is Role.USER
    assert next_role([user]) is Role.ASSISTANT
    assert next_role([user, calls]) is Role.TOOL
    assert next_role([user, calls, result_a]) is Role.TOOL
    assert next_role([user, calls, result_a, result_b]) is Role.ASSISTANT
    assert next_role([user, calls, result_a, result_b, reply]) is Role.USER
    assert next_role([ChatMessage(role=Role.SYSTEM, content="be brief")]) is Role.USER


async def test_propose_does_not_change_the_session_and_commit_appends():
    session = create_session("retail", seed=1)
    engine = open_engine(session)
    proposal = await engine.propose()
    assert session.messages == [] and session.tasks == []
    assert proposal.role is Role.USER and proposal.tasks
    await engine.commit(proposal)
    assert len(session.messages) == 1 and len(session.tasks) == 1
    assert session.messages[0].meta.task_index == 0


async def test_a_stale_proposal_is_refused():
    engine = open_engine(create_session("retail", seed=1))
    proposal = await engine.propose()
    await engine.step()
    with pytest.raises(StaleProposalError):
        await engine.commit(proposal)


async def test_events_come_in_order_for_each_step():
    engine = open_engine(create_session("airline", seed=2))
    events = []
    engine.subscribe(events.append)
    await engine.step()
    kinds = [type(e) for e in events]
    assert kinds == [ProposalStarted, ProposalReady, TaskAdded, MessageCommitted]


async def test_run_finishes_with_user_done_after_every_task():
    session = create_session("telecom", seed=4, tasks=3)
    engine = open_engine(session)
    reason = await engine.run()
    assert reason is FinishReason.USER_DONE
    assert session.messages[-1].meta.goal_done
    assert len(session.tasks) == 3
    assert sum(m.meta.task_done for m in session.messages) == 3
    with pytest.raises(DialogueFinishedError):
        await engine.propose()
    assert await engine.step() is None


async def test_a_tool_message_answers_each_call_once():
    session = create_session("retail", seed=3)
    engine = open_engine(session)
    await engine.run()
    calls = [c.id for m in session.messages for c in m.tool_calls]
    answers = [m.tool_call_id for m in session.messages if m.role is Role.TOOL]
    assert sorted(calls) == sorted(answers)


async def test_max_messages_pauses_and_resume_goes_on():
    session = create_session("football", seed=1, max_messages=6)
    engine = open_engine(session)
    assert await engine.run() is FinishReason.MAX_MESSAGES
    assert len(session.messages) <= 7
    engine.resume(extra_messages=400)
    assert await engine.run() is FinishReason.USER_DONE


async def test_operator_override_replaces_the_simulators_proposal_and_the_simulator_carries_on():
    session = create_session("retail", seed=1)
    engine = open_engine(session)
    await engine.commit_user_text("Hi, what's the status of order 7?")
    first = session.messages[0]
    assert first.meta.provenance is Provenance.OPERATOR
    await engine.step()  # the assistant understands the operator's words
    assistant = session.messages[1]
    assert assistant.tool_calls and assistant.tool_calls[0].name == "get_order_by_id"
    assert json.loads(assistant.tool_calls[0].arguments) == {"id": 7}
    assert await engine.run() is FinishReason.USER_DONE


async def test_operator_text_is_refused_when_it_is_not_the_users_turn():
    engine = open_engine(create_session("retail", seed=1))
    await engine.step()
    with pytest.raises(TurnloomError):
        await engine.commit_user_text("me again")


async def test_committing_a_proposal_with_operator_text_marks_it():
    session = create_session("clinic", seed=1)
    engine = open_engine(session)
    proposal = await engine.propose()
    await engine.commit(proposal, edited_text="Hello! Can you check visit #3 for me?")
    assert session.messages[0].meta.provenance is Provenance.OPERATOR
    assert session.messages[0].content.startswith("Hello!")


async def test_edit_drops_later_messages_and_rebuilds_the_database():
    session = create_session("retail", seed=2)  # a dialogue that writes
    engine = open_engine(session)
    await engine.run()
    write_index = session.write_log[0].message_index
    digest_before_write = open_engine(fork_session(session, write_index)).environment.db.state_digest()
    user_before = max(i for i, m in enumerate(session.messages[:write_index]) if m.role is Role.USER)
    engine.edit(user_before, "Thanks. What's the status of order 3?")
    assert len(session.messages) == user_before + 1
    assert session.messages[-1].meta.provenance is Provenance.EDITED
    assert all(w.message_index < user_before for w in session.write_log)
    assert engine.environment.db.state_digest() == digest_before_write
    assert session.finish_reason is None


async def test_tool_results_cannot_be_edited():
    session = create_session("retail", seed=1)
    engine = open_engine(session)
    await engine.run(max_steps=3)
    tool_index = next(i for i, m in enumerate(session.messages) if m.role is Role.TOOL)
    with pytest.raises(TurnloomError):
        engine.edit(tool_index, "{}")


async def test_regenerate_with_the_same_seed_reproduces_the_message():
    session = create_session("airline", seed=5)
    engine = open_engine(session)
    await engine.run()
    original = [m.model_dump() for m in session.messages]
    await engine.regenerate(4)
    assert session.messages[4].model_dump(exclude={"meta": {"latency_ms"}}) == {
        k: v for k, v in original[4].items() if k != "meta"
    } | {"meta": {k: v for k, v in original[4]["meta"].items() if k != "latency_ms"}}


async def test_fork_keeps_the_parent_untouched_and_rebuilds_state_at_n():
    parent = create_session("retail", seed=2)
    engine = open_engine(parent)
    await engine.run()
    before = parent.model_dump_json()
    at = parent.write_log[-1].message_index  # just before the last write's result
    child = fork_session(parent, at, path="parent.session.json")
    assert parent.model_dump_json() == before
    assert child.parent.session_id == parent.id and child.parent.at == at
    assert len(child.messages) == at and child.finish_reason is None
    assert all(w.message_index < at for w in child.write_log)
    # the fork's rebuilt database equals the parent's state replayed to the same point
    from turnloom.core.lifecycle.dialogue import base_image
    from turnloom.core.tools.sqlenv import SqlEnvironment

    expected = SqlEnvironment.rebuilt(base_image(parent), parent.write_log, at).state_digest()
    assert open_engine(child).environment.db.state_digest() == expected


async def test_fork_then_regenerate_with_the_same_seed_reproduces_the_suffix():
    parent = create_session("telecom", seed=8)
    await open_engine(parent).run()
    for at in (1, 5, len(parent.messages) // 2):
        child = fork_session(parent, at)
        await open_engine(child).run()
        strip = lambda ms: [m.model_dump(exclude={"meta": {"latency_ms"}}) for m in ms]  # noqa: E731
        assert strip(child.messages) == strip(parent.messages)


async def test_tool_error_streak_finishes_the_dialogue():
    session = create_session("retail", seed=1)
    session.config.tool_error_streak = 2
    engine = open_engine(session)
    await engine.commit_user_text("hello")
    for n in range(2):
        bad = ChatMessage(role=Role.ASSISTANT, tool_calls=[_call(f"x{n}", "no_such_tool", "{}")])
        engine._append(bad)
        await engine.step()
        assert session.messages[-1].meta.tool_error
    assert session.finish_reason is FinishReason.TOOL_ERROR_STREAK


async def test_the_same_user_text_three_times_is_a_loop():
    session = create_session("retail", seed=1)
    engine = open_engine(session)
    for _ in range(3):
        await engine.commit_user_text("are you there")
        if session.finish_reason:
            break
        await engine.step()
    assert session.finish_reason is FinishReason.LOOP_DETECTED


async def test_repeating_the_same_tool_calls_is_a_loop():
    session = create_session("retail", seed=1)
    engine = open_engine(session)
    await engine.commit_user_text("hello")
    for n in range(3):
        engine._append(ChatMessage(role=Role.ASSISTANT, tool_calls=[_call(f"c{n}")]))
        if session.finish_reason:
            break
        await engine.step()
    assert session.finish_reason is FinishReason.LOOP_DETECTED


async def test_a_failing_role_finishes_with_backend_error_and_commits_nothing():
    session = create_session("retail", seed=1)
    engine = open_engine(session)

    class Broken:
        async def propose(self, ctx, tools):
            raise TurnloomError("endpoint down")

    engine.roles.assistant = Broken()
    assert await engine.run() is FinishReason.BACKEND_ERROR
    assert [m.role for m in session.messages] == [Role.USER]


def test_task_oriented_mode_has_no_rules():
    session = create_session("retail", mode=Mode.TASK_ORIENTED)
    assert session.config.rules == [] and session.config.rule_set is None


async def test_task_oriented_first_turn_states_the_whole_task():
    session = create_session("retail", seed=3, mode=Mode.TASK_ORIENTED)
    engine = open_engine(session)
    await engine.step()
    first = session.messages[0]
    assert first.meta.subtasks == list(range(len(session.tasks[0].subtasks)))


def test_meta_defaults_are_simulator_provenance():
    assert MessageMeta().provenance is Provenance.SIMULATOR


async def test_operator_turns_are_checked_against_the_rules_in_force():
    session = create_session("retail", seed=1)
    engine = open_engine(session)
    await engine.commit_user_text("For this dataset task, what's the status of order 7?")
    assert any(v.rule_id == "natural_style" for v in session.messages[0].meta.violations)


async def test_a_finished_session_continued_with_new_tasks_completes_each_task_once():
    session = create_session("retail", seed=1, tasks=2)
    engine = open_engine(session)
    await engine.run()
    engine.resume(extra_tasks=2)
    assert await engine.run() is FinishReason.USER_DONE
    from turnloom.core.quality.metrics import dialogue_stats

    assert dialogue_stats(session)["tasks_done"] == 4 == len(session.tasks)
