"""Simulated execution keeps one world per dialogue: writes persist, reads agree, sums add up, values fit."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from turnloom.core.engine.events import Proposal
from turnloom.core.lifecycle.dialogue import create_session, fork_session, open_engine
from turnloom.core.models import ChatMessage, MessageMeta, Role, ToolCall, ToolExecution, ToolSpec

ORDER_ROW = {
    "type": "object",
    "properties": {
        "order_id": {"type": "integer"},
        "customer_email": {"type": "string"},
        "customer_name": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "shipped", "delivered"]},
        "order_date": {"type": "string", "format": "date"},
        "shipping_city": {"type": "string"},
        "total_amount": {"type": "number"},
    },
}
FORGED_TOOLS = [  # tools as the simulated pipeline forges them: no SQL, only schemas
    ToolSpec(
        name="get_order",
        description="Get one order.",
        parameters={"type": "object", "properties": {"order_id": {"type": "integer"}}, "required": ["order_id"]},
        output_schema=ORDER_ROW,
    ),
    ToolSpec(
        name="update_order_status",
        description="Change an order's status.",
        parameters={
            "type": "object",
            "properties": {"order_id": {"type": "integer"}, "status": {"type": "string"}},
            "required": ["order_id", "status"],
        },
        output_schema={"type": "object", "properties": {"rowcount": {"type": "integer"}}},
        writes=True,
    ),
    ToolSpec(
        name="search_orders",
        description="Orders of a customer.",
        parameters={"type": "object", "properties": {"customer_email": {"type": "string"}}, "required": []},
        output_schema={"type": "array", "items": ORDER_ROW},
    ),
]


async def _engine(domain="retail", seed=0, tools=None):
    session = create_session(domain, seed=seed, execution=ToolExecution.SIMULATED)
    if tools is not None:
        session.tools = tools
    return open_engine(session)


async def _call(engine, tool, **arguments):
    """Commit an assistant message calling `tool`, let the engine answer it, return the parsed result."""
    session = engine.session
    call = ToolCall(id=f"call_test_{len(session.messages)}", name=tool, arguments=json.dumps(arguments))
    message = ChatMessage(role=Role.ASSISTANT, tool_calls=[call], meta=MessageMeta(producer="assistant"))
    await engine.commit(Proposal(Role.ASSISTANT, message, len(session.messages)))
    answer = await engine.step()
    assert answer.role is Role.TOOL and not answer.meta.tool_error, answer.content
    return json.loads(answer.content)


def _another_status(status):
    return "delivered" if status != "delivered" else "shipped"


async def test_an_update_shows_in_every_later_read_of_the_record():
    engine = await _engine()
    await _call(engine, "update_order_shipping_city", id=7, shipping_city="Bordeaux")
    assert (await _call(engine, "get_order_by_id", id=7))["shipping_city"] == "Bordeaux"
    customer = (await _call(engine, "get_order_by_id", id=7))["customer_id"]
    listed = await _call(engine, "get_customer_orders", customer_id=customer)
    assert [o["shipping_city"] for o in listed if o["id"] == 7] == ["Bordeaux"]


async def test_a_created_record_can_be_read_back_and_a_deleted_one_is_gone():
    engine = await _engine()
    created = await _call(engine, "create_customer", name="Lena Vogel", email="lena.vogel@example.com", city="Graz")
    new_id = created["lastrowid"]
    record = await _call(engine, "get_customer_by_id", id=new_id)
    assert record["name"] == "Lena Vogel" and record["email"] == "lena.vogel@example.com"
    assert record["tier"] == "standard"  # the column's default, as the INSERT would have given it
    assert await _call(engine, "get_customer_by_email", email="lena.vogel@example.com") == record
    assert (await _call(engine, "delete_customer", id=new_id))["rowcount"] == 1
    assert await _call(engine, "get_customer_by_id", id=new_id) is None


async def test_repeated_reads_agree_and_ids_are_stable():
    engine = await _engine()
    first = await _call(engine, "get_customer_orders", customer_id=3)
    again = await _call(engine, "get_customer_orders", customer_id=3)
    assert first == again and first
    for order in first:
        assert await _call(engine, "get_order_by_id", id=order["id"]) == order


async def test_a_summary_adds_up_with_the_records_it_summarises():
    engine = await _engine()
    await _call(engine, "update_order_total", id=7, total=100.0)
    orders = await _call(engine, "get_customer_orders", customer_id=9, limit=100)
    summary = await _call(engine, "get_customer_orders_summary", customer_id=9)
    total = round(sum(o["total"] for o in orders), 2)
    assert summary["orders_count"] == len(orders)
    assert summary["total_total"] == total
    assert summary["avg_total"] == round(total / len(orders), 2)


async def test_the_world_survives_a_fork_and_a_truncation():
    engine = await _engine(seed=4)
    await _call(engine, "update_order_status", id=2, status="cancelled")
    await _call(engine, "get_order_by_id", id=2)
    fork = fork_session(engine.session, at=len(engine.session.messages))
    forked = open_engine(fork)
    assert (await _call(forked, "get_order_by_id", id=2))["status"] == "cancelled"
    before = (await _call(engine, "get_order_by_id", id=3))["status"]
    await _call(engine, "update_order_status", id=3, status=_another_status(before))
    engine.truncate(len(engine.session.messages) - 2)  # the write is cut away
    assert (await _call(engine, "get_order_by_id", id=3))["status"] == before


async def test_a_write_proposed_but_not_committed_leaves_no_trace():
    engine = await _engine()
    session = engine.session
    before = (await _call(engine, "get_order_by_id", id=5))["status"]
    arguments = json.dumps({"id": 5, "status": _another_status(before)})
    call = ToolCall(id="call_dropped", name="update_order_status", arguments=arguments)
    message = ChatMessage(role=Role.ASSISTANT, tool_calls=[call], meta=MessageMeta(producer="assistant"))
    await engine.commit(Proposal(Role.ASSISTANT, message, len(session.messages)))
    await engine.propose()  # the operator looks at the result and throws it away
    engine.truncate(len(session.messages) - 1)
    assert (await _call(engine, "get_order_by_id", id=5))["status"] == before


async def test_simulated_dialogues_are_the_same_for_the_same_seed():
    async def run(seed):
        engine = await _engine("airline", seed)
        await engine.run()
        return [(m.role, m.content) for m in engine.session.messages]

    assert await run(5) == await run(5)


async def test_forged_tools_get_invented_records_that_persist_and_fit_their_fields():
    engine = await _engine(tools=FORGED_TOOLS)
    order = await _call(engine, "get_order", order_id=41)
    jsonschema.validate(order, ORDER_ROW)
    assert order["order_id"] == 41
    assert re.fullmatch(r"[a-z]+\.[a-z]+@example\.com", order["customer_email"])
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", order["customer_name"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", order["order_date"])
    assert not re.search(r"\w+-\d\d$", order["shipping_city"])
    assert await _call(engine, "get_order", order_id=41) == order
    new_status = _another_status(order["status"])
    assert (await _call(engine, "update_order_status", order_id=41, status=new_status))["rowcount"] == 1
    assert (await _call(engine, "get_order", order_id=41))["status"] == new_status


async def test_a_forged_search_returns_the_same_records_each_time_and_they_match_the_filter():
    engine = await _engine(tools=FORGED_TOOLS)
    found = await _call(engine, "search_orders", customer_email="ana.lopez@example.com")
    assert found and all(o["customer_email"] == "ana.lopez@example.com" for o in found)
    assert await _call(engine, "search_orders", customer_email="ana.lopez@example.com") == found
    assert await _call(engine, "get_order", order_id=found[0]["order_id"]) == found[0]


@pytest.mark.parametrize("domain", ["airline", "clinic", "football", "telecom"])
async def test_simulated_results_of_every_domain_fit_their_schemas(domain):
    engine = await _engine(domain, 2)
    await engine.run()
    calls = {c.id: c for m in engine.session.messages for c in m.tool_calls}
    for message in engine.session.messages:
        if message.role is Role.TOOL and not message.meta.tool_error:
            spec = engine.session.tool(calls[message.tool_call_id].name)
            jsonschema.validate(json.loads(message.content), spec.output_schema)


async def test_a_simulated_dialogue_leaves_no_reference_cycles_behind():
    """The environment holds the simulator; the simulator must not hold the environment back."""
    import gc

    async def run(seed):
        engine = await _engine(seed=seed)
        await engine.run()
        engine.environment.close()

    await run(0)  # warm-up: one-off caches
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await run(1)
        gc.collect()
        left = {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not left & {"DialogueEngine", "Session", "ToolEnvironment", "OfflineToolSimulator", "SimulatedWorld"}, left
