"""The LLM role players: what they send, what they commit, and what they refuse to commit."""

from __future__ import annotations

import json

import pytest

from turnloom.core.errors import BackendError
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import Mode, Role, ToolExecution
from turnloom.core.players.llm.user import SimulatorView
from turnloom.core.players.setup import BackendSetup


def engine_for(config, roles=("task", "user", "assistant", "tool", "judge"), **session_args):
    session = create_session(domain="retail", seed=3, **session_args)
    session.config.roles = {role: "fake" for role in roles}
    setup = BackendSetup.create(config)
    return open_engine(session, backends=setup), setup


async def step_until(engine, role: Role):
    while engine.next_role() is not role:
        await engine.step()
    return await engine.step()


async def test_malformed_tool_call_arguments_are_repaired_when_simple(fake, config):
    engine, _ = engine_for(config, roles=("assistant",))
    await engine.step()  # offline user
    fake.push(
        {"reply": {"content": "", "tool_calls": [{"name": "search_orders", "arguments": '{"limit": 2'}]}},
        role="assistant",
    )
    message = await engine.step()
    assert message.tool_calls[0].arguments == '{"limit": 2}'
    assert len(fake.requests_of("assistant")) == 1


async def test_broken_arguments_are_asked_again_and_never_committed(fake, config):
    engine, _ = engine_for(config, roles=("assistant",))
    await engine.step()
    fake.push(
        {"reply": {"content": "", "tool_calls": [{"name": "search_orders", "arguments": "limit=2 please"}]}},
        role="assistant",
    )
    message = await engine.step()
    asks = fake.requests_of("assistant")
    assert len(asks) == 2
    assert "not a JSON object" in asks[1].body["messages"][-1]["content"]
    assert all("tool_calls" not in m for m in asks[1].body["messages"][-2:])  # the bad call went back as text
    for call in message.tool_calls:
        json.loads(call.arguments)


async def test_arguments_that_stay_broken_are_dropped_and_the_step_fails_cleanly(fake, config):
    engine, _ = engine_for(config, roles=("assistant",))
    await engine.step()
    bad = {"reply": {"content": "", "tool_calls": [{"name": "search_orders", "arguments": "limit: two"}]}}
    fake.push(bad, bad, bad, role="assistant")
    before = len(engine.session.messages)
    with pytest.raises(BackendError, match="no usable reply after 3 tries"):
        await engine.step()
    assert len(engine.session.messages) == before


async def test_a_call_to_an_unknown_tool_is_asked_again(fake, config):
    engine, _ = engine_for(config, roles=("assistant",))
    await engine.step()
    fake.push({"reply": {"content": "", "tool_calls": [{"name": "teleport", "arguments": "{}"}]}}, role="assistant")
    message = await engine.step()
    assert message.tool_calls and message.tool_calls[0].name != "teleport"
    assert "no tool named 'teleport'" in fake.requests_of("assistant")[1].body["messages"][-1]["content"]


async def test_duplicate_call_ids_from_the_server_are_made_unique(fake, config):
    engine, _ = engine_for(config, roles=("assistant",))
    await engine.step()
    call = {"id": "call_0", "name": "search_orders", "arguments": "{}"}
    fake.push({"reply": {"content": "", "tool_calls": [call, dict(call)]}}, role="assistant")
    message = await engine.step()
    assert [c.id for c in message.tool_calls] == ["call_0", "call_0_1"]


async def test_the_user_simulator_sees_the_goal_with_the_rules_beneath_it(fake, config):
    engine, _ = engine_for(config, roles=("task", "user"))
    message = await engine.step()
    prompt = fake.requests_of("user")[0].body["messages"]
    first = prompt[1]["content"]
    goal_at, rules_at = first.index("## Your goal"), first.index("## How you behave")
    assert goal_at < rules_at
    for rule in engine.session.config.rules:
        if rule.enabled and rule.prompt:
            assert rule.rendered_prompt().strip() in first[rules_at:]
    assert "the goal wins" in first
    assert message.meta.task_index == 0 and message.meta.subtasks == [0]
    assert message.meta.usage.prompt_tokens > 0 and message.meta.backend == "fake"
    assert message.meta.usage_by_role is not None and set(message.meta.usage_by_role) == {"user", "task"}


async def test_task_oriented_mode_uses_its_own_simulator_prompt_without_rules(fake, config):
    engine, _ = engine_for(config, roles=("task", "user"), mode=Mode.TASK_ORIENTED)
    await engine.step()
    prompt = fake.requests_of("user")[0].body["messages"]
    assert prompt[0]["content"].startswith("# Role: user simulator (task-oriented)")
    assert "State the whole goal" in prompt[1]["content"]


