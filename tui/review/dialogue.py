"""A dialogue opened from the review list: the workbench's panes and actions, plus labels and a way back.

`ReviewDialogueScreen` is the workbench screen itself (`MainScreen`: transcript with the
failed checks marked, tools, rules; edit, regenerate, override, cut, undo), with a summary
line above it (the progress count, this session's label, which checks failed and why) and
the label keys of the list. Saving writes the same file back with its verdict judged again,
and refreshes the session's row in the list (`core.review.index.refresh_row`). Escape goes
back to the list (pausing first if something is generating), saving a changed session first;
`]`/`[` move on to the next or previous unlabelled session of the list without going back.
Session flows that would leave the folder's file (new, open, fork, replay) are left to the
workbench.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from turnloom.core.errors import TurnloomError
from turnloom.core.lifecycle.live_session import LazyJournal, LiveSession
from turnloom.core.models import CheckFailure, SessionLabel
from turnloom.core.quality.verdict import verdict_for
from turnloom.core.review.index import ReviewRow, refresh_row
from turnloom.core.review.labels import label_counts
from turnloom.tui.actions import bindings_for
from turnloom.tui.review.columns import label_text
from turnloom.tui.review.label_note import LabelNoteScreen, relabelled
from turnloom.tui.screens.dialogs import ErrorScreen
from turnloom.tui.screens.main import MainScreen

if TYPE_CHECKING:
    from pathlib import Path

    from turnloom.core.lifecycle.live_session import LiveSession as _LiveSession
    from turnloom.tui.review.row_list import ReviewList


class ReviewListScreen(Protocol):
    """What a dialogue needs of the review list it was opened from (`screen.ReviewScreen`)."""

    folder: Path
    rows: list[ReviewRow]

    @property
    def max_messages(self) -> int: ...

    @property
    def row_list(self) -> ReviewList: ...

    def update_row(self, row: ReviewRow) -> None: ...

    def save_label(self, row: ReviewRow, label: SessionLabel | None, advance: bool) -> ReviewRow: ...

    def neighbour_unlabelled(self, path: str | None, direction: int) -> ReviewRow | None: ...

    def open_bench(self, row: ReviewRow) -> _LiveSession | None: ...


LEFT_TO_THE_WORKBENCH = "Not in review: go back to the list (escape) and open the session in the workbench for that"


def failure_lines(failures: list[CheckFailure]) -> list[str]:
    """`✗ feedback (message 7): the user complains …`, one per failed check."""
    lines = []
    for failure in failures:
        messages = failure.messages
        where = f" (message{'s' if len(messages) > 1 else ''} {', '.join(map(str, messages))})" if messages else ""
        lines.append(f"✗ {failure.check}{where}: {failure.reason}")
    return lines


class ReviewDialogueScreen(MainScreen):
    """The workbench on one session of the review list `review`, whose row is `row`."""

    BINDINGS = bindings_for("label")
    ACTION_SCOPES = ("main", "label")

    def __init__(self, bench: LiveSession, review: ReviewListScreen, row: ReviewRow) -> None:
        super().__init__(bench)
        self.review = review
        self.row = row

    def compose(self) -> ComposeResult:
        yield Static(id="review-summary")
        yield from super().compose()

    def on_mount(self) -> None:
        super().on_mount()
        self.show_summary()

    # ------------------------------------------------------------ the summary line

    def _show_verdict(self) -> None:
        super()._show_verdict()
        if self.is_mounted:
            self.show_summary()

    def show_summary(self) -> None:
        """Progress, the session's label, and each failed check with its messages and reason."""
        session = self.bench.session
        counts = label_counts(self.review.rows)
        label = label_text(self.row) or "unlabelled"
        head = (
            f"Review {counts['labelled']}/{counts['total']} labelled  ·  {self.row.path}  ·  label: {label}  ·  "
            "1 keep · 2 drop · 3 needs-fix · w reason · ] next unlabelled · esc back to the list"
        )
        lines = [head]
        if session.finish_reason is None:
            lines.append("not finished: no verdict until it ends (step on, or cut and regenerate)")
        else:
            verdict = verdict_for(session, max_messages=self.review.max_messages)
            lines += failure_lines(verdict.failures) if verdict.failures else ["✓ accepted: every check passed"]
        self.query_one("#review-summary", Static).update(Text("\n".join(lines)))

    # ------------------------------------------------------------ saving and leaving

    def action_save(self) -> None:
        """Save the session to its file with its verdict judged again, and refresh its row in the list."""
        session = self.bench.session
        verdict = verdict_for(session, max_messages=self.review.max_messages)
        try:
            self.bench.save()
            row = refresh_row(self.review.folder, self.row.path, max_messages=self.review.max_messages)
        except (TurnloomError, OSError) as exc:
            self.app.push_screen(ErrorScreen("Save failed", str(exc)))
            return
        self._saved(row)
        judged = "accepted" if verdict.accepted else f"rejected by {', '.join(row.failed_checks)}"
        self.notify(f"Saved {self.row.path}: {judged}", title="Saved", timeout=4)

    def _saved(self, row: ReviewRow) -> None:
        self.row = row
        self.review.update_row(row)
        self.show_summary()

    def action_pause(self) -> None:
        if self.busy() or self.auto_running or self.held is not None:
            super().action_pause()
        else:
            self.leave()

    def leave(self) -> None:
        """Back to the list: a changed session is saved first (its row then shows the new verdict)."""
        if self.bench.unsaved:
            self.action_save()
        self.bench.close()
        self.review.row_list.move_to(self.row.path)
        self.app.pop_screen()

    # ------------------------------------------------------------ labels

    def _journal_open(self) -> bool:
        recorder = self.bench.recorder
        return not isinstance(recorder, LazyJournal) or recorder.journal is not None

    def label_session(self, label: SessionLabel | None) -> None:
        """Give the open session `label`, saved in its file now."""
        self.bench.session.label = label
        if self.bench.unsaved or self._journal_open():
            self.action_save()  # the label goes into the file with the fixes made so far
            return
        self.row = self.review.save_label(self.row, label, advance=False)
        self.show_summary()

    def action_label(self, kind: str) -> None:
        self.label_session(relabelled(self.row, kind))
        self.notify(f"Labelled {kind or 'none'}; ] goes to the next unlabelled session", timeout=3)

    def action_label_reason(self) -> None:
        self.app.push_screen(LabelNoteScreen(self.row), partial(self._noted))

    def _noted(self, label: SessionLabel | None) -> None:
        if label is not None:
            self.label_session(label)

    def action_unlabelled(self, direction: int) -> None:
        """Open the next (1) or previous (-1) unlabelled session of the list in place of this one."""
        if self.busy():
            self.notify("Busy generating; press escape to pause first", severity="warning")
            return
        target = self.review.neighbour_unlabelled(self.row.path, direction)
        if target is None:
            where = "after" if direction > 0 else "before"
            self.notify(f"No unlabelled session {where} this one in the list", timeout=4)
            return
        if self.bench.unsaved:
            self.action_save()
        bench = self.review.open_bench(target)
        if bench is None:
            return
        self.row = target
        self.review.row_list.move_to(target.path)
        self.attach(bench)  # closes this session
        self.show_summary()

    # ------------------------------------------------------------ flows left to the workbench

    def action_new(self) -> None:
        self.notify(LEFT_TO_THE_WORKBENCH, severity="warning")

    def action_open(self) -> None:
        self.notify(LEFT_TO_THE_WORKBENCH, severity="warning")

    def action_fork(self) -> None:
        self.notify(LEFT_TO_THE_WORKBENCH, severity="warning")

    def action_replay(self) -> None:
        self.notify(LEFT_TO_THE_WORKBENCH, severity="warning")
