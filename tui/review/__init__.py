"""Reviewing a folder of sessions in the TUI (`turnloom review DIR`, or a folder from the open screen).

Owns the review list (`screen`: filters, sort, labels, progress; `row_list`, `columns`: the
virtual list that paints 10,000 rows at once), a dialogue opened from it (`dialogue`: the
workbench screen with labels, fixes saved back to the same file) and the reason-and-tags
dialog (`label_note`). Reading, filtering and labelling the folder is `core.review`'s.
"""

from __future__ import annotations

from pathlib import Path


def launch(folder: Path, config_path: str | None = None) -> int:
    """Open the review list of `folder` in the TUI and return its exit code (`turnloom review DIR`)."""
    from turnloom.core.config import load_config, settings_path
    from turnloom.tui.review.app import build_review_app

    config = load_config(config_path)
    app = build_review_app(Path(folder), config, settings_file=settings_path(config))
    app.run()
    return app.return_code or 0
