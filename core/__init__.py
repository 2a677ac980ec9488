"""turnloom's headless core, in packages by concept (top of the layers first).

    cli/        the headless `turnloom` commands (the only part of core that may use rich)
    batch/      many dialogues into a folder, concurrently and resumably
    quality/    verdicts, metrics, grounding, tool replay      export/  training-data formats
    lifecycle/  the composition root: a session, its engine, roles and tools
    engine/     the dialogue state machine, turn rules, events, the rule preview
    players/    role protocols; offline/ and llm/ role players; role mapping
    endpoint/   OpenAI-compatible endpoints: HTTP, retries, exchange log
    prompts/  rules/  tools/   prompt templates, user-behaviour rules, SQL tools and toolsets
    storage/    snapshots, TOML codec, journal, transcript import
    domains/    built-in domain packs, and a task's progress read against their intents
    models, config              the file format, turnloom.toml
    errors                      the exception tree, under everything

A layer imports only the layers below it, and the packages of one line do not import each
other; nothing here imports Textual or names the TUI (`turnloom.tui` sits on top and
launches the command line); only `endpoint.endpoint` imports `openai`. These are the
import-linter contracts in pyproject.toml, run by `make test` (and tests/test_layers.py).
"""
