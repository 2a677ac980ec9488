"""Plausible answers for every turnloom role, computed from the request alone (the fake's "auto" mode).

The role of a request is read from the first line of its system prompt
("# Role: ..."). Answers are deterministic: the same request gets the same
answer, so recorded runs replay exactly.
"""

from __future__ import annotations

import json
import re
from typing import Any

ROLE_MARKERS = (
    ("# Role: user simulator", "user"),
    ("# Role: assistant", "assistant"),
    ("# Role: descriptive task generator", "task"),
    ("# Role: tool simulator", "tool"),
    ("# Role: rubric judge", "judge"),
    ("# Role: forge - question generation", "forge_questions"),
    ("# Role: forge - tool generation", "forge_tools"),
    ("# Role: forge - tool expansion", "forge_expansion"),
    ("# Role: forge - output schema prediction", "forge_schemas"),
    ("# Role: forge - SQL tool generation", "forge_sql"),
)


def role_of(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    first = messages[0].get("content") if messages and messages[0].get("role") == "system" else ""
    for marker, role in ROLE_MARKERS:
        if (first or "").startswith(marker):
            return role
    return "unknown"


def auto_reply(body: dict[str, Any]) -> dict[str, Any]:
    """A reply `{"content", "tool_calls"}` for `body`."""
    role = role_of(body)
    messages = body.get("messages") or []
    if role == "assistant":
        return _assistant(messages, body.get("tools") or [])
    handler = {
        "user": _user,
        "task": _task,
        "tool": lambda m: _tool(m, body),
        "judge": lambda m: {"judgment": "valid", "reasoning": "All critical checks pass."},
        "forge_questions": _questions,
        "forge_tools": _tools,
        "forge_expansion": _expansion,
        "forge_schemas": _schema,
        "forge_sql": _sql,
    }.get(role)
    if handler is None:
        return _generic(body)
    return {"content": json.dumps(handler(messages))}


# ---------------------------------------------------------------- roles


def _generic(body: dict[str, Any]) -> dict[str, Any]:
    """Any other request (e.g. `turnloom check`): honour response_format and tools."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return {"content": json.dumps(instance(fmt["json_schema"].get("schema")))}
    if fmt.get("type") == "json_object":
        return {"content": json.dumps({"answer": "OK"})}
    tools = body.get("tools") or []
    if tools and body["messages"][-1]["role"] == "user":
        return {"content": "", "tool_calls": [{"name": tools[0]["function"]["name"], "arguments": "{}"}]}
    return {"content": "OK, here is my answer to that."}


def _user(messages: list[dict[str, Any]]) -> dict[str, Any]:
    goal_at = max(
        (i for i, m in enumerate(messages) if m["role"] == "user" and "## Your" in (m.get("content") or "")), default=0
    )
    block = messages[goal_at].get("content") or ""
    steps = re.findall(r"^\d+\. (.+)$", block.split("Steps of this goal:", 1)[-1].split("\n\n", 1)[0], re.M)
    replies = sum(1 for m in messages[goal_at:] if m["role"] == "assistant")
    first_ever = not any(m["role"] == "assistant" for m in messages)
    if replies < len(steps):
        step = steps[replies].rstrip(".")
        lead = (
            "Hi! Could you help me?"
            if first_ever
            else ("Thanks, that helps." if replies else "Great, thanks. Next thing:")
        )
        return {
            "user_message": f"{lead} {step[0].upper()}{step[1:]}, please.",
            "subtasks": [replies + 1],
            "is_task_complete": False,
        }
    return {"user_message": "That solves it, thanks!", "subtasks": [], "is_task_complete": True}


def _assistant(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
    last = messages[-1] if messages else {"role": "user"}
    if last["role"] == "tool":
        return {"content": f"Here is what I found: {str(last.get('content'))[:160]}"}
    if last["role"] != "user" or not tools:
        return {"content": "How can I help you today?"}
    turns = sum(1 for m in messages if m["role"] == "user")
    candidates = [t["function"] for t in tools if not t["function"].get("parameters", {}).get("required")]
    candidates = [f for f in candidates if f["name"].startswith(("search_", "get_", "list_"))] or candidates
    if not candidates:
        return {"content": "Could you tell me a bit more?"}
    chosen = candidates[turns % len(candidates)]
    props = chosen.get("parameters", {}).get("properties", {})
    arguments = {"limit": 3} if "limit" in props else {}
    return {"content": "", "tool_calls": [{"name": chosen["name"], "arguments": json.dumps(arguments)}]}


def _task(messages: list[dict[str, Any]]) -> dict[str, Any]:
    prompt = messages[-1].get("content") or ""
    tables = re.findall(r"^(\w+) \(\d+ rows\):", prompt, re.M) or ["record"]
    number = int((re.search(r"Write task number (\d+)", prompt) or [0, 1])[1])
    difficulty = (re.search(r"of difficulty (\w+)", prompt) or [0, "medium"])[1]
    table = tables[(number - 1) % len(tables)]
    return {
        "goal": f"The customer wants to review the {table} records and then check one of them closely.",
        "difficulty": difficulty,
        "subtasks": [
            {"description": f"list a few {table} records"},
            {"description": f"look at one of the {table} records in detail"},
        ],
        "rubric": [f"calls a search tool for {table}", "reports only values from tool results"],
    }


def instance(schema: Any, name: str = "value") -> Any:
    """A value that fits a JSON Schema (the common subset)."""
    if not isinstance(schema, dict) or not schema:
        return {"ok": True}
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: instance(sub, key) for key, sub in props.items()}
    if kind == "array":
        return [instance(schema.get("items") or {"type": "string"}, name)]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 12.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if schema.get("format") in ("date", "date-time"):
        return "2025-03-01"
    return f"{name} sample"


def _tool(messages: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") if fmt.get("type") == "json_schema" else None
    if schema is None:
        called = re.search(r"Call: (\w+)", messages[-1].get("content") or "")
        listing = messages[0].get("content") or ""
        for line in listing.splitlines():
            if called and line.startswith("{") and f'"name": "{called[1]}"' in line:
                schema = {"type": "object", "properties": {"result": json.loads(line)["output_schema"]}}
    return instance(schema or {"type": "object", "properties": {"result": {}}})


def _questions(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"questions": [f"Can you find record number {n} and tell me its status?" for n in range(1, 23)]}


def _tool_spec(name: str, required: list[str], props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name.replace('_', ' ')}.",
            "parameters": {"type": "object", "properties": props, "required": required},
        },
    }


def _tools(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tools": [
            _tool_spec("search_records", [], {"query": {"type": "string", "description": "Text to match."}}),
            _tool_spec(
                "get_record_by_id", ["record_id"], {"record_id": {"type": "integer", "description": "Record id."}}
            ),
        ]
    }


def _expansion(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "analysis": "Records lack an update path.",
        "tools": [
            _tool_spec(
                "update_record_status",
                ["record_id", "status"],
                {
                    "record_id": {"type": "integer", "description": "Record id."},
                    "status": {"type": "string", "enum": ["open", "closed"], "description": "New status."},
                },
            ),
        ],
    }


def _schema(messages: list[dict[str, Any]]) -> dict[str, Any]:
    tool = json.loads(messages[-1]["content"].split("Tool:", 1)[1])
    item = {
        "type": "object",
        "properties": {"record_id": {"type": "integer"}, "status": {"type": "string"}},
        "required": ["record_id"],
    }
    name = tool["function"]["name"] if "function" in tool else tool.get("name", "")
    return {"output_schema": {"type": "array", "items": item} if name.startswith("search_") else item}


def _sql(messages: list[dict[str, Any]]) -> dict[str, Any]:
    prompt = messages[0].get("content") or ""
    tools = []
    for table, columns in re.findall(r"CREATE TABLE \"?(\w+)\"?\s*\((.*?)\);", prompt, re.S):
        first = columns.strip().split()[0].strip('"')
        tools.append(
            {
                "name": f"get_{table}_row_by_{first}",
                "description": f"One {table} row by {first}.",
                "sql": f'SELECT * FROM "{table}" WHERE "{first}" = :{first}',
            }
        )
        tools.append(
            {
                "name": f"search_{table}_rows",
                "description": f"Some {table} rows.",
                "sql": f'SELECT * FROM "{table}" LIMIT :limit',
            }
        )
    tools.append(
        {
            "name": "get_broken_report",
            "description": "Refers to a missing column.",
            "sql": "SELECT no_such_column FROM sqlite_master WHERE name = :name",
        }
    )
    return {"tools": tools}