async def test_user_message_streams_as_plain_text_not_json(fake, config):
    engine, _ = engine_for(config, roles=("task", "user"))
    deltas: list[str] = []
    engine.subscribe(lambda e: deltas.append(e.text) if type(e).__name__ == "ProposalDelta" else None)
    message = await engine.step()
    assert "".join(deltas) == message.content and "{" not in "".join(deltas)


async def test_a_task_transition_keeps_the_simulators_prompt_append_only(fake, config):
    engine, _ = engine_for(config)
    await engine.run()
    session = engine.session
    transitions = [m for m in session.messages if m.role is Role.USER and m.meta.task_done and not m.meta.goal_done]
    assert len(transitions) == 2 and all(m.meta.notes and m.meta.notes.closing for m in transitions)
    asks = [r.body["messages"] for r in fake.requests_of("user")]
    for earlier, later in zip(asks, asks[1:]):
        assert later[: len(earlier)] == earlier
    # the view rebuilt from the saved session is what was sent last, plus the final reply
    view = SimulatorView(session, session.tasks).messages()
    assert view[: len(asks[-1])] == asks[-1]


async def test_the_assistant_prompt_is_the_transcript_after_a_stable_system_prompt(fake, config):
    engine, _ = engine_for(config)
    await engine.run()
    asks = [r.body["messages"] for r in fake.requests_of("assistant")]
    assert len({json.dumps(a[0]) for a in asks}) == 1
    for earlier, later in zip(asks, asks[1:]):
        assert later[: len(earlier)] == earlier


async def test_simulated_tool_results_fit_the_output_schema(fake, config):
    import jsonschema

    engine, setup = engine_for(config, execution=ToolExecution.SIMULATED)
    await engine.run()
    session = engine.session
    calls = {c.id: c for m in session.messages for c in m.tool_calls}
    results = [m for m in session.messages if m.role is Role.TOOL]
    assert results
    for message in results:
        spec = session.tool(calls[message.tool_call_id].name)
        jsonschema.validate(json.loads(message.content), spec.output_schema)
    assert engine.roles.tool.spent.requests == len(results)
    listing = fake.requests_of("tool")[0].body["messages"][0]["content"]
    assert session.reference_time in listing


async def test_a_simulated_result_that_never_fits_stops_the_step(fake, config):
    engine, _ = engine_for(config, execution=ToolExecution.SIMULATED)
    while engine.next_role() is not Role.TOOL:
        await engine.step()
    fake.push(*[{"reply": {"content": '{"result": "not the right shape"}'}}] * 3, role="tool")
    before = len(engine.session.messages)
    with pytest.raises(BackendError, match="no usable JSON"):
        await engine.step()
    assert len(engine.session.messages) == before


async def test_generated_tasks_are_grounded_in_a_data_view_and_drawn_difficulty(fake, config):
    engine, _ = engine_for(config, roles=("task", "user"))
    await engine.step()
    prompt = fake.requests_of("task")[0].body["messages"][1]["content"]
    assert "CREATE TABLE" in prompt and "rows):" in prompt and "Write task number 1" in prompt
    task = engine.session.tasks[0]
    assert task.subtasks and task.goal.startswith("The customer wants") and task.rubric
    assert f"of difficulty {task.difficulty.value}" in prompt


async def test_mapping_task_without_user_is_refused(config):
    from turnloom.core.errors import ConfigError

    with pytest.raises(ConfigError, match="map the `user` role"):
        engine_for(config, roles=("task",))


async def test_usage_and_cost_are_accounted_per_role(fake, config):
    from turnloom.core.config import Price
    from turnloom.core.endpoint.accounting import role_costs

    engine, _ = engine_for(config, execution=ToolExecution.SIMULATED)
    await engine.run()
    costs = role_costs(engine.session, {"fake-model": Price(prompt=2.0, completion=8.0)}, engine.roles.tool.spent)
    assert set(costs) == {"user", "task", "assistant", "tool"}
    total = sum((c.usage for c in costs.values() if c is not costs["tool"]), start=type(engine.session.usage)())
    assert total == engine.session.usage
    assert all(c.cost > 0 for c in costs.values())
    assert costs["assistant"].latency_ms > 0


async def test_streamed_user_text_starts_over_when_the_stream_is_retried(fake, config):
    engine, _ = engine_for(config, roles=("task", "user"))
    fake.push({"drop": 2}, role="user")
    shown: list[str] = []
    starts: list[str] = []

    def on_event(event) -> None:
        name = type(event).__name__
        if name == "ProposalStarted":
            starts.append(name)
            shown.clear()
        elif name == "ProposalDelta":
            shown.append(event.text)

    engine.subscribe(on_event)
    message = await engine.step()
    assert len(starts) == 2 and len(fake.requests_of("user")) == 2
    assert "".join(shown) == message.content
