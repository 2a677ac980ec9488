"""Is a dialogue fit to train on: verdicts, metrics, grounding, tool replay and re-runs.

Owns: `verdict` (one verdict per dialogue, with reasons), `grounding` (values the assistant
states come from tool results), `metrics` and `dataset_stats` (the paper's Table 1 and more),
`tool_replay` (re-execute recorded tool calls), `rerun` (re-run from the seed and compare).
Leaves to others: exporting (export) and generating (batch, lifecycle).
"""
