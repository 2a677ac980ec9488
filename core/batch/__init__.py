"""Batch generation: N dialogues into a folder, concurrently and resumably.

Owns: `run` (`generate`: plans the batch, keeps the manifest and the counts, handles Ctrl-C),
`job` (one dialogue of a batch: open or resume its file, run it, report its outcome),
`executors` (where dialogues run: asyncio tasks, worker processes, Ray) and `event_loops`
(one event loop per core for endpoint batches), `pool_worker` (a worker process leaves
Ctrl-C to its parent and dies with it), `manifest` (the folder's record of what was
asked and where each dialogue stands), `progress` (the counts, reported through a
`ProgressReport`).
Leaves to others: how a dialogue is built and runs (lifecycle, engine), how it is judged
(quality), and drawing the progress (the command line's `cli.render.ProgressLine`).
"""
