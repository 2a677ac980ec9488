"""The LLM assistant: the visible conversation in, text or tool calls out.

Its prompt is the stable system prompt followed by the transcript exactly as
the Chat Completions API carries it, so each turn's prompt extends the last.
Tool calls are checked before they can be committed: arguments that are not a
JSON object are repaired when the damage is simple, otherwise the model is
asked again (the bad call goes back as text, never as invalid JSON, which some
servers reject in history). Arguments that are valid JSON but do not fit the
tool's schema, or calls to unknown tools, are asked again too; if the model
insists they are committed and the environment answers with an error result,
as it would for any caller.
"""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.endpoint.exchange import (
    ChatRequest,
    ChatResult,
    MalformedReplyError,
    ReplyToolCall,
    canonical_json,
    repair_json,
)
from turnloom.core.endpoint.structured import Spend
from turnloom.core.errors import BackendError
from turnloom.core.models import ChatMessage, MessageMeta, Role, ToolCall, ToolSpec
from turnloom.core.players.llm.user import seed_for
from turnloom.core.players.roles import RoleContext
from turnloom.core.prompts import render
from turnloom.core.tools.sqlenv import validate_arguments
from turnloom.core.untrusted import strict_loads


def parse_arguments(raw: str) -> dict[str, Any] | None:
    """Tool-call arguments as an object: parsed, repaired, or None when beyond repair."""
    text = raw.strip() or "{}"
    try:
        value = strict_loads(text)  # NaN, Infinity: not JSON, so asked again, never committed
    except (ValueError, RecursionError):
        value = repair_json(text)
    if isinstance(value, str):  # double-encoded arguments ("{\"a\": 1}")
        try:
            value = strict_loads(value)
        except (ValueError, RecursionError):
            return None
    return value if isinstance(value, dict) else None


# the tool lists converted lately, newest last: a batch's dialogues share one list of ToolSpec
# objects (`SessionFactory`), so each worker converts and encodes its ~40 KB of schemas once
_WIRE_TOOLS: list[tuple[list[ToolSpec], list[dict[str, Any]], str]] = []


