"""The dialogue engine: an explicit state machine over a `Session`.

Whose turn it is follows from the transcript alone (`next_role`). `propose()`
asks the role whose turn it is for the next message without changing the
session; `commit()` appends it; `step()` does both; `run()` steps until the
dialogue finishes, pauses or hits a limit. Consumers (the TUI, the batch
runner, the CLI) subscribe to typed events. Persistence is left to a recorder
(the journal) that the engine calls after every change, once per commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from turnloom.core.engine.events import (
    DialogueFinished,
    EngineEvent,
    EngineFailed,
    MessageCommitted,
    Proposal,
    ProposalDelta,
    ProposalReady,
    ProposalStarted,
    RuleChecker,
    SessionRecorder,
    TaskAdded,
    Truncated,
)
from turnloom.core.engine.turns import next_role, pending_calls, stop_reason
from turnloom.core.errors import TurnloomError
from turnloom.core.models import (
    ChatMessage,
    FinishReason,
    MessageMeta,
    Provenance,
    Role,
    Session,
    Task,
    ToolCall,
    WriteRecord,
)
from turnloom.core.players.roles import RoleContext, RoleSet
from turnloom.core.tools.environment import ToolEnvironment

__all__ = [
    "DialogueEngine",
    "DialogueFinished",
    "DialogueFinishedError",
    "EngineEvent",
    "EngineFailed",
    "MessageCommitted",
    "Proposal",
    "ProposalDelta",
    "ProposalReady",
    "ProposalStarted",
    "RuleChecker",
    "SessionRecorder",
    "StaleProposalError",
    "TaskAdded",
    "Truncated",
    "next_role",
    "pending_calls",
]


class StaleProposalError(TurnloomError):
    """A proposal was committed after the transcript changed under it."""


class DialogueFinishedError(TurnloomError):
    """A step was asked of a dialogue that has finished."""


class DialogueEngine:
    """Drives one session: propose, commit, step, run, override, edit, fork."""

    def __init__(
        self,
        session: Session,
        roles: RoleSet,
        environment: ToolEnvironment,
        recorder: SessionRecorder | None = None,
        rule_checker: RuleChecker | None = None,
        watched: bool = True,
    ) -> None:
        self.session = session
        # someone follows this dialogue live (a UI, a console): roles stream their text as
        # `ProposalDelta` events and `run` yields to the event loop after every step. A
        # batch turns it off: LLM players ask for whole replies (cheaper to read), and a
        # dialogue does not go to the back of a queue of hundreds after each message
        self.watched = watched
        self.rule_checker = rule_checker
        self.roles = roles
        self.environment = environment
        self.recorder = recorder
        self._listeners: list[Callable[[EngineEvent], None]] = []
        self._dirty_environment = False  # an uncommitted tool write was executed
        self._pause_requested = False
        # a user turn auto-run held back under the "pause" violation policy
        self.pending_violation: Proposal | None = None
        self._salt = 0  # varies the roles' draws when a turn is proposed again

    # ------------------------------------------------------------ events

    def subscribe(self, listener: Callable[[EngineEvent], None]) -> Callable[[], None]:
        """Call `listener` with every event; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: EngineEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # ------------------------------------------------------------ state

    @property
    def finished(self) -> bool:
        return self.session.finish_reason is not None

    def next_role(self) -> Role:
        return next_role(self.session.messages)

    def context(self, role: Role, next_task=None) -> RoleContext:
        def stream(text: str) -> None:
            self._emit(ProposalDelta(role, text))

        return RoleContext(
            session=self.session,
            environment=self.environment,
            stream=stream if self.watched else None,
            next_task=next_task,
            salt=self._salt,
            restart_stream=lambda: self._emit(ProposalStarted(role)),
        )

    # ------------------------------------------------------------ propose / commit

    async def propose(self) -> Proposal:
        """The next message from the role whose turn it is; the session is not changed.

        Raises:
            DialogueFinishedError: the dialogue has finished (see `resume`).
        """
        if self.finished:
            raise DialogueFinishedError(f"the dialogue has finished ({self.session.finish_reason}); resume it to go on")
        if self._dirty_environment:
            self.environment.reset_to(self.session)
            self._dirty_environment = False
        role = self.next_role()
        self._emit(ProposalStarted(role))
        try:
            proposal = await self._propose_for(role)
        except asyncio.CancelledError:
            raise
        except TurnloomError as exc:
            self._emit(EngineFailed(role, str(exc)))
            raise
        self._emit(ProposalReady(proposal))
        return proposal

    async def _propose_for(self, role: Role) -> Proposal:
        base = len(self.session.messages)
        if role is Role.USER:
            tasks_view = list(self.session.tasks)
            new_tasks: list[Task] = []

            async def next_task() -> Task | None:
                index = len(tasks_view)
                if index >= self.session.config.tasks:
                    return None
                task = await self.roles.tasks.generate(ctx, index)
                task = task.model_copy(update={"introduced_at": base})
                tasks_view.append(task)
                new_tasks.append(task)
                return task

            ctx = self.context(role, next_task)
            ctx.tasks = tasks_view
            try:
                if not tasks_view and self.session.config.tasks > 0:
                    await next_task()
                message = await self.roles.user.propose(ctx)
            finally:
                ctx.next_task = None  # it refers to ctx: without this the pair waits for a full collection
            if self.rule_checker is not None:
                message.meta.verdicts = self.rule_checker(self.session, message)
            return Proposal(role, message, base, tasks=new_tasks)
        if role is Role.ASSISTANT:
            message = await self.roles.assistant.propose(self.context(role), self.session.active_tools())
            return Proposal(role, message, base)
        call = pending_calls(self.session.messages)[0]
        spec = self.session.tool(call.name)
        if spec is not None and call.name in self.session.disabled_tools:
            spec = None
        result = await self.environment.execute(self.context(role), spec, call)
        if result.write is not None:
            self._dirty_environment = True
        message = ChatMessage(
            role=Role.TOOL,
            content=result.content,
            tool_call_id=call.id,
            name=call.name,
            meta=MessageMeta(
                producer="tool",
                backend=self.environment.backend_name,
                task_index=self._current_task_index(),
                tool_error=result.is_error,
            ),
        )
        return Proposal(role, message, base, write=result.write)

    def _current_task_index(self) -> int | None:
        for message in reversed(self.session.messages):
            if message.meta.task_index is not None:
                return message.meta.task_index
        return None

    async def commit(self, proposal: Proposal, edited_text: str | None = None) -> ChatMessage:
        """Append `proposal` (optionally with the operator's text in place of its own).

        Raises:
            StaleProposalError: the transcript changed since the proposal was made.
        """
        if proposal.base_length != len(self.session.messages):
            raise StaleProposalError("the transcript changed since this proposal was made; propose again")
        message = proposal.message
        if edited_text is not None and edited_text != message.content:
            meta = message.meta.model_copy(update={"provenance": Provenance.OPERATOR, "producer": "operator"})
            message = message.model_copy(update={"content": edited_text, "meta": meta})
        record = None
        if proposal.write is not None:
            record = WriteRecord(
                message_index=len(self.session.messages),
                tool_call_id=message.tool_call_id or "",
                tool=message.name or "",
                sql=proposal.write.sql,
                params=proposal.write.params,
                rowcount=proposal.write.rowcount,
                lastrowid=proposal.write.lastrowid,
            )
            self._dirty_environment = False
        self._append(message, proposal.tasks, record, recheck=message is not proposal.message)
        return message

    def _append(
        self,
        message: ChatMessage,
        tasks: Sequence[Task] = (),
        write: WriteRecord | None = None,
        recheck: bool = False,
    ) -> None:
        """Commit `message` with the tasks it introduces, the write it made and the finish it brings.

        The recorder gets the whole commit as one record: a crash between separate records
        left a tool result without its write (a resumed dialogue read the database as it
        was before), a task without the turn that introduced it, or a closing turn without
        its finish; each made the resumed dialogue differ from an uninterrupted one.

        Args:
            recheck: check a user turn against the rules again (the operator wrote or
                changed its text), once its tasks are in.
        """
        session = self.session
        first_task = len(session.tasks)
        session.tasks.extend(tasks)
        if recheck:
            self._recheck(message)
        self.pending_violation = None  # a held-back proposal is stale once the transcript moves
        session.messages.append(message)
        if message.meta.usage is not None:
            session.usage = session.usage + message.meta.usage
        index = len(session.messages) - 1
        if write is not None:
            session.write_log.append(write)
        reason = stop_reason(session)
        if reason is not None:
            session.finish_reason = reason
        if self.recorder:
            self.recorder.record_message(index, message, tasks=tasks, write=write, finish=reason)
        for number, task in enumerate(tasks, start=first_task):
            self._emit(TaskAdded(number, task))
        self._emit(MessageCommitted(index, message))
        if reason is not None:
            self._emit(DialogueFinished(reason))

    async def step(self, apply_policy: bool = False) -> ChatMessage | None:
        """Propose and commit one message; None if the dialogue has finished.

        Args:
            apply_policy: apply the config's rule-violation policy to a user turn
                (auto-run does; a single manual step shows the violation instead).
        """
        if self.finished:
            return None
        proposal = await self.propose()
        if apply_policy and proposal.message.meta.violations:
            config = self.session.config
            if config.violation_policy == "regenerate":
                for attempt in range(config.violation_retries):
                    retry = await self.propose_again(attempt + 1)
                    if not retry.message.meta.violations:
                        proposal = retry
                        break
            elif config.violation_policy == "pause":
                self.hold(proposal)
                self.pause()
                return None
        return await self.commit(proposal)

    def hold(self, proposal: Proposal) -> None:
        """Hold `proposal` back for the operator to commit, override or draw again (`pending_violation`).

        Anything that moves the transcript drops it.
        """
        self.pending_violation = proposal

    async def propose_again(self, attempt: int = 1) -> Proposal:
        """Another proposal for the same turn, drawn with a different salt.

        Args:
            attempt: varies the draw; the same attempt at the same point draws the same turn.
        """
        self._salt = attempt
        try:
            return await self.propose()
        finally:
            self._salt = 0

    async def run(self, max_steps: int | None = None) -> FinishReason | None:
        """Step until the dialogue finishes, `pause()` is called, or `max_steps` pass.

        Returns:
            The finish reason, or None when paused or out of steps first.
        """
        self._pause_requested = False
        steps = 0
        while not self.finished and not self._pause_requested:
            if max_steps is not None and steps >= max_steps:
                break
            try:
                await self.step(apply_policy=True)
            except TurnloomError as exc:
                if isinstance(exc, (StaleProposalError, DialogueFinishedError)):
                    raise
                self.finish(FinishReason.BACKEND_ERROR, detail=str(exc))
                self._emit(EngineFailed(None, str(exc)))
                break
            steps += 1
            if self.watched:  # let a UI repaint between messages during auto-run
                await asyncio.sleep(0)
        return self.session.finish_reason

    def pause(self) -> None:
        """Ask a running `run()` to stop after the message in flight."""
        self._pause_requested = True

    # ------------------------------------------------------------ operator actions

    async def commit_user_text(self, text: str) -> ChatMessage:
        """Commit the operator's own user turn in place of the simulator's.

        Raises:
            TurnloomError: when it is not the user's turn or the text is empty.
        """
        if self.next_role() is not Role.USER:
            raise TurnloomError(f"it is the {self.next_role()}'s turn, not the user's")
        if not text.strip():
            raise TurnloomError("an operator turn needs some text")
        tasks: list[Task] = []
        if not self.session.tasks and self.session.config.tasks > 0:
            # the operator may open the dialogue; the hidden task still exists for the simulator
            task = await self.roles.tasks.generate(self.context(Role.USER), 0)
            tasks.append(task.model_copy(update={"introduced_at": len(self.session.messages)}))
        message = ChatMessage(
            role=Role.USER,
            content=text,
            meta=MessageMeta(
                provenance=Provenance.OPERATOR,
                producer="operator",
                task_index=self._current_task_index() if self.session.messages else 0,
            ),
        )
        if self.finished:
            self.resume()
        self._append(message, tasks, recheck=True)
        return message

    def truncate(self, at: int) -> None:
        """Drop messages from index `at` on, with their writes and later tasks."""
        session = self.session
        if at < 0 or at > len(session.messages):
            raise TurnloomError(f"no message {at}; the transcript has {len(session.messages)}")
        session.cut(at)
        self.pending_violation = None
        self.environment.reset_to(session)
        self._dirty_environment = False
        if self.recorder:
            self.recorder.record_truncate(at)
            self.recorder.record_finish(None)
        self._emit(Truncated(at))

    def edit(self, index: int, text: str, tool_calls: list[ToolCall] | None = None) -> ChatMessage:
        """Replace the text of message `index` (and an assistant turn's tool calls); later messages are dropped.

        Args:
            tool_calls: an assistant turn's calls as edited (the tools run again with these
                arguments at the next step); None turns an assistant turn with calls into text.

        Raises:
            TurnloomError: for tool results, or a message that would become invalid.
        """
        original = self.session.messages[index]
        if original.role is Role.TOOL:
            raise TurnloomError("tool results come from the environment and cannot be edited")
        if tool_calls and original.role is not Role.ASSISTANT:
            raise TurnloomError("only an assistant turn makes tool calls")
        meta = original.meta.model_copy(update={"provenance": Provenance.EDITED})
        try:
            update: dict[str, object] = {"content": text, "meta": meta}
            if tool_calls:
                update["tool_calls"] = list(tool_calls)
            edited = original.model_copy(update=update)
            ChatMessage.model_validate(edited.model_dump())
        except ValueError as exc:
            raise TurnloomError(f"the edited message is not valid: {exc}") from exc
        if original.role is Role.ASSISTANT and original.tool_calls and not tool_calls:
            # keep the calls only if they are still answered: they are not, since later
            # messages go; an edited assistant turn becomes plain text
            edited = edited.model_copy(update={"tool_calls": []})
            if not text.strip():
                raise TurnloomError("an assistant message needs text or tool calls")
        self.truncate(index)
        self._append(edited, recheck=True)
        return edited

    def _recheck(self, message: ChatMessage) -> None:
        """Check a user turn whose text the operator changed against the rules, in place of the old verdicts."""
        if message.role is Role.USER and self.rule_checker is not None:
            message.meta.verdicts = self.rule_checker(self.session, message)

    async def regenerate(self, index: int) -> ChatMessage | None:
        """Drop message `index` and everything after it, then step once."""
        self.truncate(index)
        return await self.step()

    def finish(self, reason: FinishReason, detail: str | None = None) -> None:
        """End the dialogue for `reason`; `detail` says why in words (kept in the session file).

        Args:
            reason: why it stopped.
            detail: what happened, for a reason that does not say it (a backend error's cause).
        """
        self.session.finish_reason = reason
        self.session.finish_detail = detail
        if self.recorder:
            self.recorder.record_finish(reason, detail)
        self._emit(DialogueFinished(reason))

    def resume(self, extra_tasks: int = 0, extra_messages: int = 0) -> None:
        """Clear a finish or pause reason so the dialogue can go on, optionally with more room."""
        self.session.config.tasks += extra_tasks
        self.session.config.max_messages += extra_messages
        self.session.finish_reason = None
        self.session.finish_detail = None
        if self.recorder:
            self.recorder.record_finish(None)
