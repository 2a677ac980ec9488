"""Reviewing a folder of sessions: one row per session, kept in an index file, filtered, labelled.

Owns: `index` (`ReviewRow`, the `review-index.json` beside a batch's manifest, rebuilt only
for the files that changed), `filters` (what the review view narrows and sorts by, and the
text search across messages), `labels` (the curator's keep / drop / needs-fix call, saved
in the session file). Leaves to others: judging a dialogue (`quality.verdict`), reading and
saving session files (`storage`), showing the rows (`cli.review_cmd`, the TUI's review screen).
"""
