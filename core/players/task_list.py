"""Task lists: descriptive tasks as a file, written by the task stage and read in its place.

A task list is the task generator's artifact: `generate` writes `OUT/tasks.jsonl` with the
tasks of every finished dialogue, and `run --task-file FILE` / `generate --task-file FILE`
take their tasks from such a file instead of the task generator. Accepted shapes:

- JSONL, one task per line (what `generate` writes; its `seed` and `domain` fields are notes);
- `{"format": "turnloom-tasks", "format_version": 1, "tasks": [...]}` or a JSON array of tasks.

A task is `{"goal": str, "subtasks": [str | {"description": str, "intent"?: str, "slots"?: {}}],
"difficulty": "easy"|"medium"|"hard", "rubric": [str]}`; `difficulty` defaults to medium and
`rubric` to none. A subtask without an intent is one the offline players cannot serve
(`intent: "llm"`, as the LLM task generator writes them). Faults name the file, the line or
index and the field.

`PlannedTasks` is the `TaskGenerator` that hands a dialogue its planned tasks in order
(`GenerationConfig.planned_tasks`); when they run out the dialogue's task count ends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from turnloom.core.errors import UsageError
from turnloom.core.models import RoleName, Session, Task
from turnloom.core.players.roles import RoleContext, TaskGenerator
from turnloom.core.tools.artifact_files import read_artifact

TASKS_FORMAT: Final = "turnloom-tasks"
TASK_LIST_FILE = "tasks.jsonl"
NOTE_FIELDS = ("seed", "domain", "status")  # written beside a task for the reader; not part of it


def load_task_list(path: str | Path) -> list[Task]:
    """The tasks of a task-list file, in order.

    Raises:
        UsageError: missing or unreadable file, no task, or a malformed task (file, line or index, field).
    """
    file = Path(path)
    text = read_artifact(file, "--task-file", UsageError)
    tasks = [_task(file, where, raw) for where, raw in _entries(file, text)]
    if not tasks:
        raise UsageError(f"--task-file {file}: no task in it")
    return tasks


def _entries(file: Path, text: str) -> list[tuple[str, Any]]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            return [(f"tasks[{i}]", raw) for i, raw in enumerate(json.loads(stripped))]
        except json.JSONDecodeError as exc:
            raise UsageError(f"--task-file {file}: not JSON (line {exc.lineno}: {exc.msg})") from None
    if stripped.startswith("{") and "\n" in stripped:
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError:
            whole = None  # JSONL: one object per line
        if isinstance(whole, dict) and "tasks" in whole:
            if whole.get("format", TASKS_FORMAT) != TASKS_FORMAT:
                raise UsageError(f"--task-file {file}: field 'format' is {whole['format']!r}, not {TASKS_FORMAT!r}")
            if not isinstance(whole["tasks"], list):
                raise UsageError(f"--task-file {file}: field 'tasks' must be a list of tasks")
            return [(f"tasks[{i}]", raw) for i, raw in enumerate(whole["tasks"])]
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise UsageError(f"--task-file {file}: line {number} is not JSON ({exc.msg}, column {exc.colno})") from None
    return entries


def _task(file: Path, where: str, raw: Any) -> Task:
    if not isinstance(raw, dict):
        raise UsageError(f"--task-file {file}: {where}: a task must be a JSON object, not {type(raw).__name__}")
    data = {k: v for k, v in raw.items() if k not in NOTE_FIELDS}
    subtasks = data.get("subtasks")
    if isinstance(subtasks, list):
        data["subtasks"] = [
            {"description": s, "intent": "llm"}
            if isinstance(s, str)
            else {"intent": "llm", **s}
            if isinstance(s, dict)
            else s
            for s in subtasks
        ]
    try:
        task = Task.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "(task)"
        raise UsageError(f"--task-file {file}: {where}: field {field!r}: {error['msg']}") from None
    if not task.goal.strip():
        raise UsageError(f"--task-file {file}: {where}: field 'goal' is empty")
    if not task.subtasks or any(not s.description.strip() for s in task.subtasks):
        raise UsageError(f"--task-file {file}: {where}: field 'subtasks' needs at least one non-empty step")
    return task.model_copy(update={"introduced_at": 0, "template": task.template})


def tasks_for(tasks: list[Task], dialogue: int, per_dialogue: int) -> list[Task]:
    """The tasks of dialogue number `dialogue` (0-based) of a batch: the next `per_dialogue`, cycling the list."""
    if not tasks or per_dialogue <= 0:
        return []
    start = dialogue * per_dialogue
    return [tasks[(start + i) % len(tasks)] for i in range(per_dialogue)]


def task_record(seed: int, domain: str, task: dict[str, Any]) -> dict[str, Any]:
    """One line of a task list: the task as a file holds it, with its dialogue's seed and domain as notes."""
    kept = {k: v for k, v in task.items() if k != "introduced_at" and v is not None}
    return {"seed": seed, "domain": domain, **kept}


