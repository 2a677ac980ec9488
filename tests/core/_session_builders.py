"""Session builders and hypothesis strategies shared by the store, journal and export tests.

Sessions are built directly from the models and always hold valid transcripts:
[system] user -> assistant(tool_calls) -> tool results -> assistant text, repeated.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from turnloom.core.models import (
    ChatMessage,
    FinishReason,
    GenerationConfig,
    MessageMeta,
    ParentRef,
    RoleName,
    Rule,
    RuleVerdict,
    Session,
    Subtask,
    Task,
    ToolCall,
    ToolSpec,
    Usage,
    WriteRecord,
)

AWKWARD = [
    '"""',
    "'''",
    "\\",
    "\\n is not a newline",
    "line one\nline two\n",
    "crlf\r\nline",
    "lone\rcarriage",
    "tab\there",
    "nul\x00byte",
    "del\x7fchar",
    "é 中文 🙂 \u2028 \u00a0",
    "<|im_start|>not a token here",
    '{"looks": "like json"}',
    "trailing quote'",
    "null",
    "",
]

text = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.lists(st.sampled_from(AWKWARD), min_size=1, max_size=4).map("".join),
)
nonblank = st.one_of(text.filter(lambda s: s.strip() != ""), st.sampled_from(["hi", "ok"]))
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
json_value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=15,
)
json_object = st.dictionaries(text, json_value, max_size=5)
# a message meta's free-form `extra`: keys that schema 1 used for typed fields are read into those fields
meta_extra = st.dictionaries(
    text.filter(
        lambda k: (
            k
            not in {
                "verify",
                "revise",
                "revised",
                "gave_up",
                "digression",
                "closing",
                "simulator_closing",
                "usage_by_role",
                "requests",
                "weight",
            }
        )
    ),
    json_value,
    max_size=5,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The strategy's values, or None."""
    return st.none() | strategy


def deep(depth: int, leaf: Any = None) -> dict[str, Any]:
    """A JSON object nested `depth` levels deep (objects and lists alternating)."""
    value: Any = leaf
    for level in range(depth):
        value = {"level": level, "next": [value, None]}
    return value


@st.composite
def json_schemas(draw: st.DrawFn) -> dict[str, Any]:
    props = {}
    for name in draw(st.lists(text, max_size=3, unique=True)):
        props[name] = {
            "type": draw(st.sampled_from(["string", ["string", "null"], "integer", "object"])),
            "default": draw(maybe(json_value)),
            "description": draw(text),
        }
    schema: dict[str, Any] = {"type": "object", "properties": props, "required": []}
    schema.update(draw(st.dictionaries(st.sampled_from(["$comment", "x-extra", "examples"]), json_value)))
    return schema


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    """A session with awkward content everywhere a user or model can put text or JSON."""
    tool_names = draw(st.lists(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), min_size=1, max_size=3, unique=True))
    tools = [
        ToolSpec(
            name=name,
            description=draw(text),
            parameters=draw(json_schemas()),
            output_schema=draw(maybe(json_schemas())),
            sql=draw(maybe(text)),
            returns=draw(st.sampled_from([None, "one", "many"])),
        )
        for name in tool_names
    ]
    messages: list[ChatMessage] = []
    if draw(st.booleans()):
        messages.append(ChatMessage(role="system", content=draw(nonblank)))
    call_no = 0
    for _ in range(draw(st.integers(0, 3))):
        messages.append(ChatMessage(role="user", content=draw(nonblank), meta=draw(metas())))
        calls = []
        for _ in range(draw(st.integers(1, 3))):
            call_no += 1
            args = draw(json_object) if draw(st.booleans()) else deep(draw(st.integers(1, 40)))
            calls.append(
                ToolCall(
                    id=f"call_{call_no}",
                    name=draw(st.sampled_from(tool_names)),
                    arguments=json.dumps(args, ensure_ascii=draw(st.booleans())),
                )
            )
        messages.append(
            ChatMessage(
                role="assistant",
                content=draw(maybe(text)),
                tool_calls=calls,
                reasoning=draw(maybe(text)),
                meta=draw(metas()),
            )
        )
        for call in calls:
            messages.append(ChatMessage(role="tool", tool_call_id=call.id, name=call.name, content=draw(text)))
        messages.append(ChatMessage(role="assistant", content=draw(nonblank), meta=draw(metas())))
    rules = [
        Rule(id=draw(text), title=draw(text), prompt=draw(text), params=draw(json_object), kind=draw(maybe(text)))
        for _ in range(draw(st.integers(0, 2)))
    ]
    return Session(
        id=draw(st.from_regex(r"[0-9a-f]{12}", fullmatch=True)),
        title=draw(maybe(text)),
        parent=draw(maybe(st.builds(ParentRef, session_id=text, path=maybe(text), at=st.integers(0, 99)))),
        config=GenerationConfig(
            seed=draw(st.integers(0, 2**63 - 1)),
            rule_set=draw(maybe(text)),
            rules=rules,
            roles=draw(st.dictionaries(st.sampled_from([str(role) for role in RoleName]), text, max_size=2)),
        ),
        domain=draw(nonblank),
        db_path=draw(maybe(text)),
        tools=tools,
        disabled_tools=draw(st.lists(text, max_size=2)),
        tasks=[
            Task(
                goal=draw(text),
                subtasks=[Subtask(description=draw(text), intent=draw(text), slots=draw(json_object))],
                rubric=draw(st.lists(text, max_size=2)),
                introduced_at=draw(st.integers(0, 20)),
                template=draw(maybe(text)),
            )
            for _ in range(draw(st.integers(0, 2)))
        ],
        messages=messages,
        write_log=[
            WriteRecord(
                message_index=draw(st.integers(0, 50)),
                tool_call_id=draw(text),
                tool=draw(text),
                sql=draw(text),
                params=draw(json_object),
                lastrowid=draw(maybe(st.integers(0, 9))),
            )
            for _ in range(draw(st.integers(0, 2)))
        ],
        finish_reason=(finish := draw(maybe(st.sampled_from(list(FinishReason))))),
        finish_detail=draw(maybe(text)) if finish is not None else None,  # a cause only for a finish
    )


