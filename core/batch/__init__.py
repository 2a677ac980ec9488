"""Batch generation: N dialogues into a folder, concurrently and resumably.

Owns: `run` (the batch driver), `job` (one dialogue of a batch), `executors` and
`event_loops` (asyncio tasks, worker processes, Ray), `manifest` (the batch folder's
record of what was asked and where each dialogue stands), `progress` (live counts).
Leaves to others: how a dialogue runs (lifecycle, engine) and how it is judged (quality).
"""
