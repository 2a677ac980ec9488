"""The key footer: Textual's `Footer`, fitted to the terminal's width.

Textual's footer lays every shown binding out in a row and cuts the row at the screen's edge,
so at 80 columns Help and Quit fell off and the last key was cut mid-word. `KeyFooter` keeps
the keys a curator cannot do without (help, quit, closing the replay, and the command palette
docked on the right, which reaches every action) and drops the other keys from the right end, whole, until
the row fits; it lays itself out again when the terminal is resized.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# the actions whose keys stay in the footer at any width (`close` leaves the replay screen)
ESSENTIAL_ACTIONS = frozenset({"help", "quit_app", "close"})


def key_width(key: FooterKey) -> int:
    """Columns a footer key takes (Footer's non-compact style: ` key ` then `description `)."""
    return len(key.key_display) + 2 + (len(key.description) + 1 if key.description else 0)


class KeyFooter(Footer):
    """A footer whose keys are each shown whole, the essential ones always (`ESSENTIAL_ACTIONS`)."""

    def compose(self) -> ComposeResult:
        keys: list[Widget] = list(super().compose())
        room = self.app.size.width if self.size.width == 0 else self.size.width
        used = sum(key_width(key) for key in keys if isinstance(key, FooterKey))
        for key in reversed(list(keys)):
            if used <= room:
                break
            if isinstance(key, FooterKey) and not key.has_class("-command-palette"):
                if key.action not in ESSENTIAL_ACTIONS:
                    keys.remove(key)
                    used -= key_width(key)
        yield from keys

    def on_resize(self) -> None:
        self.call_after_refresh(self.recompose)