@st.composite
def metas(draw: st.DrawFn) -> MessageMeta:
    return MessageMeta(
        producer=draw(maybe(text)),
        model=draw(maybe(text)),
        task_index=draw(maybe(st.integers(0, 5))),
        subtasks=draw(st.lists(st.integers(0, 5), max_size=3)),
        usage=draw(maybe(st.builds(Usage, prompt_tokens=st.integers(0, 10**6)))),
        latency_ms=draw(maybe(st.floats(allow_nan=False, allow_infinity=False))),
        verdicts=[RuleVerdict(rule_id=draw(text), passed=draw(st.booleans()), detail=draw(text))],
        extra=draw(meta_extra),
    )


def weather_tool() -> ToolSpec:
    """A small real-looking tool with a strict schema."""
    return ToolSpec(
        name="get_weather",
        description="Current weather for a city.",
        parameters={
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": ["string", "null"], "enum": ["c", "f", None], "default": None},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    )


def simple_session(
    *,
    session_id: str = "s1",
    exchanges: int = 2,
    parallel: bool = False,
    finish: FinishReason | None = FinishReason.USER_DONE,
    system: str | None = "You are a helpful assistant.",
) -> Session:
    """A valid session: per exchange, user -> assistant calls -> results -> assistant text."""
    messages: list[ChatMessage] = []
    if system:
        messages.append(ChatMessage(role="system", content=system))
    for n in range(exchanges):
        messages.append(ChatMessage(role="user", content=f"What's the weather in city {n}?"))
        cities = [f"Paris {n}", f"Oslo {n}"] if parallel else [f"Paris {n}"]
        calls = [
            ToolCall(id=f"c{n}_{i}", name="get_weather", arguments=json.dumps({"city": c}))
            for i, c in enumerate(cities)
        ]
        messages.append(ChatMessage(role="assistant", content=None, tool_calls=calls))
        for call in calls:
            messages.append(
                ChatMessage(
                    role="tool",
                    tool_call_id=call.id,
                    name=call.name,
                    content=json.dumps({"temp_c": 20 + n, "sky": "clear"}),
                )
            )
        messages.append(ChatMessage(role="assistant", content=f"It is {20 + n} °C and clear."))
    return Session(id=session_id, domain="weather", tools=[weather_tool()], messages=messages, finish_reason=finish)
