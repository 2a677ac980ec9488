"""The `[keys]` table of turnloom.toml checked before it is applied: ids, key names, clashes.

`checked_keymap(keys)` returns the remaps that can be applied and one note per problem:
an unknown binding id, a key name Textual would never send (`[/x]`, `ctrl+banana`), or two
actions that would answer to the same key (`step = "e"` leaves Edit without one). A remap
that clashes is still applied — it is what the user asked for — but the note names the
action left without a key, so it does not go missing silently.
"""

from __future__ import annotations

from collections import defaultdict

from textual.keys import Keys, key_to_character

from turnloom.tui.actions import ACTIONS, ActionSpec, effective_key

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# the scopes whose bindings are live at the same time (app-wide ones are live on every screen; labels
# in the review list and in a dialogue opened from it)
LIVE_TOGETHER = (("main", "label", "app"), ("review", "label", "app"), ("replay", "app"))


def _base_key_names() -> frozenset[str]:
    names = set()
    for key in Keys:
        names.add(key.value.rsplit("+", 1)[-1])
    return frozenset(names)


def is_key_name(text: str) -> bool:
    """Whether `text` names a key Textual can deliver: `n`, `ctrl+s`, `f5`, `question_mark`, `shift+right`."""
    *modifiers, base = text.strip().split("+")
    if not base or any(m not in MODIFIERS for m in modifiers):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    if base in _base_key_names():
        return True
    try:
        return key_to_character(base) is not None
    except (KeyError, ValueError):
        return False


def checked_keymap(keys: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The applicable remaps of `keys` (binding id -> key, comma-separated alternatives) and a note per problem."""
    known = {spec.id: spec for spec in ACTIONS}
    notes: list[str] = []
    keymap: dict[str, str] = {}
    unknown = sorted(set(keys) - set(known))
    if unknown:
        ids = ", ".join(spec.id for spec in ACTIONS)
        notes.append(f"[keys] names unknown binding id(s): {', '.join(unknown)}; the ids are: {ids}")
    for binding_id, key in keys.items():
        if binding_id not in known:
            continue
        bad = [part for part in str(key).split(",") if not is_key_name(part)]
        if bad or not str(key).strip():
            notes.append(
                f"[keys] {binding_id} = {key!r}: not a key name (try 'n', 'ctrl+s', 'f5', 'shift+right'); "
                f"keeping {known[binding_id].key!r}"
            )
            continue
        keymap[binding_id] = str(key)
    notes.extend(clashes(keymap))
    return keymap, notes


def clashes(keymap: dict[str, str]) -> list[str]:
    """One note per key that two live actions would share once `keymap` is applied."""
    notes = []
    for scopes in LIVE_TOGETHER:
        by_key: dict[str, list[ActionSpec]] = defaultdict(list)
        for spec in ACTIONS:
            if spec.scope in scopes:
                for key in effective_key(spec, keymap).split(","):
                    by_key[key.strip()].append(spec)
        for key, specs in by_key.items():
            remapped = [s for s in specs if s.id in keymap]
            if len(specs) > 1 and remapped:
                others = [s for s in specs if s not in remapped] or specs[1:]
                names = ", ".join(f"{s.title} ({s.id})" for s in others)
                notes.append(
                    f"[keys] {remapped[0].id} = {key!r} takes the key of {names}, which is left without one; "
                    f"give it another key in [keys]"
                )
    return notes
