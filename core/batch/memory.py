"""How many dialogues a batch keeps open at once, so their databases fit in memory.

Every open dialogue holds its own in-memory copy of the database (its writes are its own),
so memory grows as database size × open dialogues: a 240 MB database at 16 in flight asks
for gigabytes. `open_dialogue_cap` turns a memory budget (a setting, by default a quarter
of physical memory) into a cap on open dialogues, with a note saying what was capped and
why. Measured by `bench/dialogue_memory.py`: about 1.5× the database file per open
dialogue; `PER_DIALOGUE_FACTOR` rounds that up.
"""

from __future__ import annotations

import os
from pathlib import Path

PER_DIALOGUE_FACTOR = 2.0
DEFAULT_BUDGET_SHARE = 0.25
_GB = 1024**3


def physical_memory() -> int | None:
    """Bytes of physical memory, or None where the platform does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def default_budget() -> int | None:
    """A quarter of physical memory (None: unknown, no cap)."""
    total = physical_memory()
    return None if total is None else int(total * DEFAULT_BUDGET_SHARE)


def dialogue_bytes(db: str | None) -> int:
    """Memory one open dialogue needs for its database: the file's size × `PER_DIALOGUE_FACTOR` (0 for a pack)."""
    if db is None:
        return 0  # the built-in packs are a few hundred kilobytes
    try:
        return int(Path(db).stat().st_size * PER_DIALOGUE_FACTOR)
    except OSError:
        return 0


def open_dialogue_cap(per_dialogue: int, wanted: int, budget: int | None) -> tuple[int, str | None]:
    """How many dialogues may be open at once under `budget` bytes, and a note when that is fewer than `wanted`.

    Args:
        per_dialogue: bytes one open dialogue needs (`dialogue_bytes`).
        wanted: the dialogues the options would keep open.
        budget: bytes the batch may use for them; None or 0 for no cap.
    """
    if not budget or per_dialogue <= 0 or per_dialogue * wanted <= budget:
        return wanted, None
    allowed = max(1, budget // per_dialogue)
    if allowed >= wanted:
        return wanted, None
    note = (
        f"each open dialogue holds its own copy of the database (~{per_dialogue / _GB:.2f} GB); "
        f"{wanted} open would need ~{per_dialogue * wanted / _GB:.1f} GB, over the memory budget of "
        f"{budget / _GB:.1f} GB, so only {allowed} will be open at a time "
        "(raise --memory-budget GB to allow more, or 0 for no cap)"
    )
    return allowed, note
