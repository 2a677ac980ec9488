"""What the LLM user simulator sees: every assistant turn and tool result, compactly, in a prompt
that only grows (so server-side prefix caching hits, issue 4)."""

from __future__ import annotations

import json
from typing import Any

from test_backend_players import engine_for

from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.models import ChatMessage, MessageMeta, Role, Subtask, Task, ToolCall, ToolExecution
from turnloom.core.players.llm.user import SimulatorView, compact_json


def records(rendered: str) -> Any:
    """The value `compact_json` rendered, with columns/rows expanded back into records."""
    value = json.loads(rendered)
    if isinstance(value, dict) and set(value) == {"columns", "rows"}:
        return [dict(zip(value["columns"], row)) for row in value["rows"]]
    return value


def test_json_is_written_without_whitespace():
    assert compact_json('{"order_id": 7, "note": "a, b: c"}') == '{"order_id":7,"note":"a, b: c"}'
    assert compact_json('{\n  "city": "Kraków"\n}') == '{"city":"Kraków"}'


def test_records_with_the_same_keys_become_columns_and_rows_with_the_same_values():
    rows = [{"id": 1, "status": "shipped", "total": 12.5}, {"id": 2, "status": None, "total": 40.0}]
    rendered = compact_json(json.dumps(rows))
    assert rendered == '{"columns":["id","status","total"],"rows":[[1,"shipped",12.5],[2,null,40.0]]}'
    assert records(rendered) == rows


def test_other_values_keep_their_shape():
    one = [{"id": 1}]
    mixed = [{"id": 1}, {"id": 2, "extra": True}]
    assert json.loads(compact_json(json.dumps(one))) == one
    assert json.loads(compact_json(json.dumps(mixed))) == mixed
    assert compact_json("no such order") == "no such order"
    assert compact_json("") == ""


def test_an_assistant_turn_reaches_the_simulator_as_its_text_calls_and_results():
    session = create_session(domain="retail", seed=1, tasks=1)
    task = Task(
        goal="The customer wants to check order 7.", subtasks=[Subtask(description="check order 7", intent="x")]
    )
    result = json.dumps([{"id": 7, "status": "shipped"}, {"id": 8, "status": "pending"}], indent=2)
    session.messages += [
        ChatMessage(role=Role.USER, content="Hi, where is order 7?", meta=MessageMeta(task_index=0, subtasks=[0])),
        ChatMessage(
            role=Role.ASSISTANT,
            content="Let me look.",
            tool_calls=[ToolCall(id="c1", name="search_orders", arguments='{"order_id": 7}')],
        ),
        ChatMessage(role=Role.TOOL, tool_call_id="c1", name="search_orders", content=result),
        ChatMessage(role=Role.ASSISTANT, content="Order 7 has shipped."),
    ]
    view = SimulatorView(session, [task]).messages()
    assert view[2] == {
        "role": "assistant",
        "content": '{"user_message":"Hi, where is order 7?","subtasks":[1],"is_task_complete":false}',
    }
    assert view[3] == {
        "role": "user",
        "content": "\n".join(
            [
                "Assistant: Let me look.",
                'Assistant called search_orders with {"order_id":7}',
                'Result of search_orders: {"columns":["id","status"],"rows":[[7,"shipped"],[8,"pending"]]}',
                "Assistant: Order 7 has shipped.",
            ]
        ),
    }


async def test_every_tool_result_reaches_the_simulator_value_for_value(fake, config):
    for execution in (ToolExecution.SQL, ToolExecution.SIMULATED):
        engine, setup = engine_for(config, execution=execution)
        await engine.run()
        await setup.aclose()
        session = engine.session
        lines = [
            line
            for m in SimulatorView(session, session.tasks).messages()
            if m["role"] == "user"
            for line in m["content"].splitlines()
        ]
        shown = [line.split(": ", 1)[1] for line in lines if line.startswith("Result of ")]
        results = [m for m in session.messages if m.role is Role.TOOL]
        assert len(results) >= 4
        assert [records(text) for text in shown] == [json.loads(m.text) for m in results]


async def test_each_simulator_request_adds_only_the_new_turn_compactly(fake, config):
    engine, setup = engine_for(config)
    await engine.run()
    await setup.aclose()
    asks = [r.body["messages"] for r in fake.requests_of("user")]
    assert len(asks) >= 6
    for earlier, later in zip(asks, asks[1:]):
        assert later[: len(earlier)] == earlier
        added = later[len(earlier) :]
        assert [m["role"] for m in added] == ["assistant", "user"]
        if added[1]["content"].startswith("## Your next goal"):
            continue  # a closing reply is kept as the model wrote it
        # the own reply is compact JSON, and no JSON the view wrote carries padding
        assert (
            json.dumps(json.loads(added[0]["content"]), ensure_ascii=False, separators=(",", ":"))
            == added[0]["content"]
        )
        for line in added[1]["content"].splitlines():
            if line.startswith(("Result of ", "Assistant called ")):
                written = line.split(": ", 1)[1] if line.startswith("Result of ") else line.split(" with ", 1)[1]
                assert compact_json(written) == written
