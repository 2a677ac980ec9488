"""The status line: state, domain, task k/n with subtask progress, counts, rule violations, settings, backends."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from turnloom.core.models import Role, Session


def task_progress(session: Session) -> tuple[int, int, int, int]:
    """(current task number, tasks planned, subtasks asked so far, subtasks of the current task)."""
    current = None
    for message in reversed(session.messages):
        if message.role is Role.USER and message.meta.task_index is not None:
            current = message.meta.task_index
            break
    planned = max(session.config.tasks, len(session.tasks))
    if current is None or current >= len(session.tasks):
        return (0, planned, 0, 0)
    asked: set[int] = set()
    for message in session.messages[session.tasks[current].introduced_at :]:
        if message.role is Role.USER and message.meta.task_index == current:
            asked.update(message.meta.subtasks)
    return (current + 1, planned, len(asked), len(session.tasks[current].subtasks))


def backend_label(backends: dict[str, str]) -> str:
    """Each role's backend, grouped: `offline`, `all roles: fake` or `fake: task,user · offline: tool`."""
    groups: dict[str, list[str]] = {}
    for role, backend in backends.items():
        groups.setdefault(backend, []).append(role)
    if len(groups) <= 1:
        only = next(iter(groups), "offline")
        return only if only == "offline" else f"all roles: {only}"
    return " · ".join(f"{backend}: {','.join(roles)}" for backend, roles in groups.items())


def _joined(parts: list[str], of: int) -> str:
    """`parts` as the status line shows them after the state; `…` stands for the `of - len(parts)` left out."""
    return "  " + " · ".join(parts) + (" · …" if len(parts) < of else "")


class StatusLine(Static):
    """One line about the session; the screen calls `show` after every change."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # (session id, messages counted, tool steps, rule violations, id of the last message counted)
        self._counted: tuple[str, int, int, int, int] = ("", 0, 0, 0, 0)
        self._shown: tuple[str, list[str]] = ("", [])  # the state and the parts last shown

    def _counts(self, session: Session) -> tuple[int, int]:
        """(tool-calling assistant messages, rule violations), counted incrementally as the transcript grows."""
        session_id, counted, steps, violations, last = self._counted
        messages = session.messages
        if session_id != session.id or counted > len(messages) or (counted and id(messages[counted - 1]) != last):
            counted, steps, violations = 0, 0, 0  # truncated or edited: count again
        for message in messages[counted:]:
            if message.role is Role.ASSISTANT and message.tool_calls:
                steps += 1
            elif message.meta.verdicts:
                violations += len(message.meta.violations)
        self._counted = (session.id, len(messages), steps, violations, id(messages[-1]) if messages else 0)
        return steps, violations

    def show(self, session: Session, backends: dict[str, str], state: str) -> None:
        task, planned, asked, subtasks = task_progress(session)
        steps, violations = self._counts(session)
        config = session.config
        reason = str(session.finish_reason) if session.finish_reason else state
        # counts before the settings, so an 80-column terminal still shows them
        parts = [
            session.domain,
            f"task {task}/{planned}" + (f" ({asked}/{subtasks} subtasks)" if subtasks else ""),
            f"{len(session.messages)} msg{'' if len(session.messages) == 1 else 's'}",
            f"{steps} tool steps",
            f"{violations} violation{'' if violations == 1 else 's'}",
        ]
        if session.usage.total or any(name != "offline" for name in backends.values()):
            parts.append(f"{session.usage.total} tok")  # offline roles spend none
        parts += [
            str(config.mode),
            str(config.execution),
            backend_label(backends),
        ]
        self._shown = (reason, parts)
        self._draw()

    def _draw(self) -> None:
        """The line at the current width: the parts that fit, each whole, then `…` for those left out."""
        reason, parts = self._shown
        # the state first: it is what the curator looks for, and it survives a narrow terminal
        line = Text(f" {reason} ", style="reverse")
        room = self.content_region.width or self.app.size.width - 2
        kept = list(parts)
        while kept and len(line) + len(_joined(kept, len(parts))) > room:
            kept.pop()
        line.append(_joined(kept, len(parts)))
        self.update(line, layout=False)  # one line, always: no need to lay out the screen again

    def on_resize(self) -> None:
        if self._shown[1]:
            self._draw()
