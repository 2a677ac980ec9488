"""turnloom's headless core: models, engine, roles, backends, environments, store, CLI.

Nothing here imports Textual; only `backends.openai_backend` imports `openai`.
"""
