"""The TUI's panes: the transcript (with provenance badges, task and violation marks), the tools
and rules panes, the rule preview and the status line.

Leaves to others: what happens when a key is pressed (`screens`), the session (`workbench`).
"""
