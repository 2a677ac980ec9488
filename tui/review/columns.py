"""The review list's columns: what each shows of a `ReviewRow`, how wide it is, what it sorts by.

One table drives the header, the painted rows and sorting, so a column cannot be shown
without a sort key or sorted without a title. The session and label columns share the width
the others leave.
"""

from __future__ import annotations

from dataclasses import dataclass

from turnloom.core.review.index import ReviewRow


@dataclass(frozen=True)
class Column:
    """`key` is what `core.review.filters.sort_rows` sorts by; `share`: of the width the fixed columns leave."""

    key: str
    title: str
    width: int  # the fixed width, or the least width of a column with a share
    share: int = 0


COLUMNS: tuple[Column, ...] = (
    Column("path", "session", 24, share=3),
    Column("domain", "domain", 9),
    Column("mode", "mode", 5),
    Column("messages", "len", 5),
    Column("done", "tasks", 6),
    Column("verdict", "verdict", 10),
    Column("checks", "failed checks", 18),
    Column("label", "label", 14, share=2),
)


def widths(total: int) -> list[int]:
    """Each column's width (a space between columns) for a list `total` cells wide."""
    fixed = sum(c.width for c in COLUMNS if not c.share) + len(COLUMNS) - 1
    left = max(0, total - fixed)
    shares = sum(c.share for c in COLUMNS)
    return [max(c.width, left * c.share // shares) if c.share else c.width for c in COLUMNS]


def verdict_text(row: ReviewRow) -> str:
    """`accepted`, `rejected`, or `unreadable` (a file the index could not read: its problem is the title)."""
    if row.accepted is None:
        return "unreadable"
    return "accepted" if row.accepted else "rejected"


def label_text(row: ReviewRow) -> str:
    """`keep`, `drop: reason`, `needs-fix #tag`: the label with its reason and tags, or nothing."""
    if row.label is None:
        return ""
    text = row.label
    if row.reason:
        text += f": {row.reason}"
    if row.tags:
        text += " " + " ".join(f"#{tag}" for tag in row.tags)
    return text


def cells(row: ReviewRow) -> list[str]:
    """The row's text in each column, in `COLUMNS` order."""
    stem = row.path.removesuffix(".json").removesuffix(".toml").removesuffix(".session")
    title = f"{stem}  {row.title or row.session_id}"
    mode = "task" if row.mode.startswith("task") else "user"
    return [
        title,
        row.domain,
        mode,
        str(row.messages),
        f"{row.tasks_done}/{row.tasks}",
        verdict_text(row),
        ", ".join(row.failed_checks),
        label_text(row),
    ]
