"""Verify a saved session: re-execute every recorded tool call and compare the results.

For SQL execution the calls run, in transcript order, against a fresh copy of the
session's base database, exactly as the engine ran them (unknown or disabled tools
and malformed arguments give the same error results; writes persist for the calls
after them). Each result is compared with the recorded one, each write with the
session's write log, and the final state with the state the write log rebuilds.

Simulated results cannot be re-derived, so for them only what can be checked is:
the tool exists, the arguments parse and fit its parameter schema (or, when they
do not, the recorded result is the error the engine would have given), and the
result fits the tool's output schema. Imported tool results (from a transcript)
are skipped: nothing turnloom ran produced them.

Printing the report is left to the `replay` command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from turnloom.core.lifecycle.dialogue import base_image
from turnloom.core.models import ChatMessage, Provenance, Role, Session, ToolCall, ToolExecution, WriteRecord
from turnloom.core.tools.environment import call_arguments, error_result
from turnloom.core.tools.sqlenv import SqlEnvironment, ToolResult, WriteEffect, validate_arguments
from turnloom.core.untrusted import SchemaRefError, offline_validator


@dataclass(frozen=True)
class Difference:
    """One tool result (or write) that did not come out as recorded."""

    message_index: int
    tool_call_id: str
    tool: str
    what: str  # a short description of the mismatch
    recorded: str = ""
    replayed: str = ""


@dataclass
class VerifyReport:
    """What `verify_session` checked and what differed."""

    execution: ToolExecution
    checked: int = 0  # tool results compared (or schema-checked, when simulated)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (message index, why)
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    state_digest: str | None = None  # the database after every call, SQL execution only

    @property
    def ok(self) -> bool:
        return not self.differences


def verify_session(session: Session, upto: int | None = None) -> VerifyReport:
    """Re-execute (or, when simulated, schema-check) every recorded tool call.

    Args:
        session: the session to check; it is not changed.
        upto: check only the first `upto` messages (all when None).

    Returns:
        The report; `report.ok` is True when nothing differed.

    Raises:
        DatabaseError: the session's database is missing or unusable.
        DomainError: the session's domain is unknown.
    """
    messages = session.messages if upto is None else session.messages[:upto]
    report = VerifyReport(session.config.execution)
    image = base_image(session)
    if session.config.execution is ToolExecution.SIMULATED:
        report.notes.append("tool results were simulated: checked tools, arguments and output schemas only")
    with SqlEnvironment(image) as db:
        _check_calls(session, messages, db, report)
        report.state_digest = db.state_digest()
        writes = [w for w in session.write_log if w.message_index < len(messages)]
        with SqlEnvironment.rebuilt(image, writes) as rebuilt:
            if rebuilt.state_digest() != report.state_digest:
                report.differences.append(
                    Difference(len(messages), "", "", "the final database differs from the one the write log rebuilds")
                )
    return report


def _check_calls(session: Session, messages: list[ChatMessage], db: SqlEnvironment, report: VerifyReport) -> None:
    calls: dict[str, ToolCall] = {}
    writes = {w.message_index: w for w in session.write_log}
    for index, message in enumerate(messages):
        if message.role is Role.ASSISTANT:
            for made in message.tool_calls:
                calls[made.id] = made
            continue
        if message.role is not Role.TOOL:
            continue
        call = calls.get(message.tool_call_id or "")
        if message.meta.provenance is Provenance.IMPORTED or call is None:
            report.skipped.append((index, "imported result: not produced by turnloom"))
            continue
        report.checked += 1
        if session.config.execution is ToolExecution.SIMULATED or _simulated_tool(session, call):
            _check_simulated(session, index, message, call, report)
            continue
        result = replay_call(session, db, call, message)
        recorded = message.content or ""
        if result.content != recorded or result.is_error != message.meta.tool_error:
            what = "result differs" if result.content != recorded else "error flag differs"
            report.differences.append(Difference(index, call.id, call.name, what, recorded, result.content))
        _check_write(index, call, result.write, writes.get(index), report)


def replay_call(session: Session, db: SqlEnvironment, call: ToolCall, recorded: ChatMessage) -> ToolResult:
    """Run one recorded call on `db` the way the engine's SQL environment did.

    A tool disabled now may have been enabled when it was called: it is treated as
    disabled only if the recorded result says so.

    Args:
        session: the session (its tools).
        db: the database, at the state just before the call.
        call: the call.
        recorded: the recorded tool message answering it.

    Returns:
        The result the call gives now.
    """
    spec = session.tool(call.name)
    disabled = call.name in session.disabled_tools and _error_type(recorded.content) == "unknown_tool"
    if spec is None or disabled:
        return error_result(f"unknown or disabled tool {call.name!r}", "unknown_tool")
    arguments = call_arguments(call)
    return arguments if isinstance(arguments, ToolResult) else db.execute(spec, arguments)


def _simulated_tool(session: Session, call: ToolCall) -> bool:
    """A call the engine answered with the tool simulator even under SQL execution."""
    spec = session.tool(call.name)
    return spec is not None and not spec.sql


def _check_write(
    index: int, call: ToolCall, effect: WriteEffect | None, logged: WriteRecord | None, report: VerifyReport
) -> None:
    if effect is None and logged is None:
        return
    if effect is None or logged is None:
        what = (
            "the write log has a write here that did not happen again"
            if effect is None
            else ("the call wrote to the database, but the write log has no record of it")
        )
        report.differences.append(Difference(index, call.id, call.name, what))
        return
    replayed = {"sql": effect.sql, "params": effect.params, "rowcount": effect.rowcount, "lastrowid": effect.lastrowid}
    kept = {"sql": logged.sql, "params": logged.params, "rowcount": logged.rowcount, "lastrowid": logged.lastrowid}
    if _canonical(replayed) != _canonical(kept) or logged.tool_call_id != call.id:
        report.differences.append(
            Difference(
                index, call.id, call.name, "write differs from the write log", _canonical(kept), _canonical(replayed)
            )
        )


def _check_simulated(session: Session, index: int, message: ChatMessage, call: ToolCall, report: VerifyReport) -> None:
    spec = session.tool(call.name)
    kind = _error_type(message.content)
    problem: str | None
    if spec is None:
        problem = f"unknown tool {call.name!r}"
        expected_error = "unknown_tool"
    else:
        try:
            problem = validate_arguments(spec, json.loads(call.arguments))
        except json.JSONDecodeError as exc:
            problem = f"arguments are not valid JSON: {exc}"
        expected_error = "invalid_arguments"
    if problem is not None:
        if kind != expected_error and not message.meta.tool_error:
            report.differences.append(
                Difference(index, call.id, call.name, f"recorded a result, but the call is invalid: {problem}")
            )
        return
    if message.meta.tool_error:
        report.differences.append(
            Difference(index, call.id, call.name, "recorded an error, but the call is valid", message.content or "")
        )
        return
    if spec is not None and spec.output_schema:
        misfit = _output_misfit(spec.output_schema, message.content)
        if misfit:
            report.differences.append(
                Difference(
                    index, call.id, call.name, f"result does not fit the output schema: {misfit}", message.content or ""
                )
            )


def _output_misfit(schema: dict[str, Any], content: str | None) -> str | None:
    try:
        value = json.loads(content or "null")
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc})"
    try:
        validator = offline_validator(schema)  # references resolved offline only: nothing fetched
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    except jsonschema.SchemaError as exc:
        return f"the tool's output schema is invalid: {exc.message}"
    except SchemaRefError as exc:
        return f"the tool's output schema {exc}"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where + ': ' if where else ''}{error.message}"


def _error_type(content: str | None) -> str | None:
    try:
        value = json.loads(content or "null")
    except json.JSONDecodeError:
        return None
    if isinstance(value, dict) and isinstance(value.get("type"), str) and "error" in value:
        return value["type"]
    return None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
