"""LLM backends: every role on any OpenAI-compatible endpoint.

    build_roles(session, config, environment, setup=None) -> RoleSet     (setup)
    BackendSetup.create(config, record=..., cache=[...])                  (setup)
    resolve_role_map(config, profile, role_args) -> {role: profile name}  (setup)
    Endpoint(name, profile).chat(ChatRequest) -> ChatResult               (openai_backend)

Modules: `openai_backend` (the wire: the only importer of `openai`), `exchange`
(request/result types, reasoning and JSON surgery), `structured` (JSON replies
with repair rounds), `cache` (exchange log and replay cache), `user`,
`assistant`, `tasks`, `toolsim`, `judge` (role players), `forge` (LLM tool
forge), `setup` (role mapping), `accounting` (usage and cost per role),
`probe` (capability check).

Errors: a failed endpoint raises `BackendError` (after retries); an unknown
profile or unusable mapping raises `ConfigError`. Nothing here imports
`openai` until a backend module is imported, so offline use never loads it.
"""

from __future__ import annotations
