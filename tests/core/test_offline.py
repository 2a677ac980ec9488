"""The offline backend: grounded, incremental, multi-task dialogues on every domain, deterministically."""

from __future__ import annotations

import json

import jsonschema
import pytest

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import FinishReason, Mode, Role, ToolExecution
from turnloom.core.players.offline.assistant import OfflineAssistant
from turnloom.core.players.offline.knowledge import knowledge_for
from turnloom.core.players.roles import RoleContext
from turnloom.core.quality.grounding import ungrounded_values


async def _run(domain, seed=0, **kw):
    session = create_session(domain, seed=seed, **kw)
    engine = open_engine(session)
    await engine.run()
    return session


@pytest.mark.parametrize("domain", pack_names())
async def test_three_task_user_oriented_dialogue_is_grounded_in_tool_results(domain):
    for seed in range(4):
        session = await _run(domain, seed, tasks=3)
        assert session.finish_reason is FinishReason.USER_DONE
        assert len(session.tasks) == 3
        assert ungrounded_values(session.messages, tool_results_only=True) == []
        assert all(not m.meta.tool_error for m in session.messages if m.role is Role.TOOL)


@pytest.mark.parametrize("domain", pack_names())
async def test_user_oriented_reveals_at_most_two_subtasks_per_turn(domain):
    session = await _run(domain, 1, tasks=3)
    assert max(len(m.meta.subtasks) for m in session.messages if m.role is Role.USER) <= 2


async def test_user_oriented_dialogues_are_longer_than_task_oriented_on_the_same_seeds():
    user = task = 0
    for domain in pack_names():
        for seed in range(3):
            user += len((await _run(domain, seed)).messages)
            task += len((await _run(domain, seed, mode=Mode.TASK_ORIENTED)).messages)
    # longer, clearly: the ratio itself is a description, not a target (issue 14); over 15 dialogues it
    # moves with the task mix (1.59x here; bench/table1.py's 100 dialogues per mode measure 1.66-1.72x)
    assert user >= 1.5 * task


async def test_the_same_seed_gives_an_identical_session():
    first = await _run("football", 11)
    second = await _run("football", 11)
    strip = {"id", "created_at"}
    one = first.model_dump(mode="json", exclude=strip)
    two = second.model_dump(mode="json", exclude=strip)
    for data in (one, two):
        for message in data["messages"]:
            message["meta"]["latency_ms"] = None
    assert one == two


async def test_different_seeds_give_different_dialogues():
    a, b = await _run("retail", 1), await _run("retail", 2)
    assert [m.content for m in a.messages] != [m.content for m in b.messages]


async def test_writes_persist_across_tasks_and_never_leak_between_dialogues():
    for seed in range(10):  # a dialogue that writes
        session = await _run("retail", seed)
        if session.write_log:
            break
    assert session.write_log
    engine = open_engine(session)
    changed = engine.environment.db.state_digest()
    fresh = open_engine(create_session("retail", seed=seed)).environment.db.state_digest()
    assert changed != fresh


async def test_later_tasks_can_build_on_earlier_ones():
    shared = 0
    for seed in range(20):
        session = await _run("retail", seed)
        first = {str(v) for s in session.tasks[0].subtasks for v in s.slots.values()}
        later = {str(v) for t in session.tasks[1:] for s in t.subtasks for v in s.slots.values()}
        shared += bool(first & later)
    assert shared >= 3


async def test_the_assistant_asks_a_clarifying_question_when_it_cannot_resolve_a_request():
    session = create_session("retail", seed=1)
    engine = open_engine(session)
    await engine.commit_user_text("What's the status of my order?")
    await engine.step()
    reply = session.messages[-1]
    assert reply.role is Role.ASSISTANT and not reply.tool_calls
    assert reply.content.rstrip().endswith("?")


async def test_the_assistant_never_reads_the_hidden_task():
    session = create_session("retail", seed=1)
    engine = open_engine(session)
    await engine.step()
    knowledge = knowledge_for(session)
    visible = session.model_copy(update={"tasks": []})
    ctx = RoleContext(session=visible, environment=engine.environment)
    reply = await OfflineAssistant(knowledge).propose(ctx, session.tools)
    original = await OfflineAssistant(knowledge).propose(
        RoleContext(session=session, environment=engine.environment), session.tools
    )
    assert reply == original


@pytest.mark.parametrize("domain", ["retail", "airline"])
async def test_simulated_results_fit_output_schemas_and_stay_consistent(domain):
    session = await _run(domain, 3, execution=ToolExecution.SIMULATED)
    assert session.finish_reason is FinishReason.USER_DONE
    calls = {c.id: c for m in session.messages for c in m.tool_calls}
    seen: dict[tuple, object] = {}
    written = False  # simulated writes change what a later read shows; reads before any write must agree
    for message in session.messages:
        if message.role is not Role.TOOL:
            continue
        call = calls[message.tool_call_id]
        spec = session.tool(call.name)
        result = json.loads(message.content)
        jsonschema.validate(result, spec.output_schema)
        written = written or spec.writes
        if spec.returns == "one" and not written:
            key = (call.name, call.arguments)
            assert seen.setdefault(key, result) == result


async def test_a_user_database_runs_offline(tmp_path):
    import sqlite3

    path = tmp_path / "library.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE authors (author_id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, country TEXT);
        CREATE TABLE books (book_id INTEGER PRIMARY KEY, title TEXT NOT NULL, isbn TEXT UNIQUE,
            author_id INTEGER REFERENCES authors(author_id),
            genre TEXT CHECK (genre IN ('fiction','history','science')), price REAL);
        INSERT INTO authors VALUES (1,'Mary Shelley','UK'),(2,'Jules Verne','France'),(3,'Carl Sagan','USA');
        INSERT INTO books VALUES (1,'Frankenstein','978-1',1,'fiction',9.5),(2,'The Last Man','978-2',1,'fiction',12.0),
            (3,'Twenty Thousand Leagues','978-3',2,'fiction',8.0),(4,'Cosmos','978-4',3,'science',15.5);
        """
    )
    conn.commit()
    conn.close()
    for seed in range(5):
        session = create_session(db_path=path, seed=seed)
        assert session.domain == "library" and session.db_path == str(path.resolve())
        engine = open_engine(session)
        assert await engine.run() is FinishReason.USER_DONE
        assert ungrounded_values(session.messages, tool_results_only=True) == []
