"""The LLM forge stages on the fake server."""

from __future__ import annotations

import json

from backend_support import quick_profile

from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.lifecycle.dialogue import base_image, create_session
from turnloom.core.players.llm.forge import LLMForge


async def test_questions_tools_expansion_and_schemas_run_as_separate_stages(fake, key):
    forge = LLMForge(Endpoint("fake", quick_profile(fake)))
    session = create_session(domain="retail")
    questions = await forge.questions("retail", session.tools[:3])
    assert 20 <= len(questions) <= 30
    tools = await forge.tools_for("retail", questions[0], [])
    assert [t.name for t in tools] == ["search_records", "get_record_by_id"]
    more = await forge.expand("retail", tools)
    assert [t.name for t in more] == ["update_record_status"]
    again = await forge.tools_for("retail", questions[1], tools)
    assert again == []  # names that exist are not redefined
    with_schemas = await forge.output_schemas("retail", tools + more)
    assert with_schemas[0].output_schema["type"] == "array" and with_schemas[1].output_schema["type"] == "object"


async def test_output_schemas_are_predicted_in_one_growing_conversation(fake, key):
    forge = LLMForge(Endpoint("fake", quick_profile(fake)))
    tools = await forge.tools_for("retail", "Where is my order?", [])
    await forge.output_schemas("retail", tools)
    first, second = (r.body["messages"] for r in fake.requests_of("forge_schemas"))
    assert second[: len(first)] == first
    assert second[len(first)]["role"] == "assistant" and "output_schema" in json.loads(second[len(first)]["content"])


async def test_sql_tools_are_kept_only_if_they_run_on_a_scratch_copy(fake, key):
    forge = LLMForge(Endpoint("fake", quick_profile(fake)))
    session = create_session(domain="retail")
    image = base_image(session)
    report = await forge.sql_tools(image, session.tools)
    names = [t.name for t in report.tools]
    assert "get_customers_row_by_id" in names and "search_orders_rows" in names
    assert [n for n, _ in report.dropped] == ["get_broken_report"]
    spec = next(t for t in report.tools if t.name == "get_customers_row_by_id")
    assert spec.parameters["required"] == ["id"] and spec.parameters["properties"]["id"]["type"] == "integer"
    assert base_image(session) == image  # the scratch copy changed nothing
    invalid = [t for t in report.tools if not t.sql or ":" not in t.sql and "LIMIT" in t.sql]
    assert invalid == []
