"""The LLM role players: user simulator, assistant, task generator, tool simulator, judge, tool forge.

Each builds its prompt from `turnloom.core.prompts` and asks an `endpoint.Endpoint`;
none of them imports `openai` or speaks HTTP.
"""
