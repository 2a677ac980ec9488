"""Tools and the world they run in: a dialogue's SQLite copy, schema introspection, derived tools, toolsets.

Owns: `sqlenv` (one dialogue's database and the SQL authorizer), `schema` (what a SQLite
schema holds), `derive` (tools derived from a schema offline), `toolset` (toolset files and
the checks a dialogue's tools must pass), `dbimage` (serialized base images dialogues copy),
`environment` (the tool executor: real SQL, or a simulator fitting output schemas).
Leaves to others: who calls the tools (players), when (engine), and how an LLM writes them
(`players.llm.forge`).
"""