def save_batch_task_list(folder: Path) -> int:
    """Write `folder/tasks.jsonl`: the tasks of every dialogue in the batch folder, in seed order.

    Each session file is read as plain JSON (the task fields only), so a large batch pays
    little for it; TOML sessions are opened through `storage`. A file that cannot be read
    is left out (`stats` names it). Returns the number of tasks written.
    """
    from turnloom.core.storage.snapshot import load_session

    records: list[tuple[int, str]] = []
    for path in sorted(folder.glob("seed-*.session.*")):
        try:
            if path.name.endswith(".session.json"):
                data = json.loads(path.read_text(encoding="utf-8"))
                seed, domain, tasks = data["config"]["seed"], data["domain"], data["tasks"]
            elif path.name.endswith(".session.toml"):
                session = load_session(path)
                seed, domain = session.config.seed, session.domain
                tasks = [t.model_dump(mode="json") for t in session.tasks]
            else:
                continue
        except Exception:  # noqa: BLE001 - an unreadable file is `stats`'s to report, not a reason to fail the batch
            continue
        records += [(seed, json.dumps(task_record(seed, domain, task), ensure_ascii=False)) for task in tasks]
    records.sort(key=lambda record: record[0])
    target = folder / TASK_LIST_FILE
    temp = target.with_name(target.name + ".tmp")
    try:
        temp.write_text("".join(line + "\n" for _, line in records), encoding="utf-8")
        temp.replace(target)
    finally:
        temp.unlink(missing_ok=True)
    return len(records)


def offline_user_problem(tasks: list[Task], session: Session) -> str | None:
    """Why the offline user simulator cannot play these planned tasks in `session`, or None if it can.

    The offline simulator reveals a subtask through its domain intent; a subtask whose intent the
    domain lacks (`llm`, as one's own tasks and the LLM task generator's have) needs the user role
    on a profile. Checked before the first message, so the run stops with the task named.
    """
    if not tasks or session.config.roles.get(RoleName.USER, "offline") != "offline":
        return None
    from turnloom.core.players.offline.knowledge import knowledge_or_none

    knowledge = knowledge_or_none(session)
    known = {intent.name for intent in knowledge.pack.intents} if knowledge is not None else set()
    for number, task in enumerate(tasks, start=1):
        for step, subtask in enumerate(task.subtasks, start=1):
            if subtask.intent not in known:
                return (
                    f"task {number}, subtask {step}: intent {subtask.intent!r} is not one the offline user simulator "
                    f"of {session.domain!r} can play; map the user role to a profile (--role user=PROFILE), or give "
                    "intents of the domain (the tasks.jsonl `generate` writes has them)"
                )
    return None


class PlannedTasks:
    """A `TaskGenerator` that hands out a dialogue's planned tasks in order."""

    def __init__(self, planned: list[Task], fallback: TaskGenerator) -> None:
        self.planned = planned
        self.fallback = fallback

    async def generate(self, ctx: RoleContext, index: int) -> Task:
        if index < len(self.planned):
            return self.planned[index].model_copy(deep=True)
        return await self.fallback.generate(ctx, index)
