"""The offline tool simulator: results that fit each tool's output schema and stay consistent.

Used in `simulated` execution. Records are remembered per dialogue by entity and
key, so asking for order 12 twice gives the same order, an update shows up in
the next read, and a created record can be fetched. The memory is re-derived
from the transcript when the transcript is cut (fork, edit, regenerate), so it
never holds anything the dialogue does not.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timedelta

from turnloom.core.models import ChatMessage, Role, Session, ToolCall, ToolSpec
from turnloom.core.players.roles import RoleContext

FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun")
LAST_NAMES = ("Lopez", "Okafor", "Schmidt", "Tanaka", "Rossi", "Novak", "Haddad", "Silva")
WORDS = ("alpha", "cedar", "harbor", "maple", "orbit", "quartz", "summit", "willow")


def entity_of(tool: str) -> str:
    name = tool.split("_", 1)[1] if "_" in tool else tool
    # summaries are kept apart from the records they summarise
    return name.split("_by_")[0]


class OfflineToolSimulator:
    def __init__(self) -> None:
        self._records: dict[str, dict[str, dict]] = {}
        self._session_id: str | None = None
        self._seen = 0
        self._next_id = 1000

    async def simulate(self, ctx: RoleContext, spec: ToolSpec, call: ToolCall) -> str:
        self._catch_up(ctx.session)
        arguments = call.parsed_arguments()
        rng = random.Random(_digest(ctx.session.config.seed, spec.name, call.arguments, len(ctx.session.messages)))
        result = self._answer(spec, arguments, rng, ctx.session)
        return json.dumps(result, ensure_ascii=False)

    # ------------------------------------------------------------ memory

    def _catch_up(self, session: Session) -> None:
        """Fold tool results committed since the last call into memory (replay after a cut)."""
        if self._session_id != session.id or self._seen > len(session.messages):
            self._records.clear()
            self._seen = 0
            self._next_id = 1000
            self._session_id = session.id
        calls: dict[str, ToolCall] = {}
        for message in session.messages[max(0, self._seen - 16) : self._seen]:
            for call in message.tool_calls:
                calls[call.id] = call
        for message in session.messages[self._seen :]:
            self._observe(session, message, calls)
        self._seen = len(session.messages)

    def _observe(self, session: Session, message: ChatMessage, calls: dict[str, ToolCall]) -> None:
        if message.role is Role.ASSISTANT:
            for call in message.tool_calls:
                calls[call.id] = call
            return
        if message.role is not Role.TOOL or message.meta.tool_error:
            return
        call = calls.get(message.tool_call_id or "")
        spec = session.tool(call.name) if call else None
        if call is None or spec is None:
            return
        try:
            result = json.loads(message.content or "null")
        except json.JSONDecodeError:
            return
        self._remember(spec, call.parsed_arguments(), result)

    def _remember(self, spec: ToolSpec, arguments: dict, result: object) -> None:
        table = self._records.setdefault(entity_of(spec.name), {})
        if spec.name.startswith("update_") and "id" in arguments:
            record = table.get(str(arguments["id"]))
            if record is not None:
                record.update({k: v for k, v in arguments.items() if k != "id"})
        elif spec.name.startswith("delete_") and "id" in arguments:
            table.pop(str(arguments["id"]), None)
        elif spec.name.startswith("create_") and isinstance(result, dict) and result.get("lastrowid") is not None:
            table[str(result["lastrowid"])] = {"id": result["lastrowid"], **arguments}
            self._next_id = max(self._next_id, int(result["lastrowid"]) + 1)
        else:
            rows = result if isinstance(result, list) else [result]
            for row in rows:
                if isinstance(row, dict) and "id" in row:
                    table.setdefault(str(row["id"]), dict(row))

    # ------------------------------------------------------------ answers

    def _answer(self, spec: ToolSpec, arguments: dict, rng: random.Random, session: Session) -> object:
        schema = spec.output_schema or {"type": "object", "properties": {}}
        table = self._records.setdefault(entity_of(spec.name), {})
        if spec.writes or spec.name.startswith(("create_", "update_", "delete_")):
            if spec.name.startswith("create_"):
                new_id = self._next_id
                return {"rowcount": 1, "lastrowid": new_id}
            exists = "id" not in arguments or str(arguments["id"]) in table or rng.random() < 0.9
            return {"rowcount": 1 if exists else 0}
        if _is_array(schema):
            item_schema = schema.get("items", {"type": "object"})
            rows = [self._complete(r, item_schema, rng, session) for r in table.values() if _matches(r, arguments)]
            if not rows:
                rows = [self._fabricate(item_schema, arguments, rng, session) for _ in range(rng.randint(1, 3))]
            limit = arguments.get("limit")
            return rows[: int(limit)] if isinstance(limit, int) and limit > 0 else rows
        keys = [k for k in arguments if k != "limit"]
        if len(keys) == 1 and keys[0] == "id" and str(arguments["id"]) in table:
            return self._complete(table[str(arguments["id"])], schema, rng, session)
        for record in table.values():
            if keys and all(str(record.get(k)) == str(arguments[k]) for k in keys):
                return self._complete(record, schema, rng, session)
        return self._fabricate(schema, arguments, rng, session)

    def _complete(self, record: dict, schema: dict, rng: random.Random, session: Session) -> dict:
        """Fill the fields a remembered record lacks (a create gave only some), keeping them."""
        for name, prop in _object_properties(schema).items():
            if name not in record:
                record[name] = _value(name, prop, rng, session)
        return record

    def _fabricate(self, schema: dict, arguments: dict, rng: random.Random, session: Session) -> dict:
        properties = _object_properties(schema)
        record = {}
        for name, prop in properties.items():
            if name in arguments:
                record[name] = arguments[name]
            else:
                record[name] = _value(name, prop, rng, session)
        return record


def _digest(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


def _is_array(schema: dict) -> bool:
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def _object_properties(schema: dict) -> dict:
    if "properties" in schema:
        return schema["properties"]
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        if isinstance(option, dict) and "properties" in option:
            return option["properties"]
    return {}


def _matches(record: dict, arguments: dict) -> bool:
    for key, value in arguments.items():
        if key == "limit" or value is None or key not in record:
            continue
        if isinstance(value, str) and isinstance(record[key], str):
            if value.lower() not in record[key].lower():
                return False
        elif record[key] != value:
            return False
    return True


def _value(name: str, prop: dict, rng: random.Random, session: Session) -> object:
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if "enum" in prop:
        options = [v for v in prop["enum"] if v is not None]
        return rng.choice(options) if options else None
    if kind == "integer":
        return rng.randint(1, 500)
    if kind == "number":
        return round(rng.uniform(1, 500), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("array", "object"):
        return [] if kind == "array" else {}
    fmt = prop.get("format")
    reference = datetime.fromisoformat(session.reference_time or "2025-06-01T12:00:00+00:00")
    if fmt == "date" or name.endswith("date") or name.endswith("_on"):
        return (reference + timedelta(days=rng.randint(-60, 60))).date().isoformat()
    if fmt == "date-time" or name.endswith("_at"):
        return (reference + timedelta(hours=rng.randint(-500, 500))).isoformat()
    if "email" in name:
        return f"{rng.choice(FIRST_NAMES).lower()}.{rng.choice(LAST_NAMES).lower()}@example.com"
    if name.endswith("name"):
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return f"{rng.choice(WORDS)}-{rng.randint(10, 99)}"
