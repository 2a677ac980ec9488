"""What the engine tells its consumers, and what it asks of its recorder.

Events are small frozen dataclasses, one per thing that happened: a proposal
started, streamed, became ready; a message was committed; a task was added;
the transcript was cut; the dialogue finished or failed. The TUI, the CLI and
the batch runner subscribe to them; the journal is the engine's recorder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from turnloom.core.models import ChatMessage, FinishReason, Role, RuleVerdict, Session, Task, WriteRecord
from turnloom.core.tools.sqlenv import WriteEffect


@dataclass(frozen=True)
class ProposalStarted:
    role: Role


@dataclass(frozen=True)
class ProposalDelta:
    role: Role
    text: str


@dataclass(frozen=True)
class ProposalReady:
    proposal: Proposal


@dataclass(frozen=True)
class MessageCommitted:
    index: int
    message: ChatMessage


@dataclass(frozen=True)
class TaskAdded:
    index: int
    task: Task


@dataclass(frozen=True)
class Truncated:
    at: int


@dataclass(frozen=True)
class DialogueFinished:
    reason: FinishReason


@dataclass(frozen=True)
class EngineFailed:
    role: Role | None
    error: str


EngineEvent = (
    ProposalStarted
    | ProposalDelta
    | ProposalReady
    | MessageCommitted
    | TaskAdded
    | Truncated
    | DialogueFinished
    | EngineFailed
)


# checks a proposed user turn against the rules in force (see `rules.check`)
RuleChecker = Callable[[Session, ChatMessage], list[RuleVerdict]]


class SessionRecorder(Protocol):
    """Where committed changes go (the journal)."""

    def record_message(
        self,
        index: int,
        message: ChatMessage,
        *,
        tasks: Sequence[Task] = (),
        write: WriteRecord | None = None,
        finish: FinishReason | None = None,
    ) -> None:
        """Message `index` was committed with the tasks it introduced, the write it made and
        the finish it brought: one commit, to be kept whole or not at all."""
        ...

    def record_truncate(self, at: int) -> None: ...
    def record_finish(self, reason: FinishReason | None, detail: str | None = None) -> None: ...


@dataclass
class Proposal:
    """A message the engine could commit next, with what comes along with it."""

    role: Role
    message: ChatMessage
    base_length: int
    tasks: list[Task] = field(default_factory=list)
    write: WriteEffect | None = None
