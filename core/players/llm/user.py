"""The LLM user simulator: reveals hidden goals a piece at a time, under the rules in force.

The simulator's prompt is a conversation that only ever grows (so server-side
prefix caching hits): a stable system prompt, then the first goal with the
rules compiled beneath it, then — flipped — its own earlier turns as its
replies and each assistant turn (text, tool calls and results) as one message
from the other side. What a turn appends is kept small, since it is what a
prefix cache cannot reuse: JSON (call arguments, tool results, the simulator's
own replies) is written without whitespace and lists of records as columns and
rows, with every value kept. A later goal is appended where it was introduced. When
the model reports the current goal complete and the session wants another
task, the next goal is appended and the model writes one message that closes
the old topic and opens the new one; its closing reply is kept in the
message's meta so later prompts show exactly what the model saw.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.endpoint.exchange import ChatRequest, StreamedField
from turnloom.core.endpoint.structured import Spend, ask_json
from turnloom.core.models import ChatMessage, MessageMeta, Mode, Role, Rule, Session, SimulatorNotes, Task, Usage
from turnloom.core.players.roles import RoleContext
from turnloom.core.prompts import json_repair, render

USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "user_message": {"type": "string"},
        "subtasks": {"type": "array", "items": {"type": "integer"}},
        "is_task_complete": {"type": "boolean"},
    },
    "required": ["user_message", "subtasks", "is_task_complete"],
    "additionalProperties": False,
}
RESULT_CHARS = 4000  # tool results longer than this are cut in the simulator's view


def seed_for(session: Session, role: str, salt: int = 0) -> int:
    """The seed forwarded to the endpoint: from the session seed, the role and a regenerate salt."""
    digest = hashlib.sha256(f"{session.config.seed}:{role}:{salt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def compile_rules(rules: list[Rule]) -> str:
    """The rules in force as prompt lines, in order."""
    lines = [f"- {rule.rendered_prompt().strip()}" for rule in rules if rule.enabled and rule.prompt.strip()]
    return "\n".join(lines) or "- Behave like a natural, cooperative person."


def _goal_block(task: Task, first: bool, rules: str) -> str:
    steps = "\n".join(f"{n}. {s.description}" for n, s in enumerate(task.subtasks, start=1)) or "1. (as stated)"
    if first:
        return render("user_goal.md", goal=task.goal, subtasks=steps, difficulty=task.difficulty.value, rules=rules)
    return render("user_next_goal.md", goal=task.goal, subtasks=steps, difficulty=task.difficulty.value)


def compact_json(text: str) -> str:
    """`text` written without whitespace if it is JSON, as is if not.

    A list of two or more records with the same keys becomes
    `{"columns": [...], "rows": [[...], ...]}`: the same values, each key written once.
    """
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if (
        isinstance(value, list)
        and len(value) > 1
        and all(isinstance(row, dict) for row in value)
        and len({tuple(row) for row in value}) == 1
    ):
        value = {"columns": list(value[0]), "rows": [list(row.values()) for row in value]}
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _turn_lines(message: ChatMessage, names: dict[str, str]) -> list[str]:
    if message.role is Role.ASSISTANT:
        lines = [f"Assistant: {message.text}"] if message.text.strip() else []
        for call in message.tool_calls:
            names[call.id] = call.name
            lines.append(f"Assistant called {call.name} with {compact_json(call.arguments)}")
        return lines
    if message.role is Role.TOOL:
        text = compact_json(message.text)
        content = text if len(text) <= RESULT_CHARS else text[:RESULT_CHARS] + " ...(cut)"
        return [f"Result of {names.get(message.tool_call_id or '', message.name or 'tool')}: {content}"]
    if message.role is Role.SYSTEM:
        return [f"(Note: {message.text})"]
    return []


def _own_reply(message: ChatMessage) -> str:
    return json.dumps(
        {
            "user_message": message.text,
            "subtasks": [i + 1 for i in message.meta.subtasks],
            "is_task_complete": message.meta.goal_done,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


class SimulatorView:
    """Builds the simulator's append-only prompt from a session and its task list."""

    def __init__(self, session: Session, tasks: list[Task]) -> None:
        self.session = session
        self.tasks = tasks
        self.rules = (
            compile_rules(session.config.rules)
            if session.config.mode is Mode.USER_ORIENTED
            else ("- State the whole goal in your first message about it.")
        )
        self._shown: set[int] = set()

    def system(self) -> str:
        oriented = self.session.config.mode is Mode.USER_ORIENTED
        return render("user_simulator.md" if oriented else "user_simulator_task_oriented.md")

    def blocks(self, upto: int, before: bool = False) -> list[str]:
        """Goal blocks of tasks introduced at or before `upto` (strictly before, if `before`) not shown yet."""
        out = []
        for index, task in enumerate(self.tasks):
            due = task.introduced_at < upto if before else task.introduced_at <= upto
            if index not in self._shown and due:
                out.append(_goal_block(task, not self._shown, self.rules))
                self._shown.add(index)
        return out

    def messages(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"role": "system", "content": self.system()}]
        segment: list[str] = []
        names: dict[str, str] = {}
        for index, message in enumerate(self.session.messages):
            if message.role is not Role.USER:
                segment += _turn_lines(message, names)
                continue
            closing = message.meta.notes.closing if message.meta.notes else None
            early = self.blocks(index, before=closing is not None)
            out.append({"role": "user", "content": _join(segment, early)})
            segment = []
            if closing is not None:
                out.append({"role": "assistant", "content": closing})
                out.append({"role": "user", "content": _join([], self.blocks(index))})
            out.append({"role": "assistant", "content": _own_reply(message)})
        out.append({"role": "user", "content": _join(segment, self.blocks(len(self.session.messages)))})
        return out


