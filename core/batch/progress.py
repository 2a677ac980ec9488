"""A batch's live progress: counts, rate, ETA, tokens and cost, drawn on one terminal line.

The core must not import rich or textual (the TUI owns those; a boundary test
enforces it), and a batch often runs headless with its output in a log file,
so this is a small renderer of its own: on a terminal it redraws one line with
a carriage return and an ANSI erase-to-end-of-line; anywhere else it prints a
plain line every few seconds, so logs stay readable and small.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

_ERASE_LINE = "\x1b[K"


@dataclass
class BatchProgress:
    """Counts of a running batch (updated by the batch runner)."""

    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    partial: int = 0
    skipped: int = 0  # already finished when this run started
    tokens: int = 0
    cost: float | None = 0.0  # None once some tokens have no known price
    started: float = field(default_factory=time.monotonic)
    finished_this_run: int = 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Dialogues finished per second in this run."""
        elapsed = self.elapsed
        return self.finished_this_run / elapsed if elapsed > 0 else 0.0

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.done - self.failed)

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, None until a dialogue has finished."""
        rate = self.rate
        return self.remaining / rate if rate > 0 else None

    def add_cost(self, cost: float | None) -> None:
        if cost is None or self.cost is None:
            self.cost = None
        else:
            self.cost += cost

    def line(self) -> str:
        """The one-line summary, e.g. `412/1000 done · 0 failed · 16 running · 35.2/s · ETA 17s`."""
        parts = [f"{self.done}/{self.total} done", f"{self.failed} failed", f"{self.running} running"]
        if self.partial:
            parts.append(f"{self.partial} stopped")
        rate = self.rate
        parts.append("-/s" if rate == 0 else f"{rate * 60:.1f}/min" if rate < 1 else f"{rate:.1f}/s")
        parts.append(f"ETA {format_duration(self.eta)}" if self.remaining else f"in {format_duration(self.elapsed)}")
        if self.tokens:
            parts.append(f"{self.tokens:,} tok")
            if self.cost is not None:
                parts.append(f"${self.cost:.4f}")
        return " · ".join(parts)


def format_duration(seconds: float | None) -> str:
    """`42s`, `3m05s`, `2h14m`; `?` when unknown."""
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressLine:
    """Draws `BatchProgress` to a stream: redrawn in place on a TTY, periodic lines otherwise.

    Args:
        stream: where to draw (default stderr, so stdout stays for results).
        tty: force terminal mode on or off (default: the stream's isatty()).
        log_interval: seconds between plain lines when not on a terminal.
    """

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None, log_interval: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.log_interval = log_interval
        self._last_log = 0.0
        self._drawn = False

    def update(self, progress: BatchProgress) -> None:
        """Redraw (on a terminal) or log a line if the interval has passed."""
        if self.tty:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.stream.write("\r" + progress.line()[:width] + _ERASE_LINE)
            self.stream.flush()
            self._drawn = True
        elif time.monotonic() - self._last_log >= self.log_interval:
            self._last_log = time.monotonic()
            self.stream.write(progress.line() + "\n")
            self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line of text without garbling the progress line."""
        if self.tty and self._drawn:
            self.stream.write("\r" + _ERASE_LINE)
        self.stream.write(text + "\n")
        self.stream.flush()
        self._drawn = False

    def close(self, progress: BatchProgress) -> None:
        """Draw the final state and end the line."""
        if self.tty:
            self.stream.write("\r" + progress.line() + _ERASE_LINE + "\n")
        else:
            self.stream.write(progress.line() + "\n")
        self.stream.flush()
        self._drawn = False
