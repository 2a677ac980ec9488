"""Seed tools from a file: the example tools question generation starts from (`--seed-tools FILE`).

The paper seeds its question stage with tools from a tool dataset. A seed-tools file is
OpenAI function-calling JSON, in any of these shapes:

- a JSON array of tools, or an object with a `tools` array;
- JSONL: one tool per line, or one record per line whose `tools` holds several (the
  layout of tool datasets such as Nemotron's, where `tools` may also be a JSON string).

A tool is `{"type": "function", "function": {name, description, parameters}}` or the bare
`{name, description, parameters}`. Each is checked on load: a name of letters, digits, `_`
and `-` (OpenAI's rule), a string description, parameters that are a JSON Schema object;
a fault names the file, the line (JSONL) or position and the field. Tools with the same
name are kept once. Leaves to others: what the question stage does with them
(`players.llm.forge`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from turnloom.core.errors import ToolsetError
from turnloom.core.models import ToolOrigin, ToolSpec
from turnloom.core.tools.artifact_files import read_artifact
from turnloom.core.tools.toolset import TOOL_NAME


def load_seed_tools(path: str | Path) -> list[ToolSpec]:
    """The tools of a seed-tools file, in file order, each name once.

    Raises:
        ToolsetError: the file is missing, not JSON/JSONL, holds no tool, or a tool is
            malformed (naming the file, the line or index, and the field).
    """
    file = Path(path)
    text = read_artifact(file, "--seed-tools", ToolsetError)
    tools: dict[str, ToolSpec] = {}
    for where, raw in _entries(file, text):
        spec = _tool(file, where, raw)
        tools.setdefault(spec.name, spec)
    if not tools:
        raise ToolsetError(f"--seed-tools {file}: no tool in it (expected OpenAI function-calling JSON or JSONL)")
    return list(tools.values())


def _entries(file: Path, text: str) -> list[tuple[str, Any]]:
    """(where, raw tool) for every tool of the file, JSON or JSONL."""
    stripped = text.strip()
    try:
        whole = json.loads(stripped) if stripped else None
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, list):
        return [(f"tool {i}", raw) for i, raw in enumerate(whole)]
    if isinstance(whole, dict) and "tools" in whole and not _is_tool(whole):
        return [(f"tools[{i}]", raw) for i, raw in enumerate(_tool_list(file, "the file", whole["tools"]))]
    entries: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ToolsetError(
                f"--seed-tools {file}: line {number} is not JSON ({exc.msg}, column {exc.colno}); "
                "give a JSON array of tools or one JSON object per line"
            ) from None
        if isinstance(record, dict) and "tools" in record and not _is_tool(record):
            listed = _tool_list(file, f"line {number}", record["tools"])
            entries += [(f"line {number}, tools[{i}]", raw) for i, raw in enumerate(listed)]
        else:
            entries.append((f"line {number}", record))
    return entries


def _tool_list(file: Path, where: str, value: Any) -> list[Any]:
    if isinstance(value, str):  # datasets often store the list as a JSON string
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ToolsetError(
                f"--seed-tools {file}: {where}: field 'tools' is a string but not JSON ({exc.msg})"
            ) from None
    if not isinstance(value, list):
        raise ToolsetError(f"--seed-tools {file}: {where}: field 'tools' must be a list of tools")
    return value


def _is_tool(record: dict[str, Any]) -> bool:
    return "function" in record or "name" in record


def _tool(file: Path, where: str, raw: Any) -> ToolSpec:
    def fault(field: str, problem: str) -> ToolsetError:
        return ToolsetError(f"--seed-tools {file}: {where}: field {field!r} {problem}")

    if not isinstance(raw, dict):
        raise ToolsetError(f"--seed-tools {file}: {where}: a tool must be a JSON object, not {type(raw).__name__}")
    function = raw.get("function", raw)
    prefix = "function." if "function" in raw else ""
    if not isinstance(function, dict):
        raise fault("function", "must be an object with name, description and parameters")
    name = function.get("name")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise fault(f"{prefix}name", "must be 1-64 letters, digits, '_' or '-'")
    description = function.get("description", "")
    if not isinstance(description, str):
        raise fault(f"{prefix}description", "must be a string")
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
        raise fault(f"{prefix}parameters", 'must be a JSON Schema with "type": "object"')
    try:
        jsonschema.Draft202012Validator.check_schema(parameters)
    except jsonschema.SchemaError as exc:
        raise fault(f"{prefix}parameters", f"is not a valid JSON Schema ({exc.message})") from None
    parameters = {"type": "object", "properties": {}, "required": [], **parameters}
    return ToolSpec(name=name, description=description, parameters=parameters, origin=ToolOrigin.IMPORTED)
