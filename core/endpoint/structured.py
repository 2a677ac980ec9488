"""Structured output: ask for JSON that fits a schema, and get it or a clean failure.

The endpoint already falls back by capability (strict json_schema, then
json_schema, then json_object, then plain text); whatever arrives is parsed
here — the JSON found in the text, repaired when nearly right — and validated
against the schema. A reply that still does not fit gets a repair round: the
reply and what is wrong with it go back to the model, up to the profile's
`max_reasks` times, each after the retry policy's backoff. Usage and latency of every round are summed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from turnloom.core.endpoint import plain_schema
from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.endpoint.exchange import ChatRequest, ChatResult, MalformedReplyError, extract_json
from turnloom.core.errors import BackendError
from turnloom.core.models import Usage

# an extra check on a parsed reply: None when fine, else what is wrong
Check = Callable[[Any], str | None]


@dataclass
class Spend:
    """What a role's turn cost, summed over its requests."""

    usage: Usage = field(default_factory=Usage)
    latency_ms: float = 0.0
    requests: int = 0
    cached: int = 0
    reasoning: list[str] = field(default_factory=list)
    model: str | None = None

    def add(self, result: ChatResult) -> None:
        # a cached reply keeps its recorded usage, so a replayed session equals the recording
        self.usage = self.usage + result.usage
        self.latency_ms = round(self.latency_ms + result.latency_ms, 3)
        self.requests += 1
        self.cached += int(result.cached)
        if result.reasoning:
            self.reasoning.append(result.reasoning)
        self.model = result.model or self.model

    def merge(self, other: Spend) -> None:
        self.usage = self.usage + other.usage
        self.latency_ms = round(self.latency_ms + other.latency_ms, 3)
        self.requests += other.requests
        self.cached += other.cached
        self.reasoning += other.reasoning
        self.model = other.model or self.model

    @property
    def reasoning_text(self) -> str | None:
        return "\n\n".join(self.reasoning) or None


@dataclass
class JsonReply:
    """A parsed, validated reply and the text it came in."""

    value: Any
    content: str
    spend: Spend


# the validators of the schemas replies were checked against lately, by the schema's identity: a
# role asks with one schema object for every request (`USER_SCHEMA`), and building a validator
# (it walks the schema) cost more than checking a reply with it; beside each, the schema's quick
# check when it is a plain one (`plain_schema`)
_VALIDATORS: dict[int, tuple[dict[str, Any], jsonschema.Draft202012Validator, plain_schema.Check | None]] = {}


def _validator(schema: dict[str, Any]) -> tuple[jsonschema.Draft202012Validator, plain_schema.Check | None]:
    known = _VALIDATORS.get(id(schema))
    if known is None or known[0] is not schema:
        if len(_VALIDATORS) >= 64:
            _VALIDATORS.clear()
        # the schema is held beside its validator, so its id cannot pass to another object
        known = _VALIDATORS[id(schema)] = (
            schema,
            jsonschema.Draft202012Validator(schema),
            plain_schema.plain_check(schema),
        )
    return known[1], known[2]


def schema_problem(value: Any, schema: dict[str, Any] | None) -> str | None:
    """Why `value` does not fit `schema` (the first, most specific error), or None."""
    if schema is None:
        return None
    validator, quick = _validator(schema)
    if quick is not None and quick(value):  # the usual case, a plain schema and a fitting reply
        return None
    if validator.is_valid(value):  # no error objects to build and rank
        return None
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    return f"at {where}: {error.message}"


async def ask_json(
    endpoint: Endpoint,
    request: ChatRequest,
    check: Check | None = None,
    on_text: Callable[[str], None] | None = None,
    on_restart: Callable[[], None] | None = None,
    *,
    repair: Callable[[str], str],
) -> JsonReply:
    """Ask `endpoint` for JSON fitting `request.schema`, with repair rounds.

    Args:
        endpoint: where to ask.
        request: the request; its `schema` is what the reply must fit.
        check: a further test of the parsed value.
        repair: the message a repair round sends, given what is wrong with the reply
            (the players' `prompts.json_repair`: prompts are theirs, not the endpoint's).
        on_text: streamed text fragments of each round (raw JSON text).
        on_restart: called whenever the streamed text starts over (a repair round, a retried stream).

    Returns:
        The reply.

    Raises:
        BackendError: the endpoint failed, or no usable JSON came after the repair rounds.
    """
    spend = Spend()
    messages = list(request.messages)
    problem: str | None = "no reply"
    for round_ in range(endpoint.profile.max_reasks + 1):
        attempt = request if round_ == 0 else _with_messages(request, messages)
        await endpoint.retry.before_reask(round_)  # a re-ask backs off as a retry does
        if round_ and on_restart is not None:
            on_restart()
        try:
            result = await endpoint.chat(attempt, on_text, on_restart)
        except MalformedReplyError as exc:
            problem = str(exc)
            continue
        spend.add(result)
        value, problem = _checked(result.content, request.schema, check)
        if problem is None:
            return JsonReply(value, result.content, spend)
        messages = messages + [
            {"role": "assistant", "content": result.content or "(empty)"},
            {"role": "user", "content": repair(problem)},
        ]
    raise BackendError(
        f"{endpoint.where}, role {request.role}: no usable JSON after {endpoint.profile.max_reasks} repair rounds "
        f"({problem}); try a stronger model or turn json_schema on in the profile"
    )


def _with_messages(request: ChatRequest, messages: list[dict[str, Any]]) -> ChatRequest:
    return ChatRequest(
        role=request.role,
        messages=messages,
        tools=request.tools,
        schema=request.schema,
        schema_name=request.schema_name,
        strict_schema=request.strict_schema,
        seed=request.seed,
        stream=request.stream,
    )


def _checked(content: str, schema: dict[str, Any] | None, check: Check | None) -> tuple[Any, str | None]:
    """The reply's JSON value, parsed once, and what is wrong with it (None when it fits)."""
    try:
        value = extract_json(content)
    except ValueError as exc:
        return None, f"it is not valid JSON ({exc})"
    problem = schema_problem(value, schema)
    if problem is None and check is not None:
        problem = check(value)
    return value, problem
