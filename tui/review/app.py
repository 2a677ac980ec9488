"""The app opened on a review list instead of the workbench: same themes, keys, palette, help and quit."""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen

from turnloom.core.config import TurnloomConfig
from turnloom.tui.app import TurnloomApp
from turnloom.tui.review.screen import ReviewScreen


class ReviewApp(TurnloomApp):
    """`turnloom review DIR`: the review list of `folder`; opening a row works as in the workbench."""

    CSS_PATH = str(
        Path(__file__).parents[1] / "app.tcss"
    )  # the workbench's (a relative one is read beside this module)

    def __init__(
        self,
        folder: Path,
        config: TurnloomConfig,
        theme_dirs: list[Path] | None = None,
        settings_file: Path | None = None,
    ) -> None:
        super().__init__(config, None, theme_dirs, settings_file)
        self.folder = folder
        self.sub_title = f"review {folder}"

    def first_screen(self) -> Screen[None]:
        return ReviewScreen(self.folder, self.config)


def build_review_app(
    folder: Path,
    config: TurnloomConfig | None = None,
    theme_dirs: list[Path] | None = None,
    settings_file: Path | None = None,
) -> ReviewApp:
    """The review app on `folder` (the factory `launch`, the tests and the benchmark use).

    `settings_file`: where a theme picked in the app is saved, as in the workbench; None writes nothing.
    """
    return ReviewApp(folder, config or TurnloomConfig(), theme_dirs, settings_file)
