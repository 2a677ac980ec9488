"""The rubric judge: is a task's part of a dialogue valid under the method's validation policy?

`RubricJudge.judge(session, task_index)` shows the judge the task, its rubric
and the part of the transcript that belongs to it, and returns
`{"judgment": "valid"|"invalid", "reasoning"}` as a `Judgment`. The policy
(Critical / Structural / NonCritical / InvalidRubric) is in `judge.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.endpoint.exchange import ChatRequest
from turnloom.core.endpoint.structured import Spend, ask_json
from turnloom.core.errors import UsageError
from turnloom.core.models import Role, Session
from turnloom.core.players.llm.user import seed_for
from turnloom.core.prompts import json_repair, render

JUDGMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"judgment": {"type": "string", "enum": ["valid", "invalid"]}, "reasoning": {"type": "string"}},
    "required": ["judgment", "reasoning"],
    "additionalProperties": False,
}


@dataclass
class Judgment:
    """The judge's verdict on one task."""

    task_index: int
    valid: bool
    reasoning: str
    spend: Spend


def task_transcript(session: Session, task_index: int) -> str:
    """The messages from the task's introduction up to the next task's, one line each."""
    start = session.tasks[task_index].introduced_at
    end = session.tasks[task_index + 1].introduced_at if task_index + 1 < len(session.tasks) else len(session.messages)
    lines = []
    # the message at `end` closes this task as it opens the next, so it belongs to both
    for index, message in enumerate(session.messages[start : end + 1], start=start):
        if message.role is Role.ASSISTANT:
            if message.text.strip():
                lines.append(f"[{index}] assistant: {message.text}")
            lines += [f"[{index}] assistant calls {c.name}({c.arguments}) id={c.id}" for c in message.tool_calls]
        elif message.role is Role.TOOL:
            lines.append(f"[{index}] tool result for {message.tool_call_id}: {message.text}")
        else:
            lines.append(f"[{index}] {message.role.value}: {message.text}")
    return "\n".join(lines)


class RubricJudge:
    """Validates tasks of a session against their rubrics."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def judge(self, session: Session, task_index: int) -> Judgment:
        """Judge task `task_index` of `session`.

        Raises:
            UsageError: no such task. BackendError: the endpoint failed.
        """
        if not 0 <= task_index < len(session.tasks):
            raise UsageError(f"task {task_index} does not exist; the session has {len(session.tasks)} tasks")
        task = session.tasks[task_index]
        prompt = render(
            "judge_request.md",
            goal=task.goal,
            difficulty=task.difficulty.value,
            rubric="\n".join(f"- {r}" for r in task.rubric) or "- (no rubric: judge against the task itself)",
            transcript=task_transcript(session, task_index),
        )
        request = ChatRequest(
            role="judge",
            messages=[{"role": "system", "content": render("judge.md")}, {"role": "user", "content": prompt}],
            schema=JUDGMENT_SCHEMA,
            schema_name="judgment",
            seed=seed_for(session, f"judge{task_index}"),
        )
        reply = await ask_json(self.endpoint, request, repair=json_repair)
        return Judgment(task_index, reply.value["judgment"] == "valid", reply.value["reasoning"], reply.spend)
