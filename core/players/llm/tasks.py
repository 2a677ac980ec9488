"""The LLM task generator: descriptive goals grounded in the schema and a limited data view.

Each task is conditioned on the dialogue's *current* database (so a later task
sees an earlier task's writes), the tools the assistant has, a few rows per
table drawn with the dialogue's seeded generator, and the goals already set in
the conversation (so the new one extends them or is a coherent new goal). The
difficulty is drawn here, not left to the model, so the mix is controlled.
"""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.endpoint.exchange import ChatRequest
from turnloom.core.endpoint.structured import ask_json
from turnloom.core.errors import BackendError
from turnloom.core.models import Difficulty, Subtask, Task
from turnloom.core.players.llm.user import seed_for
from turnloom.core.players.roles import RoleContext
from turnloom.core.prompts import json_repair, render

DIFFICULTY_WEIGHTS = {Difficulty.EASY: 0.25, Difficulty.MEDIUM: 0.4, Difficulty.HARD: 0.35}
ROWS_PER_TABLE = 3
MAX_TABLES = 12
VALUE_CHARS = 80

TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "goal": {"type": "string"},
        "difficulty": {"type": "string", "enum": ["easy", "medium", "hard"]},
        "subtasks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"description": {"type": "string"}},
                "required": ["description"],
                "additionalProperties": False,
            },
        },
        "rubric": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["goal", "difficulty", "subtasks", "rubric"],
    "additionalProperties": False,
}


def schema_text(ctx: RoleContext) -> str:
    """The CREATE statements of the dialogue's database."""
    rows = ctx.environment.query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return "\n".join(f"{r['sql']};" for r in rows if r.get("sql")) or "(no tables)"


def data_view(ctx: RoleContext, index: int) -> str:
    """A few current rows of each table, drawn with the dialogue's seeded generator."""
    rng = ctx.rng("task-view", index)
    tables = [
        r["name"]
        for r in ctx.environment.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ][:MAX_TABLES]
    lines: list[str] = []
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        count = ctx.environment.query(f"SELECT COUNT(*) AS n FROM {quoted}")[0]["n"]
        offset = rng.randrange(max(1, count - ROWS_PER_TABLE + 1))
        rows = ctx.environment.query(f"SELECT * FROM {quoted} LIMIT {ROWS_PER_TABLE} OFFSET {offset}")
        lines.append(f"{table} ({count} rows):")
        for row in rows:
            cut = {k: (v[:VALUE_CHARS] if isinstance(v, str) else v) for k, v in row.items()}
            lines.append("  " + json.dumps(cut, ensure_ascii=False, default=str))
    return "\n".join(lines) or "(no data)"


def _check(value: Any) -> str | None:
    if not str(value.get("goal", "")).strip():
        return "goal is empty"
    steps = [s for s in value.get("subtasks", []) if str(s.get("description", "")).strip()]
    if not steps:
        return "subtasks is empty; give at least one step"
    return None


class LLMTaskGenerator:
    """A `TaskGenerator` played by an OpenAI-compatible endpoint."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def generate(self, ctx: RoleContext, index: int) -> Task:
        rng = ctx.rng("task", index)
        difficulty = rng.choices(list(DIFFICULTY_WEIGHTS), weights=list(DIFFICULTY_WEIGHTS.values()), k=1)[0]
        session = ctx.session
        previous = "\n".join(f"{n}. {t.goal}" for n, t in enumerate(ctx.task_list(), start=1)) or "(none yet)"
        tools = "\n".join(f"- {t.name}: {t.description}" for t in session.active_tools()) or "(none)"
        try:
            schema, view = schema_text(ctx), data_view(ctx, index)
        except Exception as exc:  # a database the view cannot read still gets a task, from the tools alone
            schema, view = "(unavailable)", f"(unavailable: {exc})"
        prompt = render(
            "task_request.md",
            domain=session.domain,
            schema=schema,
            tools=tools,
            data_view=view,
            previous=previous,
            number=index + 1,
            difficulty=difficulty.value,
        )
        request = ChatRequest(
            role="task",
            messages=[{"role": "system", "content": render("task_generator.md")}, {"role": "user", "content": prompt}],
            schema=TASK_SCHEMA,
            schema_name="descriptive_task",
            seed=seed_for(session, f"task{index}", ctx.salt),
        )
        reply = await ask_json(self.endpoint, request, check=_check, repair=json_repair)
        ctx.task_spend.append(reply.spend)
        value = reply.value
        subtasks = [
            Subtask(description=s["description"].strip(), intent="llm")
            for s in value["subtasks"]
            if s["description"].strip()
        ]
        if not subtasks:  # unreachable after _check; kept so a bad cache record cannot pass
            raise BackendError(f"{self.endpoint.where}, role task: the task has no steps")
        return Task(
            goal=value["goal"].strip(),
            subtasks=subtasks,
            difficulty=difficulty,
            rubric=[r.strip() for r in value["rubric"] if r.strip()],
        )
