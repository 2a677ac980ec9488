"""The offline tool simulator: answers tool calls from one dialogue's simulated world.

Used in `simulated` execution. The world (`world.SimulatedWorld`) starts from the
domain's data and changes with every write, so writes persist, ids stay put,
repeated reads agree and summaries add up. Its state is derived from the
session alone: the seed, the database the session starts from, and the writes
in the transcript. When the transcript is cut (fork, edit, regenerate) or a
call answered here never reached it, the world is rebuilt by replaying the
transcript's tool results, so it never holds anything the dialogue does not.
How each tool reads or changes the world is read from the tool (`plans`).
"""

from __future__ import annotations

import json
import random
import weakref
from datetime import datetime

from turnloom.core.models import ChatMessage, Role, Session, ToolCall, ToolSpec
from turnloom.core.players.offline.plans import ToolKind, ToolPlan, plan_for
from turnloom.core.players.offline.values import invent
from turnloom.core.players.offline.world import Reader, SimulatedWorld, digest
from turnloom.core.players.roles import RoleContext

DEFAULT_REFERENCE = "2025-06-01T12:00:00+00:00"


class OfflineToolSimulator:
    """Answers `simulated` tool calls from a per-dialogue world.

    Args:
        environment: the dialogue's `ToolEnvironment`; its database seeds the world's tables
            (None: every record is invented).
    """

    def __init__(self, environment=None) -> None:
        # weakly: the environment holds this simulator, and a cycle would outlive the dialogue
        self._environment = weakref.ref(environment) if environment is not None else None
        self._plans: dict[str, ToolPlan] = {}
        self._rows: dict[str, dict] = {}  # table -> the fields of its records, from the tools that read them
        self._world: SimulatedWorld | None = None
        self._session_id: str | None = None
        self._seen = 0
        self._live: set[str] = set()  # ids of writes answered here, not yet seen in the transcript

    async def simulate(self, ctx: RoleContext, spec: ToolSpec, call: ToolCall) -> str:
        """The result of `call`, as JSON text fitting the tool's output schema."""
        world = self._catch_up(ctx.session)
        result = self._answer(world, ctx.session, spec, call.parsed_arguments(), call)
        if self._plan(spec).kind in (ToolKind.CREATE, ToolKind.UPDATE, ToolKind.DELETE):
            self._live.add(call.id)
        return json.dumps(result, ensure_ascii=False)

    # ------------------------------------------------------------ state

    def _catch_up(self, session: Session) -> SimulatedWorld:
        """The world as of the session's transcript, folding in what was committed since the last call."""
        messages = session.messages
        if self._world is None or self._session_id != session.id or self._seen > len(messages):
            return self._rebuild(session)
        calls = _calls_before(messages, self._seen)
        fresh: list[tuple[ToolCall, ChatMessage]] = []
        for message in messages[self._seen :]:
            if message.role is Role.ASSISTANT:
                calls.update({c.id: c for c in message.tool_calls})
            elif message.role is Role.TOOL and message.tool_call_id in calls:
                fresh.append((calls[message.tool_call_id], message))
        committed = {call.id for call, _ in fresh}
        if not self._live <= committed:
            return self._rebuild(session)  # a write answered here was dropped: the world must not keep it
        for call, message in fresh:
            if call.id not in self._live:
                self._replay(self._world, session, call, message)
        self._live.clear()
        self._seen = len(messages)
        return self._world

    def _rebuild(self, session: Session) -> SimulatedWorld:
        reference = datetime.fromisoformat(session.reference_time or DEFAULT_REFERENCE)
        read: Reader | None = _reader(self._environment) if self._environment is not None else None
        world = SimulatedWorld(session.config.seed, reference, read)
        calls: dict[str, ToolCall] = {}
        for message in session.messages:
            if message.role is Role.ASSISTANT:
                calls.update({c.id: c for c in message.tool_calls})
            elif message.role is Role.TOOL and message.tool_call_id in calls:
                self._replay(world, session, calls[message.tool_call_id], message)
        self._world, self._session_id, self._seen = world, session.id, len(session.messages)
        self._live.clear()
        return world

    def _replay(self, world: SimulatedWorld, session: Session, call: ToolCall, message: ChatMessage) -> None:
        """Apply one recorded result: writes change the world, read rows are kept as shown."""
        spec = session.tool(call.name)
        if spec is None or message.meta.tool_error:
            return
        try:
            result = json.loads(message.content or "null")
        except json.JSONDecodeError:
            return
        if isinstance(result, dict) and "error" in result and len(result) <= 3:
            return
        plan, arguments = self._plan(spec), call.parsed_arguments()
        fields = self._row_fields(session, plan)
        if plan.kind is ToolKind.CREATE and isinstance(result, dict) and isinstance(result.get("lastrowid"), int):
            world.create(plan, arguments, fields, new_id=result["lastrowid"])
        elif plan.kind is ToolKind.UPDATE and isinstance(result, dict) and result.get("rowcount"):
            world.update(plan, arguments, fields)
        elif plan.kind is ToolKind.DELETE and isinstance(result, dict) and result.get("rowcount"):
            world.delete(plan, arguments)
        elif plan.kind in (ToolKind.LOOKUP, ToolKind.LIST):
            rows = result if isinstance(result, list) else [result]
            world.remember(plan, [r for r in rows if isinstance(r, dict)], fields)

    def _row_fields(self, session: Session, plan: ToolPlan) -> dict:
        """The fields of `plan`'s table's records, as the tools that read the table show them."""
        fields = self._rows.get(plan.table)
        if fields is None:
            fields = {}
            for spec in session.tools:
                if self._plan(spec).table == plan.table and self._plan(spec).kind in (ToolKind.LOOKUP, ToolKind.LIST):
                    fields = {**_fields(spec), **fields}
            if not fields and plan.kind is ToolKind.CREATE:
                fields = {column: {"type": "string"} for column in plan.sets.values()}
            self._rows[plan.table] = fields
        return fields

    def _plan(self, spec: ToolSpec) -> ToolPlan:
        plan = self._plans.get(spec.name)
        if plan is None:
            plan = self._plans[spec.name] = plan_for(spec)
        return plan

    # ------------------------------------------------------------ answers

    def _answer(
        self, world: SimulatedWorld, session: Session, spec: ToolSpec, arguments: dict, call: ToolCall
    ) -> object:
        plan = self._plan(spec)
        fields = self._row_fields(session, plan) if plan.kind is not ToolKind.SUMMARY else {}
        if plan.kind is ToolKind.CREATE:
            return {"rowcount": 1, "lastrowid": world.create(plan, arguments, fields)}
        if plan.kind is ToolKind.UPDATE:
            return {"rowcount": world.update(plan, arguments, fields)}
        if plan.kind is ToolKind.DELETE:
            return {"rowcount": world.delete(plan, arguments)}
        if plan.kind is ToolKind.LOOKUP:
            record = world.lookup(plan, arguments, fields)
            return _shape(record, fields) if record is not None else None
        if plan.kind is ToolKind.LIST:
            return [_shape(r, fields) for r in world.listing(plan, arguments, fields)]
        if plan.kind is ToolKind.SUMMARY:
            return world.summary(plan, arguments, fields)
        return _other(spec, arguments, world, session, call)


