"""One OpenAI-compatible endpoint: requests, replies, HTTP clients, retries, the exchange log, probing.

Owns: `endpoint` (`Endpoint.chat`, the only importer of `openai`), `wire` (the two HTTP
clients), `exchange` (request/result types and JSON surgery), `exchange_log` (every
request/response recorded for audit and exact replay), `structured` (JSON replies that fit a
schema, with repair rounds whose message the caller supplies), `accounting` (usage and cost
per role), `probe` (capability check).
Errors: a failed endpoint raises `BackendError` after retries; an unusable profile raises
`ConfigError`. Leaves to others: what to ask and in which words (players, prompts), and when
(engine).
"""
