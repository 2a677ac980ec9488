"""The role players: protocols, the offline backend and the LLM backend side by side.

Owns: `roles` (the role protocols and the context they are called with), `offline/` (every
role played deterministically from the seed), `llm/` (every role on an OpenAI-compatible
endpoint), `setup` (which backend plays which role, and the shared endpoints), `forging`
(making a toolset offline or on an endpoint).
Leaves to others: HTTP, retries and exchange logs (endpoint), prompt texts (prompts), whose
turn it is (engine), what a tool does (tools), a task's progress (`domains.progress`).
"""
