"""A dialogue's lifecycle: create a session for a domain or database, build its engine and roles.

The composition root: the only place that wires the engine to players, tools, rules and
endpoints. `run`, the batch job and the TUI all start dialogues here.
"""
