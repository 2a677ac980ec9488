"""The dialogue engine: an explicit state machine over a session, its turn rules and its events.

Owns: `engine` (`DialogueEngine`: propose, commit, step, run, fork), `turns` (whose turn it
is and whether to stop: pure functions of the transcript), `events` (what the engine tells
its consumers), `preview` (the next user turn under other rules, without touching the dialogue).
Leaves to others: building a dialogue and its rule checker (lifecycle), saving it (storage,
through the recorder it is given), what a role says (players), what a rule means (rules).
"""
