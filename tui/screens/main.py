"""The workbench screen: Conversation, Tools and Rules panes over one session, and the status line.

This screen owns the current `LiveSession` (core's lifecycle object) and runs every generation in an exclusive
worker of the "engine" group, so the UI never waits on a backend. Engine events arrive
on the event loop (the engine runs in the app's loop) and are turned into pane updates
here; the panes only show what they are given. Session-level flows (new, open, fork,
replay, export) live in `session_flows`, the rule preview in `rule_preview_flow`, and a
user turn held back for breaking a rule in `held_proposal`.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from turnloom.core.engine.engine import (
    DialogueFinished,
    EngineEvent,
    EngineFailed,
    MessageCommitted,
    ProposalDelta,
    ProposalReady,
    ProposalStarted,
    TaskAdded,
    Truncated,
)
from turnloom.core.errors import TurnloomError
from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.models import ChatMessage, Role
from turnloom.core.quality.verdict import failed_checks, verdict_for
from turnloom.tui.actions import ACTIONS, bindings_for, effective_key
from turnloom.tui.rule_sources import available_rules
from turnloom.tui.screens.dialogs import confirm
from turnloom.tui.screens.editor import EditorScreen
from turnloom.tui.screens.held_proposal import HeldProposalFlow
from turnloom.tui.screens.regenerate_compare import RegenerateCompareScreen
from turnloom.tui.screens.rule_preview_flow import RulePreviewFlow
from turnloom.tui.screens.session_flows import SessionFlows
from turnloom.tui.widgets.key_footer import KeyFooter
from turnloom.tui.widgets.rule_preview import RulePreview
from turnloom.tui.widgets.rules_pane import RulesPane
from turnloom.tui.widgets.status_line import StatusLine
from turnloom.tui.widgets.tools_pane import ToolsPane
from turnloom.tui.widgets.transcript import Transcript

ENGINE = "engine"


class MainScreen(SessionFlows, RulePreviewFlow, HeldProposalFlow, Screen):
    """The curator's workbench."""

    BINDINGS = bindings_for("main")
    ACTION_SCOPE = "main"

    # `var`, not `reactive`: a change must not repaint the whole screen, only the status line
    auto_running: var[bool] = var(False)
    state: var[str] = var("ready")

    def __init__(self, workbench: LiveSession, auto_run_delay: float = 0.02) -> None:
        super().__init__()
        self.bench = workbench
        self.auto_run_delay = auto_run_delay
        self._unsubscribe: Callable[[], None] | None = None
        self._stream = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="conversation-pane") as pane:
                pane.border_title = "Conversation"
                yield Transcript(id="transcript")
                yield RulePreview(id="rule-preview")
            with Vertical(id="side"):
                tools = ToolsPane(id="tools")
                tools.border_title = "Tools"
                yield tools
                rules = RulesPane(id="rules")
                rules.border_title = "Rules"
                yield rules
        yield StatusLine(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.transcript.empty_hint = self._empty_hint()
        self.attach(self.bench)
        self.transcript.focus()

    def _empty_hint(self) -> str:
        """What an empty Conversation pane says, with the keys as the config maps them."""
        key = {spec.id: self._key(spec.id) for spec in ACTIONS}
        return (
            f"No messages yet. Press {key['step']} to step one message, {key['auto_run']} to auto-run, "
            f"{key['override']} to write the first user turn yourself, {key['help_alt']} or {key['help']} for help."
        )

    async def on_unmount(self) -> None:
        await self.bench.close_backends()  # on the loop that opened the endpoints' clients

    # ------------------------------------------------------------ attaching a session

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    def attach(self, bench: LiveSession) -> None:
        """Show `bench` (closing the previous workbench if it is another one)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        switching = bench is not self.bench
        if switching:
            self.workers.cancel_group(self, ENGINE)
            self.bench.close()
            self.run_worker(self.bench.close_backends(), group="close", exit_on_error=False)
        self.bench = bench
        self._unsubscribe = bench.engine.subscribe(self._on_engine_event)
        session = bench.session
        self.transcript.load(session.messages)
        self._show_verdict()
        self.query_one(ToolsPane).show_tools(session)
        rules, errors = available_rules()
        self.query_one(RulesPane).show_rules(session.config.rules, rules, errors)
        self.reset_rule_baseline()
        self.state = "ready"
        self.call_after_refresh(self._settle_heap, switching)  # after the transcript has painted its lines
        for warning in bench.warnings:
            self.notify(warning, title="Opened with a notice", severity="warning", timeout=8)
        if session.finish_detail:
            self.notify(session.finish_detail, title=f"Stopped: {session.finish_reason}", severity="error", timeout=10)
        self.update_status()

    def _show_verdict(self) -> None:
        """Mark the messages a finished dialogue's failed checks point at, and say whether it is kept."""
        session = self.bench.session
        if session.finish_reason is None:
            self.transcript.set_quality({})
            return
        verdict = verdict_for(session)
        marks: dict[int, list[tuple[str, str]]] = {}
        for failure in verdict.failures:
            for index in failure.messages:
                marks.setdefault(index, []).append((failure.check, failure.reason))
        self.transcript.set_quality(marks)
        if not verdict.accepted:
            self.notify(
                f"rejected by {', '.join(failed_checks(verdict))}; marked messages (✗) show why",
                title="Quality verdict",
                severity="warning",
                timeout=8,
            )

    @staticmethod
    def _settle_heap(switched: bool) -> None:
        """Move the loaded session out of the collector's way.

        A big session is hundreds of thousands of long-lived objects; every full collection
        walks them all (100-300 ms with 2,000 messages), which shows up as a stalled frame
        while auto-running. Freezing them keeps full collections cheap. Switching sessions
        unfreezes and collects first so the old session can be freed; the first session
        is frozen as it is (a collection then would walk the whole heap, at the moment the
        first screen is being painted, to free little more than start-up leftovers).
        """
        if switched:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def update_status(self) -> None:
        state = "auto-running" if self.auto_running else self.state
        self.query_one(StatusLine).show(self.bench.session, self.bench.role_backends, state)

    def watch_auto_running(self) -> None:
        if self.is_mounted:
            self.update_status()

    def watch_state(self) -> None:
        if self.is_mounted:
            self.update_status()

    # ------------------------------------------------------------ engine events

    def _on_engine_event(self, event: EngineEvent) -> None:
        transcript = self.transcript
        if isinstance(event, MessageCommitted):
            transcript.append(event.index, event.message)
            self.query_one(ToolsPane).note_message(event.message)
            if event.message.role is Role.USER:
                self.reset_rule_baseline()  # the changed rules are in force now
            else:
                self.discard_preview()
            self.update_status()
        elif isinstance(event, ProposalStarted):  # also when a stream starts over
            self._stream = ""
            if transcript.pending is not None:
                transcript.set_pending(None)
            self.state = f"{event.role} thinking…"
        elif isinstance(event, ProposalDelta):
            self._stream += event.text
            placeholder = ChatMessage.model_construct(role=event.role, content=self._stream)
            transcript.stream_pending(placeholder, self._stream)
        elif isinstance(event, ProposalReady):
            transcript.set_pending(event.proposal.message)  # with its rule violations, until committed
            self.state = "proposed"
        elif isinstance(event, Truncated):
            self.discard_preview()
            transcript.truncate(event.at)
            transcript.set_quality({})  # the verdict judged the transcript before the cut
            self.query_one(ToolsPane).show_tools(self.bench.session)
            self.update_status()
        elif isinstance(event, (TaskAdded, DialogueFinished)):
            self.update_status()
            if isinstance(event, DialogueFinished):
                self._show_verdict()
        elif isinstance(event, EngineFailed):
            self.notify(event.error, title=f"{event.role or 'engine'} failed", severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != ENGINE:
            return
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"{type(error).__name__}: {error}",
                title="Generation failed; auto-run paused",
                severity="error",
                timeout=10,
            )
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED, WorkerState.SUCCESS):
            self.auto_running = False
            self.transcript.set_pending(None)
            self.state = "paused" if event.state is not WorkerState.SUCCESS else "ready"
            self.show_held()
            self.refresh_preview()

    def busy(self) -> bool:
        return any(w.group == ENGINE and w.is_running for w in self.workers)

    def _refuse_if_finished(self) -> bool:
        session = self.bench.session
        if session.finish_reason is not None:
            why = (
                f"{session.finish_reason}: {session.finish_detail}" if session.finish_detail else session.finish_reason
            )
            key = self._key("more_task")
            self.notify(
                f"The dialogue has finished ({why}). {key}: one more task · e/r: edit or regenerate · ctrl+z: undo",
                severity="warning",
            )
            return True
        return False

    # ------------------------------------------------------------ dialogue actions

    def action_step(self) -> None:
        if self.busy():
            self.notify("Busy generating; press escape to pause first", severity="warning")
        elif self.held is not None:
            self.commit_held_worker()  # the next message is the held one
        elif not self._refuse_if_finished():
            self.step_worker()

    @work(exclusive=True, group=ENGINE, exit_on_error=False)
    async def step_worker(self) -> None:
        await self.bench.step()

    def action_toggle_auto_run(self) -> None:
        if self.auto_running:
            self.bench.pause()
            self.auto_running = False
            self.state = "pausing…"
        elif self.held is not None:
            self.notify(
                "A user turn is held back for breaking a rule: c commit it, o override it, r draw another",
                severity="warning",
            )
        elif not self._refuse_if_finished():
            self.auto_run_worker()

    @work(exclusive=True, group=ENGINE, exit_on_error=False)
    async def auto_run_worker(self) -> None:
        bench = self.bench
        self.auto_running = True
        self.state = "auto-running"
        while self.auto_running and not bench.engine.finished:
            await bench.run(max_steps=1)
            if bench.held is not None:
                rules = ", ".join(v.rule_id for v in bench.held.message.meta.violations)
                self.notify(
                    f"The next user turn breaks {rules}; auto-run paused. c commit it · o override it · r draw another",
                    title="Held back",
                    severity="warning",
                    timeout=8,
                )
                break
            await asyncio.sleep(self.auto_run_delay)
        self.auto_running = False

    def action_pause(self) -> None:
        self.bench.pause()
        self.auto_running = False
        self.workers.cancel_group(self, ENGINE)
        self.transcript.set_pending(None)
        self.state = "paused"
        self.show_held()

    def action_override(self) -> None:
        engine = self.bench.engine
        if self.held is not None:
            self.override_held_worker()
        elif engine.finished and engine.next_role() is not Role.USER:
            self._refuse_if_finished()
        elif engine.next_role() is not Role.USER:
            self.notify(f"It is the {engine.next_role()}'s turn; step (n) until the user's turn", severity="warning")
        else:
            self.override_worker()

    @work(exclusive=True, group=ENGINE, exit_on_error=False)
    async def override_worker(self) -> None:
        bench = self.bench
        proposal = None
        if not bench.engine.finished:
            proposal = await bench.propose()
            self.transcript.set_pending(proposal.message)
        hint = "The simulator's proposal; change it and commit as your own user turn."
        text = await self.app.push_screen_wait(
            EditorScreen("Override user turn", proposal.message.text if proposal else "", hint)
        )
        self.transcript.set_pending(None)
        if text is None:
            return
        if proposal is not None:
            await bench.commit(proposal, edited_text=text)
        else:
            await bench.commit_user_text(text)

    def action_more_task(self) -> None:
        if self.busy():
            self.notify("Busy generating; press escape to pause first", severity="warning")
            return
        self.bench.add_task()
        self.update_status()
        self.notify(
            f"One more task ({self.bench.session.config.tasks} in all); step ({self._key('step')}) or auto-run to go on",
            timeout=4,
        )

    def _key(self, action_id: str) -> str:
        """The key `action_id` answers to, as the config maps it."""
        keymap = dict(self.app.key_remaps)  # type: ignore[attr-defined]  # a TurnloomApp: the checked remaps
        spec = next(spec for spec in ACTIONS if spec.id == action_id)
        return effective_key(spec, keymap).replace("question_mark", "?")

    def action_edit(self) -> None:
        index = self.transcript.selected_or_last()
        if index is None:
            self.notify("No message to edit yet", severity="warning")
        elif self.bench.session.messages[index].role is Role.TOOL:
            self.notify(
                "Tool results come from the database and cannot be edited; regenerate instead", severity="warning"
            )
        else:
            self.edit_worker(index)

    @work(exclusive=True, group=ENGINE, exit_on_error=False)
    async def edit_worker(self, index: int) -> None:
        session = self.bench.session
        original = session.messages[index]
        draft = start = self.bench.editable_text(index)
        hint = (
            "Edit the text and the tool calls (name, arguments); the tools run again with them when you step on."
            if original.tool_calls
            else ""
        )
        later = len(session.messages) - index - 1
        asked = False
        while True:
            text = await self.app.push_screen_wait(EditorScreen(f"Edit message {index} ({original.role})", draft, hint))
            if text is None or text == start:
                return
            draft = text
            if later and not asked:
                question = confirm(
                    "Edit message",
                    f"Editing message {index} drops the {later} message(s) after it (kept as a branch: "
                    "ctrl+z brings them back) and rebuilds the database to that point.",
                    yes="Edit",
                )
                if await self.app.push_screen_wait(question) != "yes":
                    return
                asked = True
            try:
                self.bench.edit(index, text)
            except TurnloomError as exc:
                self.notify(f"Not committed: {exc}", severity="error", timeout=8)
                continue  # back to the editor with the text as written: nothing typed is lost
            self.transcript.select(index)
            return

    def action_regenerate(self) -> None:
        index = self.transcript.selected_or_last()
        if self.held is not None:
            self.regenerate_held_worker()
        elif index is None:
            self.notify("No message to regenerate yet", severity="warning")
        else:
            self.regenerate_worker(index)

    @work(exclusive=True, group=ENGINE, exit_on_error=False)
    async def regenerate_worker(self, index: int) -> None:
        """Draw message `index` again and show both before committing; the old messages stay a branch."""
        bench = self.bench
        old = bench.session.messages[index]
        later = len(bench.session.messages) - index - 1
        while True:
            proposal = await bench.propose_regeneration(index)
            self.transcript.set_pending(None)
            choice = await self.app.push_screen_wait(RegenerateCompareScreen(index, old, proposal.message, later))
            if choice == "new":
                await bench.commit(proposal)
                self.notify(f"Message {index} regenerated; ctrl+z goes back to the old one", timeout=4)
                return
            bench.undo()
            self.reload_transcript()
            if choice != "again":
                return

    def action_truncate(self) -> None:
        index = self.transcript.selected_or_last()
        if self.busy():
            self.notify("Busy generating; press escape to pause first", severity="warning")
        elif index is None:
            self.notify("No message to cut yet", severity="warning")
        else:
            self.truncate_worker(index)

    @work(exclusive=True, group=ENGINE, exit_on_error=False)
    async def truncate_worker(self, index: int) -> None:
        """Cut the transcript before message `index`, once the curator confirms; the cut stays a branch."""
        count = len(self.bench.session.messages) - index
        question = confirm(
            "Cut here",
            f"Drop message {index} and the {count - 1} message(s) after it? They are kept as a branch "
            "(ctrl+z brings them back) and the database is rebuilt to that point.",
            yes="Cut",
        )
        if await self.app.push_screen_wait(question) != "yes":
            return
        self.bench.truncate(index)
        self.notify(f"Cut {count} message(s) from message {index}; ctrl+z brings them back", timeout=4)

    def action_undo(self) -> None:
        if self.busy():
            self.notify("Busy generating; press escape to pause first", severity="warning")
            return
        branch = self.bench.undo()
        if branch is None:
            self.notify("Nothing to undo: no edit, regenerate, override or cut yet", severity="information")
            return
        self.reload_transcript()
        what = f"{len(branch.messages)} message(s) back" if branch.action != "override" else "the override removed"
        self.notify(
            f"Undid the {branch.action} at message {branch.at}: {what}; what replaced it is kept as a branch",
            timeout=4,
        )

    def reload_transcript(self) -> None:
        """Show the session again after the transcript changed outside the engine's events (undo)."""
        self.transcript.load(self.bench.session.messages)
        self.transcript.set_quality({})
        self.query_one(ToolsPane).show_tools(self.bench.session)
        self._show_verdict()
        self.update_status()

    def action_expand(self) -> None:
        index = self.transcript.selected_or_last()
        if index is not None:
            self.transcript.toggle_expanded(index)

    # ------------------------------------------------------------ tools and rules

    def action_toggle_tool(self) -> None:
        tools = self.query_one(ToolsPane)
        name = tools.highlighted_tool
        if name is None:
            return
        enable = name in self.bench.session.disabled_tools
        self.bench.set_tool_enabled(name, enable)
        tools.show_tools(self.bench.session)
        self.notify(f"{name} {'enabled' if enable else 'disabled'} from the next assistant turn")

    @on(RulesPane.Changed)
    def _rule_changed(self, event: RulesPane.Changed) -> None:
        self.bench.set_rule(event.rule)
        state = "on" if event.rule.enabled else "off"
        self.notify(f"Rule {event.rule.id} {state}; applies from the next user turn", timeout=3)
        self.rules_changed()