def _same(a: list[ToolSpec], b: list[ToolSpec]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def wire_tools(tools: list[ToolSpec]) -> tuple[list[ToolSpec], list[dict[str, Any]], str]:
    """`tools` in the OpenAI form and its canonical JSON, from the recent-lists cache when they are the same objects."""
    for entry in _WIRE_TOOLS:
        if _same(entry[0], tools):
            return entry
    wire = [t.to_openai() for t in tools]
    entry = (list(tools), wire, canonical_json(wire))
    _WIRE_TOOLS[:] = [*_WIRE_TOOLS[-3:], entry]
    return entry


class LLMAssistant:
    """An `Assistant` played by an OpenAI-compatible endpoint."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        # the prompt only grows, so each turn converts just the messages added since the last
        # (a player belongs to one dialogue; an edited or replaced message is converted again)
        self._system: tuple[str, str, str] | None = None  # (domain, prompt, its message's canonical JSON)
        # (message, its content and tool calls when converted, wire form, wire form's canonical JSON)
        self._converted: list[tuple[ChatMessage, str | None, list[ToolCall], dict[str, Any], str]] = []
        self._encoded: str | None = None

    def messages(self, ctx: RoleContext) -> list[dict[str, Any]]:
        """The prompt: system prompt, then the visible transcript."""
        domain = ctx.session.domain
        if self._system is None or self._system[0] != domain:
            system = render("assistant.md", domain=domain)
            self._system = (domain, system, canonical_json({"role": "system", "content": system}))
        converted = self._converted
        out: list[dict[str, Any]] = [{"role": "system", "content": self._system[1]}]
        for index, message in enumerate(ctx.session.messages):
            if index < len(converted):
                seen, content, calls, wire, _ = converted[index]
                if seen is message and content is message.content and calls is message.tool_calls:
                    out.append(wire)
                    continue
                del converted[index:]
            wire = message.to_openai()
            converted.append((message, message.content, message.tool_calls, wire, canonical_json(wire)))
            out.append(wire)
        del converted[len(ctx.session.messages) :]
        # canonical_json of a list is its items' canonical JSON joined by "," in brackets
        self._encoded = "[" + ",".join([self._system[2], *(entry[4] for entry in converted)]) + "]"
        return out

    async def propose(self, ctx: RoleContext, tools: list[ToolSpec]) -> ChatMessage:
        by_name = {t.name: t for t in tools}
        messages = self.messages(ctx)
        messages_json = self._encoded
        _, wire, tools_json = wire_tools(tools)
        spend = Spend()
        problem: str | None = "no reply"
        rounds = self.endpoint.profile.max_reasks + 1
        for round_ in range(rounds):
            request = ChatRequest(
                role="assistant",
                messages=messages,
                tools=wire or None,
                seed=seed_for(ctx.session, "assistant", ctx.salt),
                stream=ctx.stream is not None,  # nobody watching (a batch): one whole reply
                messages_json=messages_json,
                tools_json=tools_json,
            )
            if round_ and ctx.restart_stream is not None:
                ctx.restart_stream()
            try:
                result = await self.endpoint.chat(request, ctx.stream, ctx.restart_stream)
            except MalformedReplyError as exc:
                problem = str(exc)
                continue
            spend.add(result)
            last = round_ == rounds - 1
            calls, problem = self._calls(result, by_name, ctx, strict=not last)
            if problem is None and (calls or result.content.strip()):
                return self._message(ctx, result, calls, spend)
            problem = problem or "the reply had neither text nor tool calls"
            messages = messages + _reask(result, problem)
            messages_json = None
        raise BackendError(f"{self.endpoint.where}, role assistant: no usable reply after {rounds} tries ({problem})")

    def _calls(
        self, result: ChatResult, by_name: dict[str, ToolSpec], ctx: RoleContext, strict: bool
    ) -> tuple[list[ToolCall], str | None]:
        """The reply's calls made safe, or what is wrong with them (while re-asking is still allowed)."""
        used = {c.id for m in ctx.session.messages for c in m.tool_calls}
        calls: list[ToolCall] = []
        for n, raw in enumerate(result.tool_calls):
            arguments = parse_arguments(raw.arguments)
            if arguments is None:
                if strict:
                    return [], f"the arguments of {raw.name} are not a JSON object: {raw.arguments[:200]!r}"
                continue  # out of re-asks: never commit arguments that are not JSON
            spec = by_name.get(raw.name)
            if strict:
                if spec is None:
                    return (
                        [],
                        f"there is no tool named {raw.name!r}; the tools are {', '.join(sorted(by_name)) or 'none'}",
                    )
                misfit = validate_arguments(spec, arguments)
                if misfit is not None:
                    return [], f"the arguments of {raw.name} do not fit its schema: {misfit}"
            call_id = _call_id(raw, n, len(ctx.session.messages), used)
            used.add(call_id)
            text = raw.arguments if _is_object(raw.arguments) else json.dumps(arguments, ensure_ascii=False)
            calls.append(ToolCall(id=call_id, name=raw.name, arguments=text))
        return calls, None

    def _message(self, ctx: RoleContext, result: ChatResult, calls: list[ToolCall], spend: Spend) -> ChatMessage:
        return ChatMessage(
            role=Role.ASSISTANT,
            content=result.content.strip() or None,
            tool_calls=calls,
            reasoning=spend.reasoning_text,
            meta=MessageMeta(
                producer="assistant",
                backend=self.endpoint.name,
                model=spend.model or self.endpoint.profile.model,
                task_index=_task_index(ctx),
                usage=spend.usage,
                latency_ms=spend.latency_ms,
                requests=spend.requests if spend.requests > 1 else None,
            ),
        )


def _is_object(text: str) -> bool:
    try:
        return isinstance(strict_loads(text), dict)
    except (ValueError, RecursionError):
        return False


def _call_id(raw: ReplyToolCall, n: int, position: int, used: set[str]) -> str:
    """The server's id, or a deterministic one when it sent none or reused one."""
    candidate = raw.id or f"call_{position}_{n}"
    suffix = 1
    base = candidate
    while candidate in used:
        candidate = f"{base}_{suffix}"
        suffix += 1
    return candidate


def _reask(result: ChatResult, problem: str) -> list[dict[str, Any]]:
    said = result.content.strip()
    calls = "; ".join(f"{c.name}({c.arguments})" for c in result.tool_calls)
    content = " ".join(p for p in (said, f"[tool calls: {calls}]" if calls else "") if p) or "(empty reply)"
    return [
        {"role": "assistant", "content": content},
        {"role": "user", "content": render("tool_call_repair.md", problem=problem)},
    ]


def _task_index(ctx: RoleContext) -> int | None:
    for message in reversed(ctx.session.messages):
        if message.role is Role.USER and message.meta.task_index is not None:
            return message.meta.task_index
    return None
