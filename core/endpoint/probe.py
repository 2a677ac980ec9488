"""What an endpoint supports: one tiny request per capability (`turnloom check`).

Each probe runs on a fresh `Endpoint` whose capabilities start as the probe
wants them; a feature is supported when the request succeeds and the endpoint
did not have to turn the feature off after a 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from turnloom.core.config import Profile
from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.endpoint.exchange import ChatRequest, extract_json
from turnloom.core.endpoint.wire import ConnectionFailed
from turnloom.core.errors import BackendError

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
CLOCK = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The current time.",
        "parameters": {"type": "object", "properties": {}, "required": []},
    },
}


@dataclass
class ProbeResult:
    """One capability's verdict."""

    feature: str
    supported: bool
    detail: str = ""
    unreachable: bool = False  # the request could not connect (refused, no route, bad host)


def _asks(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


async def probe(name: str, profile: Profile) -> list[ProbeResult]:
    """Probe every capability of `profile` (named `name` in messages).

    Returns:
        One result per feature, in a fixed order; `chat` first. When the endpoint cannot
        be reached at all (`chat` failed to connect), only `chat`: every other probe would
        wait out the same retries to say the same.
    """
    quick = profile.model_copy(update={"max_retries": min(profile.max_retries, 1), "max_reasks": 0})
    results: list[ProbeResult] = []

    async def run(feature: str, request: ChatRequest, flags: dict[str, bool], kept: str | None, accept) -> None:
        endpoint = Endpoint(name, quick)
        for key, value in flags.items():
            setattr(endpoint.capabilities, key, value)
        seen: list[str] = []
        try:
            reply = await endpoint.chat(request, seen.append)
        except BackendError as exc:
            unreachable = isinstance(exc.__cause__, ConnectionFailed)
            results.append(ProbeResult(feature, False, str(exc).split(": ", 1)[-1][:160], unreachable))
            return
        finally:
            await endpoint.aclose()
        if kept is not None and not getattr(endpoint.capabilities, kept):
            results.append(ProbeResult(feature, False, "refused with HTTP 400"))
            return
        verdict = accept(reply, seen)
        results.append(ProbeResult(feature, verdict is None, verdict or ""))

    none = {
        "json_schema": False,
        "json_object": False,
        "tool_choice": False,
        "parallel_tool_calls": False,
        "stream": False,
        "strict": False,
        "seed": False,
    }
    await run(
        "chat",
        ChatRequest("check", _asks("Reply with the word OK.")),
        none,
        None,
        lambda r, _: None if r.content.strip() else "empty reply",
    )
    if results[0].unreachable:
        return results
    await run(
        "stream",
        ChatRequest("check", _asks("Count from 1 to 5."), stream=True),
        dict(none, stream=True),
        "stream",
        lambda r, seen: None if len(seen) > 1 else "the reply came in one piece",
    )
    for feature, flags in (
        ("json_object", {"json_object": True}),
        ("json_schema", {"json_schema": True}),
        ("strict", {"json_schema": True, "strict": True}),
    ):
        request = ChatRequest("check", _asks('Reply with JSON {"answer": "OK"}.'), schema=SCHEMA)
        await run(feature, request, dict(none, **flags), feature, _json_ok)
    tools = ChatRequest("check", _asks("What time is it? Use the tool."), tools=[CLOCK])
    await run("tools", tools, none, None, lambda r, _: None if r.tool_calls else "answered without calling the tool")
    await run("tool_choice", tools, dict(none, tool_choice=True), "tool_choice", lambda r, _: None)
    await run(
        "parallel_tool_calls", tools, dict(none, parallel_tool_calls=True), "parallel_tool_calls", lambda r, _: None
    )
    await run(
        "seed",
        ChatRequest("check", _asks("Reply with the word OK."), seed=7),
        dict(none, seed=True),
        "seed",
        lambda r, _: None,
    )
    reasoning = ChatRequest("check", _asks("Is 17 prime? Answer yes or no."))
    await run(
        "reasoning",
        reasoning,
        none,
        None,
        lambda r, _: None if r.reasoning else "no reasoning field or <think> block in the reply",
    )
    return results


def _json_ok(reply, _seen) -> str | None:
    try:
        value = extract_json(reply.content)
    except ValueError:
        return f"not JSON: {reply.content[:60]!r}"
    return (
        None if isinstance(value, dict) and "answer" in value else f"JSON without the field: {json.dumps(value)[:60]}"
    )
