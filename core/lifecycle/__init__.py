"""A dialogue's lifecycle: create a session for a domain or database, build its engine and roles.

Owns: `dialogue` (`create_session`, `open_engine`, `fork_session`, `base_image`): the
composition root, the one place that wires the engine to players, tools, rules and
endpoints, and hands the rule checks their knowledge of the domain (the offline players').
`run`, the batch job and the TUI all start dialogues here.
Leaves to others: running the dialogue (engine), where it is saved (storage), many at once
(batch).
"""
