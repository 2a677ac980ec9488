"""The LLM tool simulator: results that fit each tool's output schema, consistent across a dialogue.

Used in `simulated` execution. Its prompt is append-only: a stable system
prompt (the tools with their output schemas and the dialogue's fixed reference
time), then every earlier simulated call and its result in order, then the
new call. The reply is asked for as `{"result": ...}` against the tool's output
schema and validated; a reply that does not fit gets repair rounds, and the
step fails cleanly if it still does not.
"""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.endpoint.exchange import ChatRequest
from turnloom.core.endpoint.structured import Spend, ask_json
from turnloom.core.models import Role, Session, ToolCall, ToolSpec
from turnloom.core.players.llm.user import seed_for
from turnloom.core.players.roles import RoleContext
from turnloom.core.prompts import json_repair, render


def _tool_listing(session: Session) -> str:
    entries = []
    for spec in session.active_tools():
        entries.append(
            json.dumps(
                {
                    "name": spec.name,
                    "description": spec.description,
                    "parameters": spec.parameters,
                    "output_schema": spec.output_schema or {},
                },
                ensure_ascii=False,
                sort_keys=True,
            )
        )
    return "\n".join(entries)


def _wrapped(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"result": spec.output_schema or {}},
        "required": ["result"],
        "additionalProperties": False,
    }


class LLMToolSimulator:
    """A `ToolSimulator` played by an OpenAI-compatible endpoint."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.spent = Spend()  # tool messages are built by the engine, so their cost is kept here

    def messages(self, session: Session, call: ToolCall) -> list[dict[str, Any]]:
        system = render(
            "tool_simulator.md", reference_time=session.reference_time or "unknown", tools=_tool_listing(session)
        )
        out: list[dict[str, Any]] = [{"role": "system", "content": system}]
        calls: dict[str, ToolCall] = {}
        for message in session.messages:
            for earlier in message.tool_calls:
                calls[earlier.id] = earlier
            if message.role is Role.TOOL and not message.meta.tool_error and message.tool_call_id in calls:
                earlier = calls[message.tool_call_id]
                try:
                    result = json.loads(message.text)
                except json.JSONDecodeError:
                    continue
                out.append(
                    {"role": "user", "content": render("tool_call.md", name=earlier.name, arguments=earlier.arguments)}
                )
                out.append({"role": "assistant", "content": json.dumps({"result": result}, ensure_ascii=False)})
        out.append({"role": "user", "content": render("tool_call.md", name=call.name, arguments=call.arguments)})
        return out

    async def simulate(self, ctx: RoleContext, spec: ToolSpec, call: ToolCall) -> str:
        request = ChatRequest(
            role="tool",
            messages=self.messages(ctx.session, call),
            schema=_wrapped(spec),
            schema_name="tool_result",
            strict_schema=False,  # generated output schemas rarely meet strict mode's rules
            seed=seed_for(ctx.session, "tool", ctx.salt),
        )
        reply = await ask_json(self.endpoint, request, repair=json_repair)
        self.spent.merge(reply.spend)
        return json.dumps(reply.value["result"], ensure_ascii=False)
