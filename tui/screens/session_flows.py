"""Session-level flows of the workbench screen: new, open, save, fork, replay, export.

A mixin for `MainScreen`: each flow asks through a modal dialog, then swaps or writes the
workbench. A file that fails to load is shown in an error dialog and the current session
stays open.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from turnloom.core.errors import TurnloomError
from turnloom.core.export import export_sessions
from turnloom.core.lifecycle.live_session import LiveSession, default_path
from turnloom.core.storage.journal import open_session
from turnloom.core.storage.session_folder import file_name_part
from turnloom.tui.screens.dialogs import ErrorScreen
from turnloom.tui.screens.export import ExportScreen
from turnloom.tui.screens.new_session import NewSessionScreen, NewSessionSpec
from turnloom.tui.screens.open_session import OpenSessionScreen
from turnloom.tui.screens.replay import ReplayScreen

if TYPE_CHECKING:
    from textual.screen import Screen

    _Flows = Screen  # what the mixin is mixed into, as the type checker sees it
else:
    _Flows = object


class SessionFlows(_Flows):
    """New/open/save/fork/replay/export for a screen holding `bench` and `attach()`."""

    bench: LiveSession

    @property
    def sessions_dir(self) -> Path:
        return self.app.sessions_dir  # type: ignore[attr-defined]

    def action_save(self) -> None:
        try:
            path = self.bench.save()
        except TurnloomError as exc:
            self.app.push_screen(ErrorScreen("Save failed", str(exc)))
            return
        self.notify(f"Saved {path}", title="Saved", timeout=4)

    def action_fork(self) -> None:
        index = self.transcript.selected_or_last()  # type: ignore[attr-defined]
        at = 0 if index is None else index + 1
        parent = self.bench
        try:
            child = parent.fork(at)
        except TurnloomError as exc:
            self.app.push_screen(ErrorScreen("Fork failed", str(exc)))
            return
        self.attach(child)  # type: ignore[attr-defined]
        self.notify(
            f"Forked after message {at - 1} ({at} message(s) kept) into {child.path.name}; the parent is untouched"
            if at
            else f"Forked before the first message into {child.path.name}; the parent is untouched",
            title="Forked",
            timeout=6,
        )

    def action_new(self) -> None:
        from turnloom.core.domains import pack_names

        profiles = sorted(self.app.config.profiles)  # type: ignore[attr-defined]  # names only; keys stay in the environment
        self.app.push_screen(NewSessionScreen(pack_names(), profiles), self._create_session)

    def _create_session(self, spec: NewSessionSpec | None) -> None:
        if spec is None:
            return
        try:
            bench = LiveSession.new(
                self.sessions_dir,
                domain=spec.domain,
                db_path=spec.db_path,
                mode=spec.mode,
                execution=spec.execution,
                seed=spec.seed,
                tasks=spec.tasks,
                profile=spec.profile,
                config=self.app.config,  # type: ignore[attr-defined]
            )
        except (TurnloomError, OSError) as exc:
            self.app.push_screen(ErrorScreen("Cannot start the session", str(exc)))
            return
        self.attach(bench)  # type: ignore[attr-defined]
        self.notify(f"New {bench.session.domain} session (seed {spec.seed})", timeout=3)

    def action_open(self) -> None:
        self.app.push_screen(OpenSessionScreen(self.sessions_dir), self._open_file)

    def _open_file(self, path: Path | None) -> None:
        if path is None:
            return
        if path.is_dir():
            self.review_folder(path)
            return
        try:
            bench = LiveSession.open(path, config=self.app.config)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported, never fatal
            self.app.push_screen(ErrorScreen("Cannot open the session", f"{exc}"))
            return
        self.attach(bench)  # type: ignore[attr-defined]
        self.notify(f"Opened {path.name} ({len(bench.session.messages)} messages)", timeout=3)

    def review_folder(self, folder: Path) -> None:
        """Open the review list of a batch folder over the workbench (escape comes back)."""
        from turnloom.core.batch.manifest import MANIFEST_NAME, manifest_path

        if not manifest_path(folder).is_file():
            self.app.push_screen(
                ErrorScreen(
                    "Not a batch folder",
                    f"{folder} has no {MANIFEST_NAME}: give a session file (*.session.json or *.session.toml), "
                    "or a folder made by `turnloom generate --out DIR` to review it.",
                )
            )
            return
        self.app.open_review(folder)  # type: ignore[attr-defined]  # a TurnloomApp

    def action_replay(self) -> None:
        self.app.push_screen(
            OpenSessionScreen(self.sessions_dir, title="Replay session", folders=False), self._replay_file
        )

    def _replay_file(self, path: Path | None) -> None:
        if path is None:
            return
        try:
            session, _warnings = open_session(path)
        except Exception as exc:  # noqa: BLE001 - reported, never fatal
            self.app.push_screen(ErrorScreen("Cannot replay the session", f"{exc}"))
            return
        self.app.push_screen(ReplayScreen(session, path), self._branch_from_replay)

    def _branch_from_replay(self, child: object) -> None:
        if child is None:
            return
        bench = LiveSession.open_lazily(child, default_path(self.sessions_dir, child), self.app.config)  # type: ignore[arg-type, attr-defined]
        bench.save()
        self.attach(bench)  # type: ignore[attr-defined]
        self.notify(f"Branched into {bench.path.name}", title="Branched", timeout=5)

    def action_export(self) -> None:
        session = self.bench.session
        default = self.sessions_dir / f"{file_name_part(session.domain)}-{file_name_part(session.id)}.jsonl"
        self.app.push_screen(ExportScreen(default), self._export)  # type: ignore[arg-type]  # a @work method

    @work(exclusive=True, group="export", exit_on_error=False)
    async def _export(self, choice: tuple[str, Path] | None) -> None:
        if choice is None:
            return
        fmt, out = choice
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            report = export_sessions([self.bench.session], fmt, out)
        except (TurnloomError, ValueError, OSError) as exc:
            self.app.push_screen(ErrorScreen("Export failed", str(exc)))
            return
        if report.written:
            self.notify(f"Exported {report.written} record to {out}", title="Exported", timeout=5)
        else:
            reasons = "; ".join(reason for _, reason in report.skipped) or "nothing to export"
            self.notify(f"Nothing exported: {reasons}", severity="warning", timeout=8)
