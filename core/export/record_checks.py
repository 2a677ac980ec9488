"""Checks every exported record must pass, shared by all formats.

A failed check raises `RecordRejected` with a reason fit to show the user (it never repeats a
secret). Formats call `check_messages` on the transcript they export, one of the role-order
checks on what they built, and `check_secrets` last. Conversion is the formats' business.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError

from turnloom.core.export.plain_schemas import PlainSchema, plain_schema
from turnloom.core.models import ChatMessage, Role, ToolSpec
from turnloom.core.untrusted import SchemaRefError, check_schema_refs, offline_registry

STOP_TOKENS = (
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|end|>",
    "<|user|>",
    "<|assistant|>",
    "<|system|>",
    "<|python_tag|>",
    "</s>",
    "[INST]",
    "[/INST]",
    "<start_of_turn>",
    "<end_of_turn>",
)
REASONING = re.compile(r"</?(?:think|thinking|reasoning)>", re.IGNORECASE)
SECRET_PATTERNS = (
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), "an API key (sk-...)"),
    (re.compile(r"\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*"), "a bearer token"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"aws_secret_access_key\W{0,5}[A-Za-z0-9/+]{40}", re.IGNORECASE), "an AWS secret key"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}"), "a GitHub token"),
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}"), "a Hugging Face token"),
)
# the literal every secret pattern starts with: a string without one needs no other search (5x faster)
_SECRET_HINT = re.compile(r"sk-|Bearer|AKIA|ASIA|(?i:aws_secret_access_key)|gh[pousr]_|hf_")
# joins texts searched in one go: a NUL is no word character, so a `\b` at a text's edge holds in the
# join as at the text's start or end, and a match inside one text is a match in the join too (one
# across two texts may be found as well: then each text is searched on its own)
_JOINER = "\x00"
_SECRET_ENV_SUFFIXES = ("_API_KEY", "_TOKEN")
_MIN_SECRET_LENGTH = 8  # shorter values ("1", "true") would match everywhere


class RecordRejected(ValueError):
    """A session that cannot become a valid record in some format; the message is the reason."""


def secret_env_values(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values of secret-looking environment variables (`*_API_KEY`, `*_TOKEN`).

    Args:
        env: the environment to read; defaults to `os.environ` at call time.

    Returns:
        Variable name -> value, for values long enough to be told apart from ordinary text.
    """
    env = os.environ if env is None else env
    return {
        name: value
        for name, value in env.items()
        if name.upper().endswith(_SECRET_ENV_SUFFIXES) and len(value.strip()) >= _MIN_SECRET_LENGTH
    }


def check_messages(
    messages: list[ChatMessage], tools: Mapping[str, ToolSpec], schema_texts: Mapping[str, str] | None = None
) -> None:
    """Check pairing, arguments, emptiness, stop tokens and reasoning leaks.

    Args:
        messages: the transcript to export.
        tools: the session's tools by name.
        schema_texts: tool name -> `json.dumps(parameters, sort_keys=True)` where already made
            (`toolsets`: once per toolset); the rest are made here.

    Raises:
        RecordRejected: naming the first offending message.
    """
    pending: dict[str, str] = {}
    texts = dict(schema_texts or {})
    for index, message in enumerate(messages):
        where = f"message {index} ({message.role})"
        content = message.content or ""
        if message.role is not Role.ASSISTANT or not message.tool_calls:
            if not content.strip():
                raise RecordRejected(f"{where} is empty")
        if token := _stop_token_in(content):
            raise RecordRejected(f"{where} contains the stop token {token}")
        if message.role in (Role.USER, Role.ASSISTANT) and "<" in content and (markup := REASONING.search(content)):
            raise RecordRejected(f"{where} contains reasoning markup ({markup[0]})")
        for call in message.tool_calls:
            if call.id in pending:
                raise RecordRejected(f"{where} reuses tool call id {call.id!r}")
            pending[call.id] = call.name
            _check_arguments(where, call.name, call.arguments, tools, texts)
        if message.role is Role.TOOL:
            if message.tool_call_id not in pending:
                raise RecordRejected(f"{where} answers no open tool call ({message.tool_call_id!r})")
            del pending[message.tool_call_id]
    if pending:
        raise RecordRejected(f"tool call(s) {', '.join(map(repr, pending))} have no result")


