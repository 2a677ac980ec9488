"""Every curator action in one table: its binding id, default key, palette title and help line.

Bindings, the command palette and the help screen are all built from `ACTIONS`, so an
action cannot have a key without a palette entry or a help line. Keys are remapped by
binding id through the config's `[keys]` table (`App.set_keymap`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

# "review": the review list; "label": the review list and a dialogue opened from it
Scope = Literal["app", "main", "replay", "review", "label"]


@dataclass(frozen=True)
class ActionSpec:
    """One action: `id` (remappable), `key`, the Textual `action`, `category: title`, help."""

    id: str
    key: str
    action: str
    category: str
    title: str
    help: str
    scope: Scope = "main"
    show: bool = True
    label: str = ""  # the footer's shorter word for it (default: the title); the footer has 80 columns at worst

    @property
    def palette_name(self) -> str:
        return f"{self.category}: {self.title}"


ACTIONS: tuple[ActionSpec, ...] = (
    # dialogue
    ActionSpec("step", "n", "step", "Dialogue", "Step", "Generate and commit the next message"),
    ActionSpec(
        "auto_run",
        "a",
        "toggle_auto_run",
        "Dialogue",
        "Auto-run",
        "Start or stop auto-run (stops after the message in flight)",
    ),
    ActionSpec("pause", "escape", "pause", "Dialogue", "Pause", "Pause auto-run and cancel any generation in flight"),
    ActionSpec(
        "override",
        "o",
        "override",
        "Dialogue",
        "Override user turn",
        "Write the next user turn yourself, starting from the simulator's proposal",
        label="Override",
    ),
    ActionSpec(
        "more_task",
        "t",
        "more_task",
        "Dialogue",
        "One more task",
        "Add another task to the dialogue, a finished one too; the simulator brings it up next",
        show=False,
    ),
    ActionSpec(
        "edit",
        "e",
        "edit",
        "Dialogue",
        "Edit message",
        "Edit the selected message; later messages are dropped and the database rebuilt",
        label="Edit",
    ),
    ActionSpec(
        "regenerate",
        "r",
        "regenerate",
        "Dialogue",
        "Regenerate",
        "Drop the selected message and everything after it, then generate it again (or draw a held proposal again)",
    ),
    ActionSpec(
        "undo",
        "ctrl+z",
        "undo",
        "Dialogue",
        "Undo",
        "Go back to before the last edit, regenerate, override or cut; what replaced it is kept as a branch",
        show=False,
    ),
    ActionSpec(
        "commit_held",
        "c",
        "commit_held",
        "Dialogue",
        "Commit held proposal",
        "Commit, as it is, the user turn auto-run held back for breaking a rule",
        show=False,
    ),
    ActionSpec(
        "expand",
        "x",
        "expand",
        "View",
        "Expand or collapse",
        "Show the selected message in full, or truncate it again",
        show=False,
    ),
    ActionSpec(
        "toggle_tool",
        "d",
        "toggle_tool",
        "Tools",
        "Disable or enable tool",
        "Disable the highlighted tool for the rest of the dialogue (or enable it again)",
        show=False,
    ),
    ActionSpec(
        "rule_preview",
        "p",
        "rule_preview",
        "Rules",
        "Preview",
        "Show or hide the next user turn under the changed rules beside the current rules",
        show=False,
    ),
    # session
    ActionSpec(
        "fork",
        "f",
        "fork",
        "Session",
        "Fork",
        "Fork a new session ending at the selected message; the parent is untouched",
    ),
    ActionSpec(
        "save", "ctrl+s", "save", "Session", "Save", "Save the session snapshot (folds in the autosave journal)"
    ),
    ActionSpec("open", "ctrl+o", "open", "Session", "Open", "Open a session from the sessions folder"),
    ActionSpec(
        "new",
        "ctrl+n",
        "new",
        "Session",
        "New",
        "Start a new session: domain or .sqlite file, mode, execution, backend, seed, tasks",
    ),
    ActionSpec(
        "replay",
        "ctrl+r",
        "replay",
        "Session",
        "Replay",
        "Replay a saved session read-only, step by step, and branch from any point",
    ),
    ActionSpec(
        "export",
        "ctrl+e",
        "export",
        "Session",
        "Export",
        "Export this session as training data (OpenAI, HF, ShareGPT, Hermes)",
        show=False,
    ),
    ActionSpec(
        "truncate",
        "delete",
        "truncate",
        "Dialogue",
        "Cut here",
        "Drop the selected message and everything after it (kept as a branch: ctrl+z brings them back)",
        show=False,
    ),
    # review list (turnloom review DIR)
    ActionSpec(
        "review_search",
        "slash",
        "focus_search",
        "Review",
        "Search messages",
        "Type a text to find in the sessions' messages (enter or escape goes back to the list)",
        scope="review",
    ),
    ActionSpec(
        "review_rejected",
        "v",
        "toggle_rejected",
        "Review",
        "Rejected only",
        "Show only the sessions the quality verdict rejected, or all again",
        scope="review",
    ),
    ActionSpec(
        "review_unlabelled",
        "u",
        "toggle_unlabelled",
        "Review",
        "Unlabelled only",
        "Show only the sessions with no label yet, or all again",
        scope="review",
    ),
    ActionSpec(
        "review_check",
        "c",
        "next_check",
        "Review",
        "Filter by check",
        "Show only the sessions a given check rejected; press again for the next check, then all",
        scope="review",
        show=False,
    ),
    ActionSpec(
        "review_domain",
        "d",
        "next_domain",
        "Review",
        "Filter by domain",
        "Show only one domain's sessions; press again for the next domain, then all",
        scope="review",
        show=False,
    ),
    ActionSpec(
        "review_sort",
        "s",
        "next_sort",
        "Review",
        "Sort by next column",
        "Sort the list by the next column (a click on a column title sorts by it)",
        scope="review",
    ),
    ActionSpec(
        "review_reverse",
        "S",
        "reverse_sort",
        "Review",
        "Reverse sort",
        "Reverse the order of the list",
        scope="review",
        show=False,
    ),
    ActionSpec(
        "review_close",
        "escape",
        "close",
        "Review",
        "Back",
        "Leave the search box; from the list, go back to the workbench it was opened from",
        scope="review",
        show=False,
    ),
    # labels, in the review list and in a dialogue opened from it
    ActionSpec(
        "label_keep", "1", "label('keep')", "Label", "Keep", "Label the session keep (saved at once)", scope="label"
    ),
    ActionSpec(
        "label_drop", "2", "label('drop')", "Label", "Drop", "Label the session drop (saved at once)", scope="label"
    ),
    ActionSpec(
        "label_fix",
        "3",
        "label('needs-fix')",
        "Label",
        "Needs fix",
        "Label the session needs-fix (saved at once)",
        scope="label",
    ),
    ActionSpec(
        "label_clear", "0", "label('')", "Label", "Clear", "Remove the session's label", scope="label", show=False
    ),
    ActionSpec(
        "label_reason",
        "w",
        "label_reason",
        "Label",
        "Reason and tags",
        "Write why (a reason) and tags for the session's label",
        scope="label",
    ),
    ActionSpec(
        "next_unlabelled",
        "right_square_bracket",
        "unlabelled(1)",
        "Label",
        "Next unlabelled",
        "Go to the next session with no label in the list",
        scope="label",
    ),
    ActionSpec(
        "prev_unlabelled",
        "left_square_bracket",
        "unlabelled(-1)",
        "Label",
        "Previous unlabelled",
        "Go to the previous session with no label in the list",
        scope="label",
        show=False,
    ),
    # replay screen
    ActionSpec("replay_forward", "right", "forward", "Replay", "Step forward", "Show the next message", scope="replay"),
    ActionSpec("replay_back", "left", "back", "Replay", "Step back", "Hide the last shown message", scope="replay"),
    ActionSpec(
        "replay_end",
        "shift+right",
        "to_end",
        "Replay",
        "Jump to end",
        "Show the whole transcript",
        scope="replay",
        show=False,
    ),
    ActionSpec(
        "replay_start",
        "shift+left",
        "to_start",
        "Replay",
        "Jump to start",
        "Show no message yet",
        scope="replay",
        show=False,
    ),
    ActionSpec(
        "replay_expand",
        "x",
        "expand",
        "Replay",
        "Expand or collapse",
        "Show the selected message in full, or truncate it again",
        scope="replay",
        show=False,
    ),
    ActionSpec(
        "replay_branch",
        "b",
        "branch",
        "Replay",
        "Branch here",
        "Fork a new session from the messages shown and continue it",
        scope="replay",
    ),
    ActionSpec(
        "replay_close",
        "escape",
        "close",
        "Replay",
        "Close replay",
        "Leave replay and go back to the workbench",
        scope="replay",
    ),
    # app-wide
    ActionSpec(
        "theme",
        "ctrl+t",
        "next_theme",
        "View",
        "Switch theme",
        "Cycle through the available themes",
        scope="app",
        show=False,
    ),
    ActionSpec("help", "f1", "help", "App", "Help", "List every action with its key", scope="app"),
    ActionSpec(
        "help_alt",
        "question_mark",
        "help",
        "App",
        "Help (?)",
        "List every action with its key",
        scope="app",
        show=False,
    ),
    ActionSpec(
        "palette",
        "ctrl+p",
        "command_palette",
        "App",
        "Command palette",
        "Search every action by name",
        scope="app",
        show=False,
        label="Palette",
    ),
    ActionSpec("quit", "q", "quit_app", "App", "Quit", "Quit (asks first if something is unsaved)", scope="app"),
)


def bindings_for(scope: Scope) -> list[BindingType]:
    """Textual bindings for the actions of `scope`, each with its id for remapping."""
    return [
        Binding(a.key, a.action, a.label or a.title, show=a.show, id=a.id, tooltip=a.help)
        for a in ACTIONS
        if a.scope == scope
    ]


def effective_key(spec: ActionSpec, keymap: dict[str, str]) -> str:
    """The key an action answers to once the config's remaps are applied."""
    return keymap.get(spec.id, spec.key)
