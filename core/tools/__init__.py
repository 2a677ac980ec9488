"""Tools and the world they run in: a dialogue's SQLite copy, schema introspection, derived tools, toolsets.

Owns: `sqlenv` (one dialogue's database: runs tool SQL, keeps the write log), `sql_guards`
(the SQL authorizer, the clock guard), `schema` (what a SQLite schema holds), `derive` (tools
derived from a schema offline), `toolset` (toolset files and the checks a dialogue's tools
must pass), `dbimage` (serialized base images dialogues copy), `environment` (the tool
executor: real SQL, or any simulator fitting output schemas).
Leaves to others: who calls the tools and who simulates them (players), when (engine), and
how an LLM writes them (`players.llm.forge`).
"""
