"""The TUI's screens: the main workbench screen (with its session, rule-preview and held-proposal
flows as mixins) and the modal dialogs it opens (new, open, export, replay, editor, help, choices).

Leaves to others: the panes they show (`widgets`), the session they act on (`workbench`).
"""