def _stop_token_in(text: str) -> str | None:
    """The first of `STOP_TOKENS` in `text`, or None (each holds a `<` or a `[`: text with neither holds none)."""
    if "<" not in text and "[" not in text:
        return None
    for token in STOP_TOKENS:
        if token in text:
            return token
    return None


def check_reasoning(messages: list[ChatMessage]) -> None:
    """Reasoning traces an export keeps: no stop tokens, no reasoning markup of their own.

    Raises:
        RecordRejected: naming the first offending message.
    """
    for index, message in enumerate(messages):
        reasoning = message.reasoning or ""
        if token := _stop_token_in(reasoning):
            raise RecordRejected(f"message {index} ({message.role}): its reasoning contains the stop token {token}")
        if markup := REASONING.search(reasoning):
            raise RecordRejected(f"message {index} ({message.role}): its reasoning contains the markup {markup[0]}")


def _check_arguments(
    where: str, name: str, arguments: str, tools: Mapping[str, ToolSpec], schema_texts: dict[str, str]
) -> None:
    spec = tools.get(name)
    if spec is None:
        raise RecordRejected(f"{where} calls unknown tool {name!r}")
    if token := _stop_token_in(arguments):
        raise RecordRejected(f"{where}: arguments of {name!r} contain the stop token {token}")
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError as exc:
        raise RecordRejected(f"{where}: arguments of {name!r} are not JSON ({exc.msg})") from None
    if not isinstance(parsed, dict):
        raise RecordRejected(f"{where}: arguments of {name!r} are not a JSON object")
    try:
        if name not in schema_texts:
            schema_texts[name] = json.dumps(spec.parameters, sort_keys=True)
        validator = _validator(schema_texts[name])
    except SchemaError as exc:
        raise RecordRejected(f"tool {name!r}: parameters are not a valid JSON Schema ({exc.message})") from None
    except SchemaRefError as exc:
        raise RecordRejected(f"tool {name!r}: parameters {exc}") from None
    plain = _plain(schema_texts[name])
    if plain is not None and plain.fits(parsed):  # what jsonschema would say, without its walk (`plain_schemas`)
        return
    error = jsonschema.exceptions.best_match(validator.iter_errors(parsed))
    if error is not None:
        raise RecordRejected(
            f"{where}: arguments of {name!r} do not fit its schema at {error.json_path}: {error.message}"
        )


@lru_cache(maxsize=4096)
def _validator(schema_text: str) -> Any:
    """A checked validator for a schema, made once per distinct schema (checking one costs ~2 ms).

    Raises:
        SchemaError: not a valid JSON Schema. SchemaRefError: a remote, dangling or looping reference.
    """
    schema = json.loads(schema_text)
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    check_schema_refs(schema)  # references resolved offline only: nothing fetched, loops refused
    return validator_cls(schema, registry=offline_registry(schema))


@lru_cache(maxsize=4096)
def _plain(schema_text: str) -> PlainSchema | None:
    """The schema read for `plain_schemas`' quick check, once per distinct schema (None: jsonschema only)."""
    return plain_schema(json.loads(schema_text))


def check_chat_order(messages: list[ChatMessage]) -> None:
    """Role order for chat-style formats (OpenAI, HF/TRL, Hermes).

    An optional leading system message, then a user turn; user -> assistant; an assistant's
    calls -> exactly their results, next; results -> assistant; assistant text -> user; the
    last message is an assistant reply.

    Raises:
        RecordRejected: naming the first message out of order.
    """
    body = messages[1:] if messages and messages[0].role is Role.SYSTEM else messages
    offset = len(messages) - len(body)
    if not body:
        raise RecordRejected("no conversation to export")
    expected: set[Role] = {Role.USER}
    pending: set[str] = set()
    for index, message in enumerate(body, start=offset):
        if message.role not in expected:
            allowed = " or ".join(sorted(str(r) for r in expected))
            raise RecordRejected(f"message {index} is {message.role}, but {allowed} must come next")
        if message.role is Role.TOOL:
            pending.discard(message.tool_call_id or "")
            expected = {Role.TOOL} if pending else {Role.ASSISTANT}
        elif message.role is Role.ASSISTANT and message.tool_calls:
            pending = {call.id for call in message.tool_calls}
            expected = {Role.TOOL}
        else:
            expected = {Role.ASSISTANT} if message.role is Role.USER else {Role.USER}
    if body[-1].role is not Role.ASSISTANT or body[-1].tool_calls:
        raise RecordRejected("the conversation must end with an assistant reply")


