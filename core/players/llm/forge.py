"""The LLM tool forge: questions -> tools -> expansion -> output schemas, and SQL tools.

The stages follow the method's tool-preparation module, each a separate call so
any stage can start from a stored artifact:

- `questions`: 20-30 realistic user questions for a domain, from seed tools;
- `tools_for`: tools (OpenAI function format) that together answer one question;
- `expand`: up to 10 complementary, non-trivial tools for a toolset;
- `output_schemas`: the JSON Schema of every tool's return value, predicted in
  ONE multi-turn conversation so shared fields keep one type;
- `sql_tools`: `{name, description, sql}` tools grounded in a SQLite schema; each
  is dry-run on a scratch copy with arguments drawn from the data and kept only
  if it runs (the rest come back in `ForgeReport.dropped` with the reason).

Tools a stage cannot use (bad name, bad schema) are listed in `LLMForge.dropped`.
Derived (introspected) SQL tools are `turnloom.core.tools.derive`'s business; running
the stages into a toolset is `turnloom.core.players.forging`'s.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from typing import Any, Literal

import jsonschema

from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.endpoint.exchange import ChatRequest
from turnloom.core.endpoint.structured import Spend, ask_json
from turnloom.core.models import ToolOrigin, ToolSpec
from turnloom.core.prompts import json_repair, render
from turnloom.core.tools.derive import LIMIT_SCHEMA, ForgeReport, value_schema
from turnloom.core.tools.sqlenv import SqlEnvironment
from turnloom.core.tools.toolset import sql_problem, table_columns

NAME = re.compile(r"^(get|search|create|update|delete)_[a-z0-9_]{1,58}$")
PARAM = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
MAX_QUESTIONS, MIN_QUESTIONS, MAX_EXPANSION = 30, 20, 10
_ANY = {"type": "object"}


def _listing(tools: list[ToolSpec]) -> str:
    return "\n".join(json.dumps(t.to_openai(), ensure_ascii=False, sort_keys=True) for t in tools) or "(none)"


def parse_tool(raw: Any) -> tuple[ToolSpec | None, str | None]:
    """A `ToolSpec` from a function-format dict, or None and why it is not a usable tool."""
    if not isinstance(raw, dict):
        return None, "not a function object"
    function = raw.get("function", raw)
    if not isinstance(function, dict):
        return None, "not a function object"
    name, parameters = function.get("name"), function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(name, str) or not NAME.match(name):
        return None, "the name is not snake_case with a get_/search_/create_/update_/delete_ prefix"
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        return None, 'its parameters are not a JSON Schema of "type": "object"'
    try:
        jsonschema.Draft202012Validator.check_schema(parameters)
    except jsonschema.SchemaError as exc:
        return None, f"its parameters are not a valid JSON Schema ({exc.message})"
    parameters.setdefault("properties", {})
    parameters.setdefault("required", [])
    return ToolSpec(
        name=name,
        description=str(function.get("description") or name.replace("_", " ")),
        parameters=parameters,
        origin=ToolOrigin.GENERATED,
    ), None


class LLMForge:
    """The forge stages, played by one endpoint; `spend` sums what they cost.

    `dropped` collects (stage, name, reason) for every generated tool the tool and
    expansion stages could not use.
    """

    def __init__(self, endpoint: Endpoint, seed: int = 0) -> None:
        self.endpoint = endpoint
        self.seed = seed
        self.spend = Spend()
        self.dropped: list[tuple[str, str, str]] = []

    def _new_tools(self, stage: str, raw: list[Any], existing: list[ToolSpec]) -> list[ToolSpec]:
        """The usable tools of `raw` whose names are new; unusable ones go to `dropped`.

        A name that exists already is the model reusing a tool, as the prompt asks: skipped quietly.
        """
        taken = {t.name for t in existing}
        out = []
        for item in raw:
            spec, reason = parse_tool(item)
            if spec is None:
                self.dropped.append((stage, _raw_name(item), str(reason)))
            elif spec.name not in taken:
                taken.add(spec.name)
                out.append(spec)
        return out

    async def _ask(self, stage: str, messages: list[dict[str, Any]], check=None) -> Any:
        request = ChatRequest(
            role="forge", messages=messages, schema=_ANY, schema_name=stage, strict_schema=False, seed=self.seed
        )
        reply = await ask_json(self.endpoint, request, check=check, repair=json_repair)
        self.spend.merge(reply.spend)
        return reply

    async def questions(self, domain: str, seed_tools: list[ToolSpec]) -> list[str]:
        """20-30 distinct questions that need tools."""

        def check(value: Any) -> str | None:
            items = value.get("questions") if isinstance(value, dict) else None
            if not isinstance(items, list) or len({str(q).strip() for q in items if str(q).strip()}) < MIN_QUESTIONS:
                return f'give {MIN_QUESTIONS}-{MAX_QUESTIONS} distinct questions in "questions"'
            return None

        system = render(
            "forge_questions.md",
            domain=domain,
            count_min=MIN_QUESTIONS,
            count_max=MAX_QUESTIONS,
            seed_tools=_listing(seed_tools),
        )
        reply = await self._ask(
            "questions",
            [{"role": "system", "content": system}, {"role": "user", "content": "Write the questions."}],
            check,
        )
        seen: dict[str, None] = {}
        for q in reply.value["questions"]:
            seen.setdefault(str(q).strip(), None)
        return [q for q in seen if q][:MAX_QUESTIONS]

    async def tools_for(self, domain: str, question: str, existing: list[ToolSpec]) -> list[ToolSpec]:
        """Tools that together answer `question`; existing names are not redefined."""
        system = render("forge_tools.md", domain=domain, existing=_listing(existing), question=question)
        reply = await self._ask(
            "tools",
            [{"role": "system", "content": system}, {"role": "user", "content": "Design the tools."}],
            _has_tools,
        )
        return self._new_tools("tools", reply.value["tools"], existing)

    async def expand(self, domain: str, tools: list[ToolSpec]) -> list[ToolSpec]:
        """Up to 10 complementary tools (possibly none)."""
        system = render("forge_expansion.md", domain=domain, limit=MAX_EXPANSION, tools=_listing(tools))
        reply = await self._ask(
            "expansion",
            [{"role": "system", "content": system}, {"role": "user", "content": "Propose the new tools."}],
            _has_tools,
        )
        return self._new_tools("expansion", reply.value["tools"], tools)[:MAX_EXPANSION]

    async def output_schemas(
        self,
        domain: str,
        tools: list[ToolSpec],
        done: list[dict[str, Any]] | None = None,
        on_reply: Callable[[int, dict[str, Any]], None] | None = None,
    ) -> list[ToolSpec]:
        """Every tool with its predicted output schema, from one growing conversation.

        Args:
            domain: what the tools are for.
            tools: the toolset, in order.
            done: the replies of an interrupted conversation over the same tools, one per
                tool from the first: they are its turns again and are not asked for.
            on_reply: called with each new reply and its tool's index as it comes (the forge
                saves its progress).
        """
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": render("forge_output_schemas.md", domain=domain)}
        ]
        given = list(done or [])
        out = []
        for index, spec in enumerate(tools):
            messages.append(
                {
                    "role": "user",
                    "content": render(
                        "forge_output_schema_turn.md", tool=json.dumps(spec.to_openai(), ensure_ascii=False)
                    ),
                }
            )
            if index < len(given) and _has_schema(given[index]) is None:
                value = given[index]
            else:
                given = []  # a reply that does not hold a schema: the conversation goes on from here
                value = (await self._ask("output_schema", messages, _has_schema)).value
                if on_reply is not None:
                    on_reply(index, value)
            messages.append({"role": "assistant", "content": json.dumps(value, ensure_ascii=False)})
            out.append(spec.model_copy(update={"output_schema": value["output_schema"]}))
        return out

    async def sql_tools(self, image: bytes, existing: list[ToolSpec], limit: int = 20) -> ForgeReport:
        """SQL tools for the database `image`, each kept only if it runs on a scratch copy."""
        columns = table_columns(image)
        schema = _schema_text(image)
        system = render("forge_sql_tools.md", schema=schema, existing=_listing(existing), limit=limit)
        reply = await self._ask(
            "sql_tools",
            [{"role": "system", "content": system}, {"role": "user", "content": "Write the SQL tools."}],
            _has_tools,
        )
        report = ForgeReport()
        taken = {t.name for t in existing}
        with SqlEnvironment(image) as env:
            for raw in reply.value["tools"][:limit]:
                spec, reason = _sql_spec(raw, columns, taken)
                if spec is not None:
                    reason = sql_problem(spec, env, columns)
                if reason:
                    report.dropped.append((_raw_name(raw), reason))
                else:
                    assert spec is not None  # _sql_spec gives no spec only with a reason
                    taken.add(spec.name)
                    report.tools.append(spec)
        return report


def _has_tools(value: Any) -> str | None:
    if not isinstance(value, dict) or not isinstance(value.get("tools"), list):
        return 'put the tools in a "tools" array'
    return None


def _has_schema(value: Any) -> str | None:
    schema = value.get("output_schema") if isinstance(value, dict) else None
    if not isinstance(schema, dict) or schema.get("type") not in ("object", "array"):
        return 'give "output_schema" as a JSON Schema whose type is "object" or "array"'
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return f"output_schema is not a valid JSON Schema: {exc.message}"
    return None


def _schema_text(image: bytes) -> str:
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(image))
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return "\n".join(f"{r[0]};" for r in rows if r[0])
    finally:
        conn.close()


def _sql_spec(raw: Any, columns: dict[str, dict[str, str]], taken: set[str]) -> tuple[ToolSpec | None, str | None]:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("name", "sql")):
        return None, "not a {name, description, sql} object"
    name, sql = raw["name"], raw["sql"].strip().rstrip(";")
    if not NAME.match(name):
        return None, "the name is not snake_case with a get_/search_/create_/update_/delete_ prefix"
    if name in taken:
        return None, "another tool already has this name"
    declared = {c: t for table in columns.values() for c, t in table.items()}
    properties: dict[str, Any] = {}
    for param in dict.fromkeys(PARAM.findall(sql)):
        if param == "limit":
            properties[param] = dict(LIMIT_SCHEMA)
        else:
            base = param.removesuffix("_pattern").removeprefix("new_")
            schema = {"type": "string"} if param.endswith("_pattern") else value_schema(declared.get(base, "TEXT"))
            properties[param] = dict(schema, description=param.replace("_", " ") + ".")
    writes = sql.split(None, 1)[0].upper() in WRITES if sql else False
    required = [p for p in properties if p != "limit"]
    returns: Literal["one", "many"] | None = (
        None if writes else ("one" if name.startswith("get_") and "_by_" in name else "many")
    )
    spec = ToolSpec(
        name=name,
        description=str(raw.get("description") or name.replace("_", " ")),
        parameters={"type": "object", "properties": properties, "required": required},
        sql=sql,
        returns=returns,
        writes=writes,
        origin=ToolOrigin.GENERATED,
    )
    return spec, None


def _raw_name(item: Any) -> str:
    function = item.get("function", item) if isinstance(item, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    return name if isinstance(name, str) and name else "(unnamed)"
