"""A batch's live progress: counts, rate, ETA, tokens and cost, and where they are reported.

The batch keeps the counts (`BatchProgress`) and hands them to a `ProgressReport` as they
change; drawing them is the command line's business (`cli.render.ProgressLine`), so the
batch imports no UI library.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


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


class ProgressReport(Protocol):
    """Where a running batch reports its counts: about every quarter second, a message, the end."""

    def update(self, progress: BatchProgress) -> None: ...

    def message(self, text: str) -> None: ...

    def close(self, progress: BatchProgress) -> None: ...
