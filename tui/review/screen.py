"""The review list of a folder of sessions: filters, sort, labels, progress; enter opens a dialogue.

The rows come from the folder's review index (`core.review.index.load_index`, read in a
worker thread so the screen paints at once); filtering and sorting are
`core.review.filters`' and run on every change (a few ms for 10,000 rows); the text search
reads the sessions' messages, so it runs in a worker a moment after the typing stops and
the newest search wins. Labels are saved in the session file as they are given
(`core.review.labels.set_label`, in a worker thread: it rewrites the index), and the cursor
moves on to the next session at once. A dialogue
opens in `ReviewDialogueScreen` over this screen, which keeps its filters and cursor.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from turnloom.core.errors import TurnloomError
from turnloom.core.models import SessionLabel
from turnloom.core.quality.verdict import ALL_CHECKS
from turnloom.core.review.filters import ReviewFilter, apply, search_text, sort_rows
from turnloom.core.review.index import ReviewRow, load_index, read_index, session_path
from turnloom.core.review.labels import label_counts, set_label
from turnloom.tui.actions import bindings_for
from turnloom.tui.review.columns import COLUMNS
from turnloom.tui.review.label_note import LabelNoteScreen, relabelled
from turnloom.tui.review.row_list import ReviewHeader, ReviewList
from turnloom.tui.screens.dialogs import ErrorScreen

if TYPE_CHECKING:
    from turnloom.core.config import TurnloomConfig
    from turnloom.core.lifecycle.live_session import LiveSession

SEARCH_DELAY = 0.25  # seconds of no typing before the messages are searched


def _cycle(values: list[str], current: str | None) -> str | None:
    """The value after `current` in `values`, then None (no filter), then the first again."""
    if current is None:
        return values[0] if values else None
    position = values.index(current) if current in values else len(values) - 1
    return values[position + 1] if position + 1 < len(values) else None


class ReviewScreen(Screen[None]):
    """Every session of `folder` in one list; `closable`: escape goes back to the screen below."""

    BINDINGS = [*bindings_for("review"), *bindings_for("label")]
    ACTION_SCOPES = ("review", "label")

    def __init__(self, folder: Path, config: TurnloomConfig, closable: bool = False) -> None:
        super().__init__()
        self.folder = folder
        self.config = config
        self.closable = closable
        self.rows: list[ReviewRow] = []  # every session of the folder, in index order
        self.filter = ReviewFilter()
        self.sort_key = "path"
        self.reverse = False
        self.loaded = False
        self._needle = ""  # the search box's text
        self._matches: set[str] | None = None  # what the search found for `filter.text`
        self._search_timer: Timer | None = None
        self._label_lock = threading.Lock()
        self.pending_labels = 0  # labels shown but not yet written to their files
        self._labelled: set[str] = set()  # paths labelled here before the index was brought up to date

    def compose(self) -> ComposeResult:
        with Horizontal(id="review-bar"):
            yield Input(placeholder="/ search the messages", id="review-search")
            yield Static(id="review-filters")
        yield ReviewHeader(id="review-header")
        yield ReviewList(id="review-list")
        yield Static(id="review-progress")
        yield Footer()

    @property
    def row_list(self) -> ReviewList:
        return self.query_one(ReviewList)

    def on_mount(self) -> None:
        self.row_list.focus()
        self.show_state()
        self.load_rows()

    @property
    def max_messages(self) -> int:
        return self.config.quality_max_messages

    @work(thread=True, exclusive=True, group="review-index", exit_on_error=False)
    def load_rows(self) -> None:
        """Read the folder's index off the event loop: the rows as last indexed are shown at once,
        then the index brought up to date (every file's stamp checked, changed files read again)."""
        cached = list(read_index(self.folder, self.max_messages).values())
        if cached:
            self.app.call_from_thread(self._loaded, sorted(cached, key=lambda row: row.path), False)
        try:
            rows = load_index(self.folder, max_messages=self.max_messages)
        except (TurnloomError, OSError) as exc:
            self.app.call_from_thread(self._not_loaded, str(exc))
            return
        self.app.call_from_thread(self._loaded, rows)

    def _loaded(self, rows: list[ReviewRow], checked: bool = True) -> None:
        """Show the folder's rows; `checked`: brought up to date with the files (else as last indexed)."""
        if self._labelled:  # labels given while the files were being checked: what the list shows is newer
            shown = {row.path: row for row in self.rows if row.path in self._labelled}
            rows = [shown.get(row.path, row) for row in rows]
        self.rows = rows
        self.loaded = checked
        self.row_list.empty_text = "No session matches the filters." if rows else f"No sessions in {self.folder}."
        self.refilter()

    def _not_loaded(self, problem: str) -> None:
        self.row_list.empty_text = f"Cannot read {self.folder}: {problem}"
        self.row_list.refresh()
        self.app.push_screen(ErrorScreen("Cannot review the folder", problem))

    # ------------------------------------------------------------ what is shown

    def shown(self) -> list[ReviewRow]:
        return self.row_list.rows

    def refilter(self, keep: str | None = None, fallback: int | None = None) -> None:
        """Show the rows that pass the filters, sorted; the cursor stays on `keep` (default: its row)."""
        current = self.row_list.row
        keep = keep if keep is not None else (current.path if current is not None else None)
        rows = sort_rows(apply(self.rows, self.filter, self._matches), self.sort_key, self.reverse)
        self.row_list.set_rows(rows, keep=keep, fallback=fallback)
        self.show_state()

    def show_state(self) -> None:
        flt = self.filter
        header = self.query_one(ReviewHeader)
        header.sort_key, header.reverse = self.sort_key, self.reverse
        on_off = {True: "on", False: "off"}
        parts = [
            f"v rejected only: {on_off[flt.rejected_only]}",
            f"c check: {flt.check or 'any'}",
            f"d domain: {flt.domain or 'any'}",
            f"u unlabelled: {on_off[flt.unlabelled]}",
        ]
        if self._needle and self._needle != flt.text:
            parts.append("searching…")
        elif flt.text:
            parts.append(f"{len(self.shown())} with {flt.text!r}")
        self.query_one("#review-filters", Static).update(Text("  ·  ".join(parts)))
        self.query_one("#review-progress", Static).update(Text(self.progress_text()))

    def progress_text(self) -> str:
        """`labelled 12/30 (keep 8 · drop 3 · needs-fix 1) · showing 30 · 4 rejected`."""
        if not self.rows and not self.loaded:
            return f"Reading {self.folder}…"
        counts = label_counts(self.rows)
        rejected = sum(1 for row in self.rows if row.accepted is False)
        return (
            f"labelled {counts['labelled']}/{counts['total']} "
            f"(keep {counts['keep']} · drop {counts['drop']} · needs-fix {counts['needs-fix']})"
            f"  ·  showing {len(self.shown())}  ·  {rejected} rejected  ·  {self.folder}"
            + ("" if self.loaded else "  ·  checking the files…")
        )

    def update_row(self, row: ReviewRow) -> None:
        """Put a re-read row (labelled, or fixed and saved) in place of the old one."""
        for position, old in enumerate(self.rows):
            if old.path == row.path:
                self.rows[position] = row
                break
        else:
            self.rows.append(row)
        self.row_list.replace_row(row)
        self.show_state()

    def neighbour_unlabelled(self, path: str | None, direction: int) -> ReviewRow | None:
        """The next (1) or previous (-1) shown row after `path` with no label."""
        rows = self.shown()
        start = next((i for i, row in enumerate(rows) if row.path == path), -1 if direction > 0 else len(rows))
        position = start + direction
        while 0 <= position < len(rows):
            if rows[position].label is None:
                return rows[position]
            position += direction
        return None

    # ------------------------------------------------------------ filters and sort

    def action_toggle_rejected(self) -> None:
        self.filter.rejected_only = not self.filter.rejected_only
        self.refilter()

    def action_toggle_unlabelled(self) -> None:
        self.filter.unlabelled = not self.filter.unlabelled
        self.refilter()

    def action_next_check(self) -> None:
        failed = {check for row in self.rows for check in row.failed_checks}
        checks = [name for name in ALL_CHECKS if name in failed] + sorted(failed - set(ALL_CHECKS))
        self.filter.check = _cycle(checks, self.filter.check)
        self.refilter()

    def action_next_domain(self) -> None:
        self.filter.domain = _cycle(sorted({row.domain for row in self.rows}), self.filter.domain)
        self.refilter()

    def action_next_sort(self) -> None:
        keys = [column.key for column in COLUMNS]
        position = keys.index(self.sort_key) if self.sort_key in keys else -1
        self.sort_key, self.reverse = keys[(position + 1) % len(keys)], False
        self.refilter()

    def action_reverse_sort(self) -> None:
        self.reverse = not self.reverse
        self.refilter()

    @on(ReviewHeader.SortRequested)
    def _sort_by(self, event: ReviewHeader.SortRequested) -> None:
        if event.key == self.sort_key:
            self.reverse = not self.reverse
        else:
            self.sort_key, self.reverse = event.key, False
        self.refilter()

    # ------------------------------------------------------------ text search

    def action_focus_search(self) -> None:
        self.query_one("#review-search", Input).focus()

    def action_close(self) -> None:
        if self.focused is self.query_one("#review-search", Input):
            self.row_list.focus()
        elif self.closable:
            self.dismiss(None)

    @on(Input.Submitted, "#review-search")
    def _search_submitted(self) -> None:
        self.row_list.focus()

    @on(Input.Changed, "#review-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._needle = event.value.strip()
        if self._search_timer is not None:
            self._search_timer.stop()
        if not self._needle:
            self.workers.cancel_group(self, "review-search")
            self.filter.text, self._matches = "", None
            self.refilter()
            return
        self.show_state()
        self._search_timer = self.set_timer(SEARCH_DELAY, partial(self.search, self._needle, list(self.rows)))

    @work(thread=True, exclusive=True, group="review-search", exit_on_error=False)
    def search(self, needle: str, rows: list[ReviewRow]) -> None:
        """Find the sessions of `rows` whose messages hold `needle`, off the event loop; a newer search wins."""
        matches = search_text(self.folder, rows, needle)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._searched, needle, matches)

    def _searched(self, needle: str, matches: set[str]) -> None:
        if needle != self._needle:
            return  # the box changed while this search ran; the newer one will answer
        self.filter.text, self._matches = needle, matches
        self.refilter()

    # ------------------------------------------------------------ labels

    def action_label(self, kind: str) -> None:
        row = self.row_list.row
        if row is None:
            self.notify("No session selected", severity="warning")
            return
        self.save_label(row, relabelled(row, kind), advance=True)

    def action_label_reason(self) -> None:
        row = self.row_list.row
        if row is not None:
            self.app.push_screen(LabelNoteScreen(row), partial(self._noted, row))

    def _noted(self, row: ReviewRow, label: SessionLabel | None) -> None:
        if label is not None:
            self.save_label(row, label, advance=False)

    def save_label(self, row: ReviewRow, label: SessionLabel | None, advance: bool) -> ReviewRow:
        """Show `label` on `row` now and save it in the session file in a worker; `advance`: move on a row.

        Saving rewrites the folder's index too (half a second at 10,000 sessions), so the list
        never waits for it: the row shows the label at once, and the saved row replaces it when
        the file is written (or the old row comes back, with the reason, if it cannot be).

        Returns:
            The row as shown until the save is done.
        """
        shown = self.shown()
        position = self.row_list.cursor
        following = shown[position + 1].path if advance and position + 1 < len(shown) else row.path
        labelled = replace(
            row,
            label=label.kind if label else None,
            reason=label.reason if label else "",
            tags=tuple(label.tags) if label else (),
        )
        self.update_row(labelled)
        if not self.loaded:
            self._labelled.add(row.path)
        self.refilter(keep=following, fallback=position)
        self.pending_labels += 1
        self.write_label(row, label)
        return labelled

    @work(thread=True, group="review-labels", exit_on_error=False)
    def write_label(self, row: ReviewRow, label: SessionLabel | None) -> None:
        """Save one label (one at a time: each rewrites the folder's index)."""
        with self._label_lock:
            try:
                saved = set_label(self.folder, row.path, label, max_messages=self.max_messages)
            except (TurnloomError, OSError) as exc:
                self.app.call_from_thread(self._label_failed, row, str(exc))
                return
            self.app.call_from_thread(self._label_saved, saved)

    def _label_saved(self, row: ReviewRow) -> None:
        self.pending_labels -= 1
        self.update_row(row)

    def _label_failed(self, row: ReviewRow, problem: str) -> None:
        self.pending_labels -= 1
        self.update_row(row)
        self.app.push_screen(ErrorScreen("Label not saved", problem))

    def action_unlabelled(self, direction: int) -> None:
        current = self.row_list.row
        target = self.neighbour_unlabelled(current.path if current else None, direction)
        if target is None:
            left = label_counts(self.rows)["unlabelled"]
            where = "below" if direction > 0 else "above"
            self.notify(f"No unlabelled session {where} in the list ({left} unlabelled in the folder)", timeout=4)
            return
        self.row_list.move_to(target.path)

    # ------------------------------------------------------------ opening a dialogue

    @on(ReviewList.Opened)
    def _open(self, event: ReviewList.Opened) -> None:
        self.open_row(event.row)

    def open_row(self, row: ReviewRow) -> None:
        from turnloom.tui.review.dialogue import ReviewDialogueScreen

        bench = self.open_bench(row)
        if bench is not None:
            self.app.push_screen(ReviewDialogueScreen(bench, self, row))

    def open_bench(self, row: ReviewRow) -> LiveSession | None:
        """The session of `row`, opened to work on; None (and the reason shown) if it cannot be."""
        from turnloom.core.lifecycle.live_session import LiveSession  # the engine loads with the first dialogue

        try:
            return LiveSession.open(session_path(self.folder, row.path), self.config)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported, never fatal
            self.app.push_screen(ErrorScreen("Cannot open the session", str(exc)))
            return None
