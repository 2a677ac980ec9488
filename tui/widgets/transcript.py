"""The Conversation pane's transcript: a virtual scroll view that paints only visible lines.

Each message is rendered once per width into strips (Textual's line API), so appending to
a 2,000-message session renders one message. A message is rendered when it first comes into
view: until then its height is estimated from its text, so opening a long session renders
one screenful, and scrolling renders what it reveals (the offsets below are corrected as
estimates give way to rendered heights). Long bodies are
truncated until expanded (`x`); the simulator's pending proposal is shown after the
last message, distinctly, until it is committed, with a note of what the curator can do
with it. An empty transcript shows `empty_hint`. Messages a failed quality check points at
carry a `✗ check` marker (`set_quality`); selecting one shows the checks' reasons. The widget only shows what it is given:
screens feed it messages and read `selected`; it posts `Transcript.Selected` when the
selection moves.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from turnloom.core.models import ChatMessage
from turnloom.tui.widgets.message_text import COLLAPSED_LINES, MessageStyles, body_text, header_text


@dataclass
class _Entry:
    message: ChatMessage
    index: int | None  # None: the pending proposal
    expanded: bool = False
    strips: list[Strip] | None = None  # None: not rendered at this width yet
    height: int = 0  # lines: len(strips) once rendered, an estimate before
    stream_text: str | None = None  # a proposal still streaming
    note: str | None = None  # under a pending proposal: what the curator can do with it


class Transcript(ScrollView, can_focus=True, inherit_bindings=False):
    """Messages as a scrollable list; `selected` is the highlighted message index."""

    COMPONENT_CLASSES = {
        "transcript--user",
        "transcript--assistant",
        "transcript--tool",
        "transcript--system",
        "transcript--badge",
        "transcript--operator",
        "transcript--edited",
        "transcript--violation",
        "transcript--error",
        "transcript--call",
        "transcript--more",
        "transcript--selected",
        "transcript--pending",
        "transcript--hint",
    }
    BINDINGS = [
        Binding("up,k", "select(-1)", "Previous", show=False),
        Binding("down,j", "select(1)", "Next", show=False),
        Binding("pageup", "select(-10)", show=False),
        Binding("pagedown", "select(10)", show=False),
        Binding("home", "select_edge(0)", show=False),
        Binding("end", "select_edge(1)", show=False),
    ]

    selected: reactive[int | None] = reactive(None, always_update=True)

    @dataclass
    class Selected(Message):
        """The selection moved to message `index` (None: following the end)."""

        transcript: Transcript
        index: int | None

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entries: list[_Entry] = []
        self._pending: _Entry | None = None
        self._offsets: list[int] = []  # first line of each entry
        self._lines = 0
        self._width = 0
        self._styles: MessageStyles | None = None
        # painted lines by (line number, scroll x, width): an append scrolls every visible
        # line, but only the new message's lines are new
        self._line_cache: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)
        self.follow = True  # keep the end in view as messages arrive
        self._empty_hint = ""
        self._hint_strips: tuple[int, list[Strip]] = (0, [])  # (width, painted hint)
        self._quality: dict[int, list[tuple[str, str]]] = {}  # message index -> (check, reason) of failed checks

    # ------------------------------------------------------------ feeding

    @property
    def message_count(self) -> int:
        return len(self._entries)

    def load(self, messages: list[ChatMessage]) -> None:
        """Show `messages` in place of whatever was shown."""
        self._entries = [_Entry(m, i) for i, m in enumerate(messages)]
        self._pending = None
        self.selected = None
        self.follow = True
        self._relayout()

    def append(self, index: int, message: ChatMessage) -> None:
        """Add committed message `index` (replacing the pending proposal, if any)."""
        if index < len(self._entries):
            self.truncate(index)
        self._pending = None
        entry = _Entry(message, index)
        self._entries.append(entry)
        self._relayout(from_entry=len(self._entries) - 1)

    def truncate(self, at: int) -> None:
        """Drop messages from index `at` on."""
        del self._entries[at:]
        self._pending = None
        if self.selected is not None and self.selected >= at:
            self.selected = at - 1 if at > 0 else None
        self._relayout(from_entry=at)

    @property
    def empty_hint(self) -> str:
        """What an empty transcript says (e.g. which keys start the dialogue)."""
        return self._empty_hint

    @empty_hint.setter
    def empty_hint(self, text: str) -> None:
        self._empty_hint = text
        self._hint_strips = (0, [])
        self.refresh()

    @property
    def pending(self) -> ChatMessage | None:
        """The proposal shown after the last message, if any."""
        return self._pending.message if self._pending is not None else None

    def set_pending(self, message: ChatMessage | None, note: str | None = None) -> None:
        """Show (or clear) the proposal waiting to be committed, with an optional `note` under it."""
        self._pending = None if message is None else _Entry(message, None, note=note)
        self._relayout(from_entry=len(self._entries))

    def stream_pending(self, message: ChatMessage, text: str) -> None:
        """Show a proposal still being generated, with its text so far."""
        self._pending = _Entry(message, None, stream_text=text)
        self._relayout(from_entry=len(self._entries))

    def set_quality(self, marks: dict[int, list[tuple[str, str]]]) -> None:
        """Mark the messages failed quality checks point at: index -> [(check, reason)]; {} clears."""
        changed = set(marks) | set(self._quality)
        self._quality = marks
        for entry in self._entries:
            if entry.index in changed:
                entry.strips = None
        self._relayout(keep_scroll=True)

    def quality_at(self, index: int) -> list[tuple[str, str]]:
        """The failed checks (check, reason) that point at message `index`."""
        return self._quality.get(index, [])

    def toggle_expanded(self, index: int) -> None:
        if 0 <= index < len(self._entries):
            entry = self._entries[index]
            entry.expanded = not entry.expanded
            entry.strips = None
            self._relayout(from_entry=index, keep_scroll=True)

    # ------------------------------------------------------------ layout

    def _all_entries(self) -> list[_Entry]:
        return self._entries + ([self._pending] if self._pending else [])

    def _message_styles(self) -> MessageStyles:
        if self._styles is None:
            get = self.get_component_rich_style
            self._styles = MessageStyles(
                role={r: get(f"transcript--{r}", partial=True) for r in ("user", "assistant", "tool", "system")},
                badge=get("transcript--badge", partial=True),
                operator=get("transcript--operator", partial=True),
                edited=get("transcript--edited", partial=True),
                violation=get("transcript--violation", partial=True),
                error=get("transcript--error", partial=True),
                call=get("transcript--call", partial=True),
                more=get("transcript--more", partial=True),
            )
        return self._styles

    def _render_entry(self, entry: _Entry, width: int) -> list[Strip]:
        styles = self._message_styles()
        head = header_text(entry.index, entry.message, styles, pending=entry.index is None)
        body, cut = body_text(entry.message, styles, entry.expanded, override=entry.stream_text)
        console = self.app.console
        options = console.options.update_width(max(width, 10))

        def lines_of(renderable: Text | Padding) -> list[list[Segment]]:
            return list(Segment.split_lines(console.render(renderable, options)))

        lines = lines_of(head)
        failed = self._quality.get(entry.index, []) if entry.index is not None else []
        if failed:
            checks = ", ".join(dict.fromkeys(check for check, _ in failed))
            lines += lines_of(
                Padding(Text(f"✗ {checks} (select for the reason)", style=styles.violation), (0, 0, 0, 5))
            )
        body_lines = lines_of(Padding(body, (0, 0, 0, 5))) if body else []
        if not entry.expanded and len(body_lines) > COLLAPSED_LINES:
            body_lines, cut = body_lines[:COLLAPSED_LINES], True
        lines += body_lines
        if cut:
            lines += lines_of(Padding(Text("… more — press x to expand", style=styles.more), (0, 0, 0, 5)))
        if entry.note:
            lines += lines_of(Padding(Text(entry.note, style=styles.more), (0, 0, 0, 5)))
        strips = [Strip(line).adjust_cell_length(width) for line in lines]
        strips.append(Strip.blank(width))
        return strips

    def _estimate(self, entry: _Entry, width: int) -> int:
        """The lines `entry` will take, from its text alone (a rendered entry knows exactly)."""
        message = entry.message
        text = entry.stream_text if entry.stream_text is not None else message.content or ""
        wrap = max(1, width - 5)
        body = sum(1 + len(part) // wrap for part in text.split("\n")) if text else 0
        body += len(message.tool_calls)
        if not entry.expanded and body > COLLAPSED_LINES:
            body = COLLAPSED_LINES + 1  # the "more" line
        marks = 1 if entry.index is not None and entry.index in self._quality else 0
        return 1 + marks + body + (1 if entry.note else 0) + 1

    def _relayout(self, from_entry: int = 0, keep_scroll: bool = False) -> None:
        """Recompute line offsets from `from_entry` on, resize the virtual canvas, render what is in view."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return  # not laid out yet; on_resize lays out
        if width != self._width:
            self._width = width
            from_entry = 0
            self._line_cache.clear()
            for entry in self._all_entries():
                entry.strips = None
        for entry in self._all_entries()[from_entry:]:
            if entry.strips is None:
                entry.height = self._estimate(entry, width)
        self._place_from(from_entry)
        following = self.follow and not keep_scroll
        self._render_in_view(following)
        self._set_virtual_height(width, self._lines)
        if following:
            self.scroll_to(y=max(0, self._lines - self.scrollable_content_region.height), animate=False, immediate=True)
        self.refresh()

    def _place_from(self, from_entry: int) -> None:
        """Line offsets of the entries from `from_entry` on, from their heights."""
        entries = self._all_entries()
        if from_entry < len(self._offsets):
            self._forget_lines_from(self._offsets[from_entry])
        del self._offsets[from_entry:]
        line = self._offsets[-1] + entries[from_entry - 1].height if from_entry else 0
        for entry in entries[from_entry:]:
            self._offsets.append(line)
            line += entry.height
        self._lines = line

    def _render_in_view(self, following: bool) -> bool:
        """Render the entries in view (the last screenful when `following`) that only have an estimated height.

        A corrected height moves what follows it, and when following the end, the view with
        it, so this repeats until the view holds only rendered entries (a few passes at most).

        Returns:
            Whether any entry's height changed (the canvas must be resized).
        """
        width = self._width
        entries = self._all_entries()
        view = max(1, self.scrollable_content_region.height)
        changed = False
        for _ in range(16):
            top = max(0, self._lines - view) if following else int(self.scroll_offset.y)
            position = max(0, bisect_right(self._offsets, top) - 1)
            moved: int | None = None
            while position < len(entries) and self._offsets[position] < top + view:
                entry = entries[position]
                if entry.strips is None:
                    entry.strips = self._render_entry(entry, width)
                    if len(entry.strips) != entry.height:
                        entry.height = len(entry.strips)
                        moved = position if moved is None else moved
                position += 1
            if moved is None:
                return changed
            changed = True
            self._place_from(moved + 1)
        return changed

    def _reveal(self) -> None:
        """Render what scrolling brought into view; resize the canvas if estimates were off."""
        if self._width > 0 and self._offsets and self._render_in_view(following=False):
            self._set_virtual_height(self._width, self._lines)
            self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._reveal()

    def _forget_lines_from(self, first_line: int) -> None:
        for key in [k for k in self._line_cache.keys() if k[0] >= first_line]:
            self._line_cache.discard(key)

    def _set_virtual_height(self, width: int, height: int) -> None:
        """Grow or shrink the canvas without a screen-wide layout when the scrollbar stays put.

        Assigning `virtual_size` lays out the whole screen (tens of ms with every pane);
        an append only changes this widget's scroll range, so set it quietly and update
        the scrollbar, and fall back to a layout only when the scrollbar appears or goes.
        """
        size = Size(width, height)
        if size == self.virtual_size:
            return
        had_scrollbar = self.show_vertical_scrollbar
        needs_scrollbar = height > self.scrollable_content_region.height
        if had_scrollbar != needs_scrollbar or not self.is_mounted:
            self.virtual_size = size
            return
        self.set_reactive(Transcript.virtual_size, size)
        self._scroll_update(size)  # pinned Textual 8.2.8: updates the scrollbar's window

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        """Lay out as soon as the width is known, so the frame being composed already shows messages.

        Textual sizes a widget during the screen's layout pass and paints it in the same
        frame, but sends `Resize` only afterwards: laying out on `Resize` alone leaves the
        first frame of an opened session blank and shows the messages one frame later.
        """
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        if self._entries and self.scrollable_content_region.width not in (self._width, 0):
            self._relayout()
        return resized

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._hint_strips = (0, [])
        if self._styles is None:
            return
        # styles are re-applied often (focus, hover, screen changes); re-render only when
        # the colours the messages use really changed (a theme switch)
        previous = self._styles
        self._styles = None
        if self._message_styles() == previous:
            return
        self._line_cache.clear()
        for entry in self._all_entries():
            entry.strips = None
        if self._width:
            self._width = -1  # force a full re-render on the next layout
            self.call_later(self._relayout)

    # ------------------------------------------------------------ painting

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        line_no = scroll_y + y
        base = self.rich_style
        if not self._offsets and self._empty_hint:
            return self._hint_line(y, width, base)
        if line_no >= self._lines or not self._offsets:
            return Strip.blank(width, base)
        position = bisect_right(self._offsets, line_no) - 1
        entries = self._all_entries()
        entry = entries[position]
        if entry.strips is None:  # in view before the scroll watcher ran (the first frames): render it now
            self._reveal()
            position = bisect_right(self._offsets, line_no) - 1
            entry = entries[position]
        strips = entry.strips or []
        offset = line_no - self._offsets[position]
        if offset >= len(strips):
            return Strip.blank(width, base)
        key = (line_no, scroll_x, width)
        cached = self._line_cache.get(key)
        if cached is not None:
            return cached
        strip = strips[offset].crop_extend(scroll_x, scroll_x + width, None)
        if entry.index is None:
            strip = strip.apply_style(self.get_component_rich_style("transcript--pending"))
        elif entry.index == self.selected and offset < len(strips) - 1:
            strip = strip.apply_style(self.get_component_rich_style("transcript--selected"))
        strip = strip.apply_style(base)
        self._line_cache[key] = strip
        return strip

    def _hint_line(self, y: int, width: int, base: Style) -> Strip:
        """Line `y` of the empty-transcript hint, wrapped to `width`, a line down from the top."""
        painted_width, strips = self._hint_strips
        if painted_width != width or not strips:
            style = self.get_component_rich_style("transcript--hint", partial=True)
            console = self.app.console
            text = Padding(Text(self._empty_hint, style=style), (1, 2))
            lines = Segment.split_lines(console.render(text, console.options.update_width(max(width, 10))))
            strips = [Strip(line).adjust_cell_length(width) for line in lines]
            self._hint_strips = (width, strips)
        if y >= len(strips):
            return Strip.blank(width, base)
        return strips[y].apply_style(base)

    def watch_selected(self) -> None:
        self._line_cache.clear()

    # ------------------------------------------------------------ selection

    def entry_at_line(self, line_no: int) -> int | None:
        if not self._offsets or line_no >= self._lines:
            return None
        position = bisect_right(self._offsets, line_no) - 1
        return position if position < len(self._entries) else None

    def on_click(self, event: events.Click) -> None:
        index = self.entry_at_line(int(self.scroll_offset.y) + event.y)
        if index is not None:
            self._select(index)
            if event.chain == 2:
                self.toggle_expanded(index)

    def action_select(self, delta: int) -> None:
        if not self._entries:
            return
        current = len(self._entries) if self.selected is None else self.selected
        self._select(max(0, min(len(self._entries) - 1, current + delta)))

    def action_select_edge(self, end: int) -> None:
        if self._entries:
            self._select(len(self._entries) - 1 if end else 0)
            self.follow = bool(end)

    def select(self, index: int) -> None:
        """Select message `index` and scroll it into view (after an edit, the edited message)."""
        if 0 <= index < len(self._entries):
            self._select(index)

    def _select(self, index: int) -> None:
        self.selected = index
        self.follow = index == len(self._entries) - 1
        top = self._offsets[index]
        height = self._entries[index].height
        view_top = int(self.scroll_offset.y)
        view_height = self.scrollable_content_region.height
        if top < view_top:
            self.scroll_to(y=top, animate=False)
        elif top + height > view_top + view_height:
            self.scroll_to(y=max(top, top + height - view_height), animate=False)
        self.refresh()
        self.post_message(self.Selected(self, index))
        failed = self._quality.get(index)
        if failed:
            reasons = "\n".join(f"{check}: {reason}" for check, reason in failed)
            self.notify(reasons, title=f"Quality: message {index}", severity="warning", timeout=8)

    def selected_or_last(self) -> int | None:
        """The selected message, or the last one when nothing is selected."""
        if self.selected is not None and self.selected < len(self._entries):
            return self.selected
        return len(self._entries) - 1 if self._entries else None
