"""turnloom's headless core, in packages by concept (top of the layers first).

    cli/        the `turnloom` command (the only part of core that may use rich)
    batch/      many dialogues into a folder, concurrently and resumably
    quality/    verdicts, metrics, grounding, tool replay      export/  training-data formats
    lifecycle/  the composition root: a session, its engine, roles and tools
    engine/     the dialogue state machine, turn rules, events
    players/    role protocols; offline/ and llm/ role players; role mapping
    endpoint/   OpenAI-compatible endpoints: HTTP, retries, exchange log
    prompts/  rules/  tools/   prompt templates, user-behaviour rules, SQL tools and toolsets
    storage/    snapshots, TOML codec, journal, transcript import
    domains/    built-in domain packs
    models, errors, config     the file format, the exception tree, turnloom.toml

Nothing here imports Textual; only `endpoint.endpoint` imports `openai`. The layers are
import-linter contracts run with the tests.
"""
