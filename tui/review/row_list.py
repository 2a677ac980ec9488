"""The review list: one line per session, painted only where it is in view.

A `DataTable` measures every cell as rows are added (3.7 s for 10,000 rows on this
machine, and as long again on every filter), so the list is a `ScrollView` over the rows
it is given: setting 10,000 rows costs a list assignment, and a frame paints the visible
lines. `ReviewHeader` shows the column titles with the sort mark and turns a click into
a sort request. The widgets only show what the review screen gives them and post
messages up: `ReviewList.Highlighted`, `ReviewList.Opened`, `ReviewHeader.SortRequested`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from turnloom.core.review.index import ReviewRow
from turnloom.tui.review.columns import COLUMNS, cells, verdict_text, widths


def _line(parts: list[tuple[str, Style]], column_widths: list[int]) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    for position, ((text, style), width) in enumerate(zip(parts, column_widths, strict=True)):
        cell = Text(text, style=style, no_wrap=True, overflow="ellipsis")
        cell.truncate(width, overflow="ellipsis", pad=True)
        if position:
            line.append(" ")
        line.append_text(cell)
    return line


class ReviewList(ScrollView, can_focus=True, inherit_bindings=False):
    """The sessions shown (filtered, sorted) with a cursor; `row` is the one under it."""

    COMPONENT_CLASSES = {
        "review-list--cursor",
        "review-list--accepted",
        "review-list--rejected",
        "review-list--unreadable",
        "review-list--keep",
        "review-list--drop",
        "review-list--needs-fix",
        "review-list--empty",
    }
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "edge(0)", show=False),
        Binding("end", "edge(1)", show=False),
        Binding("enter", "open", "Open", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, layout=False)

    @dataclass
    class Highlighted(Message):
        """The cursor moved to `row` (None: the list is empty)."""

        row: ReviewRow | None

    @dataclass
    class Opened(Message):
        """Enter or a double click on `row`."""

        row: ReviewRow

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[ReviewRow] = []
        self.empty_text = "Loading the folder…"

    @property
    def row(self) -> ReviewRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def set_rows(self, rows: list[ReviewRow], keep: str | None = None, fallback: int | None = None) -> None:
        """Show `rows`; the cursor stays on path `keep` if shown, else goes to index `fallback` (clamped)."""
        self.rows = rows
        positions = {row.path: i for i, row in enumerate(rows)} if keep is not None else {}
        if keep is not None and keep in positions:
            target = positions[keep]
        else:
            target = self.cursor if fallback is None else fallback
        self.virtual_size = Size(self.scrollable_content_region.width, len(rows))
        self.cursor = max(0, min(target, len(rows) - 1))
        self.refresh()

    def replace_row(self, row: ReviewRow) -> None:
        """Repaint `row` in place (a label set, a fix saved), if shown."""
        for position, shown in enumerate(self.rows):
            if shown.path == row.path:
                self.rows[position] = row
                self.refresh()
                return

    def move_to(self, path: str) -> bool:
        for position, row in enumerate(self.rows):
            if row.path == path:
                self.cursor = position
                return True
        return False

    # ------------------------------------------------------------ cursor

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.rows) - 1)) if self.rows else 0

    def watch_cursor(self, value: int) -> None:
        height = self.scrollable_content_region.height
        top = int(self.scroll_offset.y)
        if value < top:
            self.scroll_to(y=value, animate=False, immediate=True)
        elif height and value >= top + height:
            self.scroll_to(y=value - height + 1, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(self.row))

    def action_move(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(1, self.scrollable_content_region.height - 1)

    def action_edge(self, end: int) -> None:
        self.cursor = len(self.rows) - 1 if end else 0

    def action_open(self) -> None:
        if self.row is not None:
            self.post_message(self.Opened(self.row))

    def on_click(self, event: events.Click) -> None:
        position = int(self.scroll_offset.y) + event.y
        if 0 <= position < len(self.rows):
            self.cursor = position
            if event.chain == 2:
                self.action_open()

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows))

    # ------------------------------------------------------------ painting

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"review-list--{name}", partial=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        position = int(self.scroll_offset.y) + y
        base = self.rich_style
        if not self.rows:
            if y == 1:
                text = Text(f"  {self.empty_text}", style=self._style("empty"))
                return Strip(text.render(self.app.console)).adjust_cell_length(width).apply_style(base)
            return Strip.blank(width, base)
        if position >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[position]
        plain = Style()
        parts = [(text, plain) for text in cells(row)]
        parts[5] = (parts[5][0], self._style(verdict_text(row)))
        parts[6] = (parts[6][0], self._style("rejected"))
        if row.label is not None:
            parts[7] = (parts[7][0], self._style(row.label))
        line = _line(parts, widths(width))
        strip = Strip(line.render(self.app.console)).adjust_cell_length(width)
        if position == self.cursor:
            strip = strip.apply_style(self._style("cursor"))
        return strip.apply_style(base)


class ReviewHeader(Widget):
    """The column titles over the list, the sort column marked ▲/▼; a click asks to sort by a column."""

    sort_key: reactive[str] = reactive("path")
    reverse: reactive[bool] = reactive(False)

    @dataclass
    class SortRequested(Message):
        key: str

    def render(self) -> Text:
        marks = []
        for column in COLUMNS:
            mark = ("▼" if self.reverse else "▲") if column.key == self.sort_key else ""
            marks.append((f"{column.title}{mark}", Style(bold=True)))
        return _line(marks, widths(self.size.width - 1))

    def on_click(self, event: events.Click) -> None:
        edge = 0
        for column, width in zip(COLUMNS, widths(self.size.width - 1), strict=True):
            edge += width + 1
            if event.x < edge:
                self.post_message(self.SortRequested(column.key))
                return
