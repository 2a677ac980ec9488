"""ShareGPT for LLaMA-Factory: `{"conversations", "system", "tools"}` per line.

Turns are `human`, `gpt`, `function_call` and `observation`, and LLaMA-Factory drops any
record whose turns do not strictly alternate (human/observation, then gpt/function_call).
So, deliberately:

- an assistant message with tool calls becomes one `function_call` whose value is the JSON
  text `{"name", "arguments": {...}}` (a JSON list of those for parallel calls); any text
  the assistant wrote beside its calls is dropped, since the format has no place for it;
- the results of those calls become one `observation` (the format allows no two in a row):
  the result text for a single call; for parallel calls the results in the order they ran,
  separated as `result\n</tool_response>\n<tool_response>\nresult`, so the templates that wrap
  an observation in one `<tool_response>` block (qwen, qwen3, hermes-style) render one block
  per result, as those models were trained. A result holding those tags is refused. For a
  template without them (llama3, glm4), export with `--parallel-calls sequential`: each call
  is then its own `function_call` -> `observation` pair;
- consecutive user messages are merged into one `human` turn, and consecutive assistant
  replies into one `gpt` turn (joined by a blank line); assistant text directly followed by
  an assistant's calls is dropped like text beside calls;
- a leading system message becomes `system`; a system message anywhere else, or a first
  turn that is not the user's, rejects the record;
- `tools` is a JSON string of the function schemas (name, description, parameters);
- a kept reasoning trace opens its `gpt` turn as `<think>\n...\n</think>\n\n` (LLaMA-Factory's
  reasoning templates read it there); a `function_call` has no room for one, so it is dropped.
"""

from __future__ import annotations

import json
from typing import Any

from turnloom.core.export.options import ExportOptions
from turnloom.core.export.record_checks import RecordRejected, check_sharegpt_order
from turnloom.core.export.toolsets import ListedTools
from turnloom.core.models import ChatMessage, Role, Session

RESPONSE_TAGS = ("<tool_response>", "</tool_response>")
RESULT_SEPARATOR = "\n</tool_response>\n<tool_response>\n"


def build(session: Session, messages: list[ChatMessage], tools: ListedTools, options: ExportOptions) -> dict[str, Any]:
    """One training example.

    Args:
        session: the session (for context only).
        messages: the transcript to export (already checked by `check_messages`).
        tools: the tools to list (made portable once per toolset: `toolsets`).
        options: the export's options (`keep_reasoning`).

    Returns:
        The JSON-ready record.

    Raises:
        RecordRejected: a misplaced system message, turns that cannot alternate, or a
            parallel call's result holding a `<tool_response>` tag.
    """
    system = ""
    if messages and messages[0].role is Role.SYSTEM:
        system, messages = messages[0].content or "", messages[1:]
    turns: list[dict[str, str]] = []
    results: list[str] = []
    for index, message in enumerate(messages):
        if message.role is not Role.TOOL and results:
            turns.append({"from": "observation", "value": _observation(results)})
            results = []
        if message.role is Role.SYSTEM:
            raise RecordRejected(
                f"message {index + (1 if system else 0)} is a system message inside "
                "the conversation; sharegpt allows one, at the start"
            )
        if message.role is Role.TOOL:
            results.append(message.content or "")
            if any(tag in results[-1] for tag in RESPONSE_TAGS):
                raise RecordRejected(f"message {index + (1 if system else 0)} (tool) contains a <tool_response> tag")
        elif message.role is Role.USER:
            _add(turns, "human", message.text)
        elif message.tool_calls:
            calls = [{"name": c.name, "arguments": json.loads(c.arguments)} for c in message.tool_calls]
            if turns and turns[-1]["from"] == "gpt":
                turns.pop()  # text then calls: the format cannot hold both
            payload: Any = calls[0] if len(calls) == 1 else calls
            turns.append({"from": "function_call", "value": json.dumps(payload, ensure_ascii=False)})
        elif options.keep_reasoning and message.reasoning and not (turns and turns[-1]["from"] == "gpt"):
            _add(turns, "gpt", f"<think>\n{message.reasoning}\n</think>\n\n{message.text}")
        else:
            _add(turns, "gpt", message.text)
    if results:
        turns.append({"from": "observation", "value": _observation(results)})
    check_sharegpt_order(turns)
    return {"conversations": turns, "system": system, "tools": tools.inner_json_text()}


def _add(turns: list[dict[str, str]], side: str, text: str) -> None:
    if turns and turns[-1]["from"] == side:
        turns[-1]["value"] += "\n\n" + text
    else:
        turns.append({"from": side, "value": text})


def _observation(results: list[str]) -> str:
    return RESULT_SEPARATOR.join(results)