def _join(lines: list[str], blocks: list[str]) -> str:
    parts = (["\n".join(lines)] if lines else []) + blocks
    return "\n\n".join(parts) or "(The assistant said nothing.)"


class LLMUserSimulator:
    """A `UserSimulator` played by an OpenAI-compatible endpoint."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def propose(self, ctx: RoleContext) -> ChatMessage:
        session = ctx.session
        tasks = ctx.task_list()
        if not tasks:
            return _message(
                "Hi! Actually, I think I'm all set. Thanks!", None, [], Spend(), self.endpoint, is_complete=True
            )
        current = _current_task(session, tasks)
        view = SimulatorView(session, tasks)
        messages = view.messages()
        spend = Spend()
        reply = await self._ask(ctx, messages, spend)
        value = reply.value
        if value["is_task_complete"]:
            following = await ctx.next_task() if ctx.next_task is not None else None
            if following is None:
                return self._finish(ctx, value, current, tasks, spend, completes=True, is_complete=True)
            closing = reply.content
            block = _goal_block(following, first=False, rules=view.rules)
            messages = messages + [{"role": "assistant", "content": reply.content}, {"role": "user", "content": block}]
            reply = await self._ask(ctx, messages, spend)
            value = dict(reply.value, is_task_complete=False)
            return self._finish(
                ctx, value, current + 1, ctx.task_list(), spend, completes=True, is_complete=False, closing=closing
            )
        return self._finish(ctx, value, current, tasks, spend, completes=False, is_complete=False)

    async def _ask(self, ctx: RoleContext, messages: list[dict[str, Any]], spend: Spend):
        field = StreamedField("user_message")

        def on_text(delta: str) -> None:
            visible = field.feed(delta)
            if visible and ctx.stream is not None:
                ctx.stream(visible)

        def on_restart() -> None:
            nonlocal field
            field = StreamedField("user_message")
            if ctx.restart_stream is not None:
                ctx.restart_stream()

        request = ChatRequest(
            role="user",
            messages=messages,
            schema=USER_SCHEMA,
            schema_name="user_turn",
            seed=seed_for(ctx.session, "user", ctx.salt),
            stream=ctx.stream is not None,  # nobody watching (a batch): one whole reply
        )
        reply = await ask_json(
            self.endpoint, request, check=_check_turn, on_text=on_text, on_restart=on_restart, repair=json_repair
        )
        spend.merge(reply.spend)
        return reply

    def _finish(
        self,
        ctx: RoleContext,
        value: dict,
        task_index: int,
        tasks: list[Task],
        spend: Spend,
        completes: bool,
        is_complete: bool,
        closing: str | None = None,
    ) -> ChatMessage:
        task = tasks[min(task_index, len(tasks) - 1)]
        subtasks = sorted(
            {n - 1 for n in value.get("subtasks", []) if isinstance(n, int) and 1 <= n <= len(task.subtasks)}
        )
        user_usage, task_usage = spend.usage, Usage()
        task_spends, ctx.task_spend = ctx.task_spend, []
        for spent in task_spends:
            task_usage = task_usage + spent.usage
            spend.merge(spent)
        return _message(
            value["user_message"].strip(),
            task_index,
            subtasks,
            spend,
            self.endpoint,
            completes=completes,
            is_complete=is_complete,
            notes=SimulatorNotes(closing=closing) if closing is not None else None,
            usage_by_role={"user": user_usage, "task": task_usage} if task_spends else None,
        )


def _check_turn(value: Any) -> str | None:
    if not str(value.get("user_message", "")).strip():
        return "user_message is empty; write the user's next message"
    return None


def _current_task(session: Session, tasks: list[Task]) -> int:
    for message in reversed(session.messages):
        if message.role is Role.USER and message.meta.task_index is not None:
            return min(message.meta.task_index, len(tasks) - 1)
    return 0


def _message(
    text: str,
    task_index: int | None,
    subtasks: list[int],
    spend: Spend,
    endpoint: Endpoint,
    completes: bool = False,
    is_complete: bool = False,
    notes: SimulatorNotes | None = None,
    usage_by_role: dict[str, Usage] | None = None,
) -> ChatMessage:
    return ChatMessage(
        role=Role.USER,
        content=text,
        reasoning=spend.reasoning_text,
        meta=MessageMeta(
            producer="user",
            backend=endpoint.name,
            model=spend.model or endpoint.profile.model,
            task_index=task_index,
            subtasks=subtasks,
            task_done=completes,
            goal_done=is_complete,
            usage=spend.usage if spend.requests else None,
            latency_ms=spend.latency_ms if spend.requests else None,
            notes=notes,
            usage_by_role=usage_by_role,
        ),
    )
