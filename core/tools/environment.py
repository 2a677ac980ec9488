"""The tools' world for one dialogue: real SQLite, or a simulator fitting output schemas.

Either way the dialogue has its own copy of the domain database: in `sql`
execution the tools run on it; in `simulated` execution it still grounds tasks
(the task generator samples rows from it) while a tool simulator answers calls.
Unknown or disabled tools and malformed arguments come back as error results.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Protocol

from turnloom.core.models import Session, ToolCall, ToolExecution, ToolSpec
from turnloom.core.tools.sqlenv import MAX_RESULT_BYTES, SqlEnvironment, ToolResult, validate_arguments
from turnloom.core.untrusted import fix_json_escapes, safe_text, strict_loads


class Simulator(Protocol):
    """Answers a call in `simulated` execution; the players' `ToolSimulator` is one.

    `ctx` is the caller's context (the engine's `RoleContext`), passed through untouched: the
    tools know nothing of roles.
    """

    async def simulate(self, ctx: Any, spec: ToolSpec, call: ToolCall) -> str: ...


def error_result(message: str, kind: str) -> ToolResult:
    return ToolResult(
        content=json.dumps({"error": message, "type": kind}, ensure_ascii=False),
        is_error=True,
        write=None,
    )


def call_arguments(call: ToolCall) -> dict | ToolResult:
    """The call's arguments as an object, or the error result a malformed call gets."""
    try:
        arguments = strict_loads(call.arguments)
    except (ValueError, RecursionError) as exc:
        return error_result(f"arguments are not valid JSON: {exc}", "invalid_arguments")
    if not isinstance(arguments, dict):
        return error_result("arguments must be a JSON object", "invalid_arguments")
    return arguments


class ToolEnvironment:
    """Answers one dialogue's tool calls and owns its database copy."""

    def __init__(
        self,
        base_image: bytes,
        execution: ToolExecution = ToolExecution.SQL,
        simulator: Simulator | None = None,
        *,
        max_result_bytes: int = MAX_RESULT_BYTES,
    ) -> None:
        self.base_image = base_image
        self.execution = execution
        self.simulator = simulator
        self.max_result_bytes = max_result_bytes
        self.db = SqlEnvironment(base_image, max_result_bytes=max_result_bytes)

    @property
    def backend_name(self) -> str:
        return "sqlite" if self.execution is ToolExecution.SQL else "simulated"

    async def execute(self, ctx: Any, spec: ToolSpec | None, call: ToolCall) -> ToolResult:
        """Run `call`; every failure is returned as an error result, never raised.

        This is the boundary where tool results enter: their text is made safe to keep,
        write and show (`untrusted.safe_text`), and capped at `max_result_bytes`.
        """
        result = await self._answer(ctx, spec, call)
        content = safe_text(fix_json_escapes(result.content))
        return result if content == result.content else replace(result, content=content)

    async def _answer(self, ctx: Any, spec: ToolSpec | None, call: ToolCall) -> ToolResult:
        if spec is None:
            return error_result(f"unknown or disabled tool {call.name!r}", "unknown_tool")
        arguments = call_arguments(call)
        if isinstance(arguments, ToolResult):
            return arguments
        if self.execution is ToolExecution.SQL and spec.sql:
            return self.db.execute(spec, arguments)
        problem = validate_arguments(spec, arguments)
        if problem is not None:
            return error_result(problem, "invalid_arguments")
        if self.simulator is None:
            return error_result(f"tool {spec.name!r} has no SQL and no simulator", "unavailable")
        content = await self.simulator.simulate(ctx, spec, call)
        size = len(content.encode("utf-8", "surrogatepass"))
        if size > self.max_result_bytes:
            return error_result(
                f"the result is {size} bytes, over the cap of {self.max_result_bytes}", "result_too_large"
            )
        return ToolResult(content=content, is_error=False, write=None)

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        """Read rows from the dialogue's database (for grounding tasks)."""
        return self.db.query(sql, params)

    def reset_to(self, session: Session) -> None:
        """Rebuild the database from the base image and the session's write log."""
        self.db.close()
        self.db = SqlEnvironment.rebuilt(
            self.base_image, session.write_log, None, max_result_bytes=self.max_result_bytes
        )

    def close(self) -> None:
        self.db.close()
