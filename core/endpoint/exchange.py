"""What goes to a chat endpoint and what comes back, independent of any client library.

`ChatRequest` is the *logical* request a role player makes (messages, tools,
the JSON Schema it expects, seed); `ChatResult` is the parsed reply (text,
reasoning, tool calls, usage). Transport choices (strict or not, json_schema or
json_object, streaming) are the endpoint's business and are not part of the
logical request, so a recorded exchange replays whatever the server supported.

Also here: the text surgery every reply needs — `<think>` blocks split into
reasoning (whole or streamed), JSON found in chatty replies and repaired when
it is almost right, and a streamed JSON string field surfaced as it arrives — the
last two on pydantic_core's partial JSON parser (`partial_json`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import from_json

from turnloom.core.errors import BackendError
from turnloom.core.models import Usage
from turnloom.core.untrusted import (
    StrictJsonError,
    fix_json_escapes,
    has_non_finite,
    safe_data,
    safe_text,
    strict_loads,
    writable_text,
)


class MalformedReplyError(BackendError):
    """A reply that cannot be used (missing choices, empty message, unparseable JSON)."""


@dataclass
class ChatRequest:
    """One logical chat completion request from a role player."""

    role: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    # the JSON Schema the reply must fit; None for free text / tool calls
    schema: dict[str, Any] | None = None
    schema_name: str = "reply"
    # whether `schema` is written for strict mode (every property required, no extras)
    strict_schema: bool = True
    seed: int | None = None
    stream: bool = False
    # `canonical_json(messages)` / `canonical_json(tools)` when the caller already has them: a role
    # player whose prompt only grows encodes each message and its tool list once per dialogue
    messages_json: str | None = field(default=None, repr=False, compare=False)
    tools_json: str | None = field(default=None, repr=False, compare=False)

    def logical(self, model: str, temperature: float | None, max_tokens: int | None) -> dict[str, Any]:
        """The request as recorded and keyed: what determines the reply, not how it travelled."""
        return {
            "model": model,
            "messages": self.messages,
            "tools": self.tools,
            "schema": self.schema,
            "seed": self.seed,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no ASCII escaping and no spaces: the form request keys hash."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# a key of this version: the logical request's sha256 with its tool list stood in for by the list's own
# sha256 (a tool list is ~40 KB and the same for every request of a batch; hashing it for each request was
# most of a key's cost); keys without the prefix are the older whole-request sha256 (`legacy_request_key`)
KEY_PREFIX = "2:"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _tools_stand_in(digest: str) -> str:
    return '{"sha256":"' + digest + '"}'


def request_key(logical: dict[str, Any]) -> str:
    """A stable key over a logical request (see `ChatRequest.logical`): `KEY_PREFIX` + a sha256.

    The sha256 is over the request's canonical JSON with its `tools` replaced by
    `{"sha256": <the tool list's canonical JSON's sha256>}`.
    """
    tools = logical.get("tools")
    keyed = logical if tools is None else {**logical, "tools": {"sha256": _sha256(canonical_json(tools))}}
    return KEY_PREFIX + _sha256(canonical_json(keyed))


def legacy_request_key(logical: dict[str, Any]) -> str:
    """The key recordings made before `KEY_PREFIX` carry: a sha256 over the whole logical request."""
    return _sha256(canonical_json(logical))


@dataclass
class EncodedRequest:
    """A request's messages and tools serialised once, for its key, its record and its body.

    The prompt is most of every request and grows with the dialogue; encoding it
    once instead of three times (key, exchange log, HTTP body) is a large part of
    the client's CPU per request. `logical` is byte-identical to
    `canonical_json(request.logical(...))`, so keys match older recordings.
    """

    messages: str
    tools: str | None
    logical: str
    # the logical request's other fields (model, schema, seed, ...), each as canonical JSON
    options: dict[str, str] = field(default_factory=dict, repr=False)
    # the sha256 of `tools`, when the caller already has it (`RequestEncoder` keeps it per tool list)
    tools_sha256: str | None = field(default=None, repr=False)
    _key: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, request: ChatRequest, model: str, temperature: float | None, max_tokens: int | None) -> EncodedRequest:
        options = {
            "max_tokens": canonical_json(max_tokens),
            "model": canonical_json(model),
            "schema": canonical_json(request.schema),
            "seed": canonical_json(request.seed),
            "temperature": canonical_json(temperature),
        }
        return cls.of_options(request, options)

    @classmethod
    def of_options(
        cls, request: ChatRequest, options: dict[str, str], tools_sha256: str | None = None
    ) -> EncodedRequest:
        """The encoded request, given its other fields already encoded (see `RequestEncoder`)."""
        messages = request.messages_json if request.messages_json is not None else canonical_json(request.messages)
        if request.tools is None:
            tools = None
        else:
            tools = request.tools_json if request.tools_json is not None else canonical_json(request.tools)
        return cls.assemble(messages, tools, options, tools_sha256)

    @classmethod
    def assemble(
        cls, messages: str, tools: str | None, options: dict[str, str], tools_sha256: str | None = None
    ) -> EncodedRequest:
        """The encoded request of these encoded parts (`options`: the other fields' canonical JSON)."""
        logical = _joined({**options, "messages": messages, "tools": tools if tools is not None else "null"})
        return cls(messages, tools, logical, options, tools_sha256 if tools is not None else None)

    @property
    def key(self) -> str:
        """The request key (see `request_key`), computed on first use."""
        if self._key is None:
            if self.tools is None:
                keyed = self.logical
            else:
                if self.tools_sha256 is None:
                    self.tools_sha256 = _sha256(self.tools)
                parts = {**self.options, "messages": self.messages, "tools": _tools_stand_in(self.tools_sha256)}
                keyed = _joined(parts)
            self._key = KEY_PREFIX + _sha256(keyed)
        return self._key

    @property
    def legacy_key(self) -> str:
        """The key an older recording of this request carries (see `legacy_request_key`)."""
        return _sha256(self.logical)

    def body(self, fields: dict[str, Any], with_tools: bool) -> bytes:
        """The HTTP body: `fields` (model, options; not messages or tools) with the encoded prompt spliced in."""
        rest = canonical_json(fields)
        head = '{"messages":' + self.messages
        if with_tools and self.tools is not None:
            head += ',"tools":' + self.tools
        return (head + ("," + rest[1:] if rest != "{}" else "}")).encode("utf-8")


def _joined(parts: dict[str, str]) -> str:
    """The canonical JSON of an object whose fields' canonical JSON is `parts`."""
    # json.dumps(sort_keys=True) of a dict is its items in key order joined with these separators
    return "{" + ",".join(f'"{name}":{parts[name]}' for name in sorted(parts)) + "}"


class RequestEncoder:
    """Encodes an endpoint's requests, each field that repeats encoded once.

    The model, temperature and max_tokens are the profile's, and a role's schema is one
    object for every request it makes (`USER_SCHEMA`), so their canonical JSON is kept
    (by identity for a schema, which is held so its id stays its own); a seed is an int.
    """

    def __init__(self) -> None:
        self._fixed: tuple[tuple[str, float | None, int | None], dict[str, str]] | None = None
        self._schemas: dict[int, tuple[dict[str, Any], str]] = {}
        # a role player's tool-list text (one string object per list, `ChatRequest.tools_json`) -> its sha256
        self._tool_digests: dict[int, tuple[str, str]] = {}

    def encode(
        self, request: ChatRequest, model: str, temperature: float | None, max_tokens: int | None
    ) -> EncodedRequest:
        """`EncodedRequest.of(request, model, temperature, max_tokens)`, the same bytes, with less work."""
        fixed = (model, temperature, max_tokens)
        if self._fixed is None or self._fixed[0] != fixed:
            texts = {"max_tokens": canonical_json(max_tokens), "model": canonical_json(model)}
            self._fixed = (fixed, texts | {"temperature": canonical_json(temperature)})
        schema = request.schema
        if schema is None:
            schema_text = "null"
        else:
            known = self._schemas.get(id(schema))
            if known is None or known[0] is not schema:
                if len(self._schemas) >= 64:
                    self._schemas.clear()
                known = self._schemas[id(schema)] = (schema, canonical_json(schema))
            schema_text = known[1]
        seed = request.seed
        seed_text = str(seed) if type(seed) is int else canonical_json(seed)
        options = {**self._fixed[1], "schema": schema_text, "seed": seed_text}
        tools_json = request.tools_json
        if request.tools is None or tools_json is None:
            return EncodedRequest.of_options(request, options)
        known_tools = self._tool_digests.get(id(tools_json))
        if known_tools is None or known_tools[0] is not tools_json:
            if len(self._tool_digests) >= 16:
                self._tool_digests.clear()
            # the text is held beside its digest, so its id cannot pass to another string
            known_tools = self._tool_digests[id(tools_json)] = (tools_json, _sha256(tools_json))
        return EncodedRequest.of_options(request, options, known_tools[1])


@dataclass
class ReplyToolCall:
    """A tool call as the server sent it; `arguments` may not be valid JSON yet."""

    id: str | None
    name: str
    arguments: str


@dataclass
class ChatResult:
    """A parsed reply."""

    content: str = ""
    reasoning: str | None = None
    tool_calls: list[ReplyToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    latency_ms: float = 0.0
    model: str | None = None
    cached: bool = False

    def __post_init__(self) -> None:
        # the boundary where model text enters: every string made safe to keep, write and show, once
        self.content = safe_text(self.content)
        self.reasoning = None if self.reasoning is None else safe_text(self.reasoning)
        for call in self.tool_calls:
            call.name = safe_text(call.name)
            call.arguments = safe_text(fix_json_escapes(call.arguments))

    def to_record(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "reasoning": self.reasoning,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls],
            "finish_reason": self.finish_reason,
            "usage": self.usage.model_dump(),
            "model": self.model,
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> ChatResult:
        return cls(
            content=data.get("content") or "",
            reasoning=data.get("reasoning"),
            tool_calls=[
                ReplyToolCall(c.get("id"), c["name"], c.get("arguments") or "") for c in data.get("tool_calls") or []
            ],
            finish_reason=data.get("finish_reason"),
            usage=Usage.model_validate(data.get("usage") or {}),
            model=data.get("model"),
        )


# ---------------------------------------------------------------- <think> blocks

_THINK = re.compile(r"<think>(.*?)(?:</think>|$)", re.DOTALL)


def split_think(text: str) -> tuple[str, str | None]:
    """Move `<think>...</think>` blocks (closed or not) out of `text`.

    Returns:
        (the text without them, the reasoning joined, or None when there was none).
    """
    if "<think>" not in text and "</think>" not in text:
        return text, None
    parts = [m.group(1).strip() for m in _THINK.finditer(text)]
    rest = _THINK.sub("", text)
    if "</think>" in rest:  # a server that sends only the closing tag (the opening was in the template)
        head, _, rest = rest.partition("</think>")
        parts.insert(0, head.strip())
    reasoning = "\n\n".join(p for p in parts if p) or None
    return rest.strip(), reasoning


class ThinkFilter:
    """Splits streamed text into visible text and `<think>` reasoning as it arrives."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._buffer = ""
        self._inside = False
        self.reasoning: list[str] = []

    def feed(self, text: str) -> str:
        """The visible part of `text` that is certain so far."""
        self._buffer += text
        visible: list[str] = []
        while self._buffer:
            tag = self.CLOSE if self._inside else self.OPEN
            at = self._buffer.find(tag)
            if at >= 0:
                (self.reasoning if self._inside else visible).append(self._buffer[:at])
                self._buffer = self._buffer[at + len(tag) :]
                self._inside = not self._inside
                continue
            keep = _partial_suffix(self._buffer, tag)
            emit = self._buffer[: len(self._buffer) - keep]
            (self.reasoning if self._inside else visible).append(emit)
            self._buffer = self._buffer[len(emit) :]
            break
        return "".join(visible)


def _partial_suffix(text: str, tag: str) -> int:
    """How many trailing characters of `text` could start `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


# ---------------------------------------------------------------- JSON in replies

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_json(text: str) -> Any:
    """The JSON value in a reply: the whole text, a fenced block, or the first balanced object.

    Strict JSON only (no NaN or Infinity), and every string in it made safe (`untrusted.safe_data`).

    Raises:
        ValueError: no JSON could be found or repaired, with the parser's message.
    """
    text, _ = split_think(text)
    candidates = [text.strip()]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(text)]
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start >= 0:
        candidates.append(text[start:].strip())
    last_error = "the reply is empty"
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return safe_data(strict_loads(candidate))
        except (ValueError, RecursionError) as exc:
            last_error = str(exc) or "nested too deeply"
        balanced = _first_balanced(candidate)
        if balanced is not None:
            try:
                return safe_data(strict_loads(balanced))
            except (ValueError, RecursionError) as exc:
                last_error = str(exc) or "nested too deeply"
        repaired = repair_json(candidate)
        if repaired is not None:
            return safe_data(repaired)
    raise ValueError(last_error)


def _json_start(text: str) -> int:
    """Where the first `{` or `[` is, or -1."""
    return min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)


def _walk_brackets(text: str) -> tuple[int | None, list[str], bool]:
    """Walk JSON-ish text that opens with a bracket, honouring strings.

    Returns:
        The end of the first balanced value (None if it never closes), the closers
        still open at the end of the text, and whether the text ends inside a string.
    """
    closers: list[str] = []
    end: int | None = None
    in_string, escaped = False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            closers.append("}" if ch == "{" else "]")
        elif ch in "}]" and closers:
            closers.pop()
            if not closers and end is None:
                end = i + 1
    return end, closers, in_string


def _first_balanced(text: str) -> str | None:
    """The first complete {...} or [...] in `text`, honouring strings."""
    start = _json_start(text)
    if start < 0:
        return None
    end, _, _ = _walk_brackets(text[start:])
    return None if end is None else text[start : start + end]


_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def repair_json(text: str) -> Any | None:
    """Mend the usual near-misses (trailing commas, unclosed strings and brackets, Python literals).

    Returns:
        The parsed value, or None when the text is beyond simple repair.
    """
    text = text.strip()
    start = _json_start(text)
    if start < 0:
        return None
    text = text[start:]
    _, closers, in_string = _walk_brackets(text)
    mended = text + ('"' if in_string else "")
    mended = mended.rstrip().rstrip(",")
    if mended.endswith(":"):
        mended += " null"
    mended += "".join(reversed(closers))
    mended = _TRAILING_COMMA.sub(r"\1", mended)
    for attempt in (
        mended,
        re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", re.sub(r"\bNone\b", "null", mended))),
    ):
        try:
            return strict_loads(attempt)
        except (ValueError, RecursionError):
            continue
    return None


_ESCAPE_PAIR = len("\\ud83d\\ude00")


def partial_json(text: str) -> Any:
    """The value of JSON text that may be cut off, or followed by more text, read strictly.

    pydantic_core's partial parser (`allow_partial="trailing-strings"`): open strings,
    arrays and objects are closed where the text stops, a key or value cut off is left
    out, and whatever follows the first whole value is ignored. Lone surrogate escapes
    read as U+FFFD; NaN and Infinity are refused, as `untrusted.strict_loads` does.

    For text on its way (`StreamedField`), not for repairing a finished reply: what it
    leaves out silently, `repair_json` refuses, so a cut-off tool call is asked again
    rather than committed with an argument missing.

    Raises:
        ValueError: not JSON even so (a `StrictJsonError` for NaN or Infinity).
    """
    text = writable_text(text)
    try:
        value = from_json(text, allow_partial="trailing-strings", allow_inf_nan=False, cache_strings=False)
    except ValueError:
        if "\\u" not in text:
            raise
        # a lone surrogate escape, read as U+FFFD; the last few characters are left as they are,
        # where the first half of a pair may still wait for its second
        settled = fix_json_escapes(text[:-_ESCAPE_PAIR]) + text[-_ESCAPE_PAIR:]
        value = from_json(settled, allow_partial="trailing-strings", allow_inf_nan=False, cache_strings=False)
    if has_non_finite(value):  # a number beyond a double (1e999) reads as inf
        raise StrictJsonError("a number is too large for a JSON double")
    return value


class StreamedField:
    """Surfaces the value of one top-level JSON string field (e.g. "user_message") while the JSON streams in."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._text = ""
        self._shown = ""

    def feed(self, delta: str) -> str:
        """The newly decoded characters of the field's value, if any."""
        self._text += delta
        start = self._text.find("{")
        if start < 0:
            return ""
        try:
            value = partial_json(self._text[start:])
        except ValueError:
            return ""  # not JSON (yet): the whole reply is parsed when it is complete
        field = value.get(self.name) if isinstance(value, dict) else None
        if not isinstance(field, str) or not field.startswith(self._shown):
            return ""
        new, self._shown = field[len(self._shown) :], field
        return new