def _reader(environment: weakref.ref) -> Reader:
    """Reads the environment's database while it lives, without keeping it alive."""

    def read(sql: str) -> list[dict]:
        target = environment()
        if target is None:
            raise LookupError("the dialogue's environment is gone")
        return target.query(sql)

    return read


def _fields(spec: ToolSpec) -> dict:
    """The record fields a tool's output shows: its row schema's properties (of the items, for an array)."""
    schema = spec.output_schema or {}
    if schema.get("type") == "array" or (isinstance(schema.get("type"), list) and "array" in schema["type"]):
        schema = schema.get("items", {})
    if "properties" in schema:
        return schema["properties"]
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        if isinstance(option, dict) and "properties" in option:
            return option["properties"]
    return {}


def _shape(record: dict, fields: dict) -> dict:
    return {name: record.get(name) for name in fields} if fields else dict(record)


def _calls_before(messages: list[ChatMessage], seen: int) -> dict[str, ToolCall]:
    """Calls made just before `seen` whose results may be committed after it."""
    calls: dict[str, ToolCall] = {}
    for message in messages[max(0, seen - 16) : seen]:
        calls.update({c.id: c for c in message.tool_calls})
    return calls


def _other(spec: ToolSpec, arguments: dict, world: SimulatedWorld, session: Session, call: ToolCall) -> object:
    """A tool that is not about records of a table: a result invented to its schema, the same for the same call."""
    rng = random.Random(digest(world.seed, spec.name, json.dumps(arguments, sort_keys=True)))
    schema = spec.output_schema or {"type": "object", "properties": {}}
    fields = _fields(spec)
    record = {
        name: arguments[name] if name in arguments else invent(name, prop, rng, reference=world.reference)
        for name, prop in fields.items()
    }
    _reconcile(record)
    kind = schema.get("type")
    return [record] if kind == "array" or (isinstance(kind, list) and "array" in kind) else record


def _reconcile(record: dict) -> None:
    """Make an invented record's numbers agree: quantity × unit price = total, average × count = total."""
    quantity, price = record.get("quantity"), record.get("unit_price", record.get("price"))
    for total in ("total", "line_total", "amount", "subtotal"):
        if total in record and all(isinstance(v, (int, float)) for v in (quantity, price, record[total])):
            record[total] = round(quantity * price, 2)  # type: ignore[operator]
    for name in list(record):
        if name.startswith(("avg_", "average_")):
            base = name.split("_", 1)[1]
            count = next((record[k] for k in record if k.endswith("count") and isinstance(record[k], int)), None)
            if isinstance(count, int) and f"total_{base}" in record and isinstance(record[name], (int, float)):
                record[f"total_{base}"] = round(record[name] * count, 2)
