"""Sessions on disk: snapshots, their TOML twin, the crash-safe journal, transcript import.

Owns: `snapshot` (`*.session.json`/`*.session.toml`, atomic saves), `toml_codec` (the
lossless JSON<->TOML mapping), `journal` (append-only autosave beside a snapshot),
`transcript_import` (plain chat transcripts as turnloom messages).
Leaves to others: what a session means (models), batch folders (`batch.manifest`).
"""