def check_sharegpt_order(conversations: list[dict[str, str]]) -> None:
    """LLaMA-Factory's sharegpt rule: human/observation at even, gpt/function_call at odd places.

    Also: an even number of turns, function_call always answered by an observation, and the
    record ends on gpt.

    Raises:
        RecordRejected: naming the first turn out of place.
    """
    sides = ({"human", "observation"}, {"gpt", "function_call"})
    for index, turn in enumerate(conversations):
        if turn.get("from") not in sides[index % 2]:
            raise RecordRejected(
                f"turn {index} is {turn.get('from')!r}; LLaMA-Factory needs "
                f"{' or '.join(sorted(sides[index % 2]))} there"
            )
        if not str(turn.get("value", "")).strip():
            raise RecordRejected(f"turn {index} ({turn.get('from')}) is empty")
        follows_call = index > 0 and conversations[index - 1]["from"] == "function_call"
        if (turn["from"] == "observation") != follows_call:
            raise RecordRejected(f"turn {index}: an observation must follow exactly a function_call")
    if not conversations or len(conversations) % 2 or conversations[-1]["from"] != "gpt":
        raise RecordRejected("the conversation must alternate and end with a gpt reply")


def check_secrets(strings: Iterable[tuple[str, str]], env_values: Mapping[str, str]) -> None:
    """Refuse text that holds a key, a token, or the value of a secret environment variable.

    Args:
        strings: (where, text) pairs to scan.
        env_values: from `secret_env_values`.

    Raises:
        RecordRejected: naming where and what kind of secret (never the secret itself).
    """
    values = tuple(env_values.items())
    pairs = list(strings)
    # one search over all the texts first: a secret in any of them is one in their join (see `_JOINER`)
    if _secret_in(_JOINER.join(text for _, text in pairs), values) is None:
        return
    for where, text in pairs:
        if found := _secret_in(text, values):
            raise RecordRejected(f"{where} contains {found}")


def check_value_secrets(
    value: Any, where: str, env_values: Mapping[str, str], known_clean: Collection[str] = ()
) -> None:
    """`check_secrets` of every string inside a JSON-like value (`strings_in`), walked once without paths first.

    Args:
        value: the value.
        where: what to call it in the reason.
        env_values: from `secret_env_values`.
        known_clean: texts `check_secrets` has passed already (a record's messages and arguments):
            they are not searched again. Each of them holds no secret on its own, so the value's
            verdict is the same: the search of the rest finds whatever a text of the value holds,
            and anything it finds is looked for text by text, paths and all, as without them.

    Raises:
        RecordRejected: as `check_secrets`, naming the string's path in `value`.
    """
    strings = _strings_of(value)
    if known_clean:
        strings = [text for text in strings if text not in known_clean]
    if _secret_in(_JOINER.join(strings), tuple(env_values.items())) is not None:
        check_secrets(strings_in(value, where), env_values)


def _strings_of(value: Any) -> list[str]:
    """The strings `strings_in` yields, in any order, without their paths (an explicit stack: no recursion)."""
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def check_tool_secrets(tools: Iterable[tuple[str, str]], env_values: Mapping[str, str]) -> None:
    """`check_secrets` for tool schemas, remembering clean ones: every session of a domain lists the same.

    Raises:
        RecordRejected: as `check_secrets`.
    """
    values = tuple(env_values.items())
    for where, text in tools:
        if found := _tool_secret_in(text, values):
            raise RecordRejected(f"{where} contains {found}")


def _secret_in(text: str, env_values: tuple[tuple[str, str], ...]) -> str | None:
    """What kind of secret `text` holds, in words, or None."""
    if _SECRET_HINT.search(text):
        for pattern, kind in SECRET_PATTERNS:
            if pattern.search(text):
                return f"what looks like {kind}"
    for name, value in env_values:
        if value in text:
            return f"the value of ${name}"
    return None


@lru_cache(maxsize=2048)
def _tool_secret_in(text: str, env_values: tuple[tuple[str, str], ...]) -> str | None:
    return _secret_in(text, env_values)


def strings_in(value: Any, where: str) -> Iterable[tuple[str, str]]:
    """Every string inside a JSON-like value, with a path naming where it sits."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings_in(item, f"{where}[{i}]")
