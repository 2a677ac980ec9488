"""A picker over the sessions folder (or any path typed in); dismisses with the chosen file or folder.

Snapshots (`*.session.json`, `*.session.toml`) are listed newest first; a journal whose
snapshot is missing (a session that crashed before its first save) is listed as its
snapshot path, marked "unsaved", since opening that path recovers it. Batch folders (a
`manifest.json` inside, made by `turnloom generate`) are listed after them: the caller
opens those in review.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option


def session_files(folder: Path) -> list[tuple[Path, str]]:
    """(snapshot path, note) for every session in `folder`, newest first.

    Symbolic links in the folder are not listed (a file is only opened through a link the
    user names), and an entry that vanishes or cannot be read is passed over.
    """
    if not folder.is_dir():
        return []
    found: dict[Path, tuple[float, str]] = {}
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for path in entries:
        name = path.name
        try:
            if path.is_symlink() or not path.is_file():
                continue
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if name.endswith((".session.json", ".session.toml")):
            journal = path.with_suffix(".journal")
            found[path] = (mtime, "journal" if journal.exists() else "")
        elif name.endswith(".session.journal"):
            snapshot = path.with_suffix(".json")
            if not snapshot.exists() and not path.with_suffix(".toml").exists():
                found[snapshot] = (mtime, "unsaved")
    return [(p, note) for p, (_, note) in sorted(found.items(), key=lambda item: -item[1][0])]


def batch_folders(folder: Path) -> list[Path]:
    """The folders in `folder` that hold a batch's manifest (`turnloom generate --out`), by name."""
    from turnloom.core.batch.manifest import manifest_path

    try:
        entries = sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return []
    found = []
    for path in entries:
        try:
            if not path.is_symlink() and path.is_dir() and manifest_path(path).is_file():
                found.append(path)
        except OSError:
            continue
    return found


def _modified(path: Path) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    except OSError:
        return ""


class OpenSessionScreen(ModalScreen[Path | None]):
    """Pick a session file (or, with `folders`, a batch folder) from `folder`, or type a path."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, folder: Path, title: str = "Open session", folders: bool = True) -> None:
        super().__init__(classes="dialog-screen")
        self._folder = folder
        self._folders = folders  # list batch folders too (to open in review)
        self._title = title
        self._files: list[Path] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker-dialog") as box:
            box.border_title = self._title
            yield Static(Text(f"Sessions in {self._folder}"), classes="dialog-hint")
            yield OptionList(id="session-files")
            yield Input(
                placeholder="…or type a path (a session file, or a batch folder to review) and press enter",
                id="session-path",
            )

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        for path, note in session_files(self._folder):
            self._files.append(path)
            when = _modified(path)
            label = Text(path.name)
            label.append(f"  {when}", style="dim")
            if note:
                label.append(f"  {note}", style="italic")
            option_list.add_option(Option(label))
        for path in batch_folders(self._folder) if self._folders else []:
            self._files.append(path)
            label = Text(f"{path.name}/")
            label.append("  batch folder: opens in review", style="italic")
            option_list.add_option(Option(label))
        if self._files:
            option_list.highlighted = 0
            option_list.focus()
        else:
            option_list.add_option(Option(Text("(no sessions here yet)"), disabled=True))
            self.query_one(Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index < len(self._files):
            self.dismiss(self._files[event.option_index])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.dismiss(Path(event.value.strip()).expanduser())

    def action_cancel(self) -> None:
        self.dismiss(None)
