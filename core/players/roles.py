"""The roles a backend plays, as protocols, and the context they are called with.

A backend (offline, or an OpenAI-compatible endpoint) provides one object per
role. The engine calls them; they never mutate the session. What a role may see
is its own business: the assistant must read only the visible conversation,
while the user simulator also sees the hidden tasks.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from turnloom.core.errors import ConfigError
from turnloom.core.models import ChatMessage, Session, Task, ToolCall, ToolSpec

if TYPE_CHECKING:
    from turnloom.core.endpoint.structured import Spend
    from turnloom.core.tools.environment import ToolEnvironment

# called with each streamed text fragment while a role is generating
StreamFn = Callable[[str], None]


def role_rng(session: Session, role: str, salt: object = "") -> random.Random:
    """A generator seeded from the session seed, the role and the transcript length.

    Seeding by position (not by call count) makes a fork at N regenerated with the
    same seed reproduce the original suffix.
    """
    return random.Random(f"{session.config.seed}:{role}:{len(session.messages)}:{salt}")


@dataclass
class RoleContext:
    """What a role is called with."""

    session: Session
    environment: ToolEnvironment
    stream: StreamFn | None = None
    # the user simulator calls this to obtain the next task when the current one is done;
    # it returns None when the session has all the tasks it was asked for
    next_task: Callable[[], Awaitable[Task | None]] | None = None
    # the tasks as the user simulator should see them (the session's, plus any
    # introduced by the proposal being made); None means the session's own
    tasks: list[Task] | None = None
    # called when a role starts its reply over (a retried stream, a re-ask), so
    # consumers drop the text streamed so far
    restart_stream: Callable[[], None] | None = None
    # non-zero when a turn is proposed again (regenerate): varies the draws
    salt: int = 0
    # what the task generator spent on tasks introduced during this proposal (the user turn carries it)
    task_spend: list[Spend] = field(default_factory=list)

    def task_list(self) -> list[Task]:
        return self.session.tasks if self.tasks is None else self.tasks

    def rng(self, role: str, salt: object = "") -> random.Random:
        return role_rng(self.session, role, f"{salt}~{self.salt}" if self.salt else salt)


class TaskGenerator(Protocol):
    async def generate(self, ctx: RoleContext, index: int) -> Task:
        """Write task number `index`, grounded in the environment's current state."""
        ...


class UserSimulator(Protocol):
    async def propose(self, ctx: RoleContext) -> ChatMessage:
        """The next user message, with meta (task index, subtasks, completion flags)."""
        ...


class Assistant(Protocol):
    async def propose(self, ctx: RoleContext, tools: list[ToolSpec]) -> ChatMessage:
        """The next assistant message: text, or tool calls, from the visible conversation."""
        ...


class ToolSimulator(Protocol):
    async def simulate(self, ctx: RoleContext, spec: ToolSpec, call: ToolCall) -> str:
        """A JSON result for `call` that fits `spec.output_schema`."""
        ...


class UnplayableRole:
    """Stands in for any role whose backend cannot be built (a profile missing from the config).

    The session still opens; each turn of the role fails with `reason`, which says what to do.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def generate(self, ctx: RoleContext, index: int) -> Task:
        raise ConfigError(self.reason)

    async def propose(self, ctx: RoleContext, tools: list[ToolSpec] | None = None) -> ChatMessage:
        raise ConfigError(self.reason)

    async def simulate(self, ctx: RoleContext, spec: ToolSpec, call: ToolCall) -> str:
        raise ConfigError(self.reason)


@dataclass
class RoleSet:
    """The role players a dialogue uses; each may come from a different backend."""

    tasks: TaskGenerator
    user: UserSimulator
    assistant: Assistant
    tool: ToolSimulator | None = None
    describe: dict[str, str] = field(default_factory=dict)  # role -> "offline" / profile name
