"""Foreign text and JSON made safe to keep, write and show: the cleaning every boundary uses.

Text from a model, a tool result or a file on disk may hold what no file or terminal
should get: a lone UTF-16 surrogate (it cannot be encoded as UTF-8, so the next save
crashes), control characters (ESC starts a terminal escape sequence that can retitle
the window or clear the screen), bidirectional overrides (U+202E shows text reversed).

- `writable_text` / `writable_data`: lone surrogates as U+FFFD, nothing else changed. What a
  file on disk gets: everything turnloom can write stays as it was (snapshots are lossless).
- `safe_text` / `safe_data`: also control characters (but tab and newlines) and bidi controls
  as U+FFFD, visibly. What model text and tool results get where they enter, and what a
  terminal widget shows.

The `_data` forms walk a parsed document (keys too) with an explicit stack, so no nesting
depth can overflow it. JSON from outside is parsed strictly (`strict_loads`): NaN, Infinity
and numbers too big for a double are refused, since strict JSON readers refuse them in what
we export. `fix_json_escapes` writes a lone `\\uD800`-style escape in JSON text as `\\uFFFD`.

Where each boundary is (the endpoint's replies, tool results, session, journal, toolset and
rule files, the TUI's widgets) is the business of the modules that call these; this module
sits below `models` and imports nothing of turnloom.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

REPLACEMENT = "\ufffd"

# C0 controls but tab, newline and carriage return; DEL and the C1 controls (U+009B is a
# one-byte CSI on some terminals); the bidi embeddings, overrides and isolates; lone surrogates
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNWRITABLE = re.compile("[\ud800-\udfff]")
# a JSON string escape: an escaped backslash, a valid surrogate pair, or a lone surrogate
_SURROGATE_ESCAPE = re.compile(
    r"(\\\\)|(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})"
)


class StrictJsonError(ValueError):
    """JSON that strict readers refuse: NaN, Infinity, or a number beyond a double's range."""


def safe_text(text: str) -> str:
    """`text` with every lone surrogate, control character (but tab and newlines) and bidi control as U+FFFD."""
    return text if _UNSAFE.search(text) is None else _UNSAFE.sub(REPLACEMENT, text)


def writable_text(text: str) -> str:
    """`text` with every lone surrogate as U+FFFD (so it can be encoded as UTF-8); nothing else changes."""
    return text if _UNWRITABLE.search(text) is None else _UNWRITABLE.sub(REPLACEMENT, text)


def is_safe_text(text: str) -> bool:
    """Whether `safe_text` would leave `text` as it is."""
    return _UNSAFE.search(text) is None


def safe_data(value: Any) -> Any:
    """A parsed document with `safe_text` applied to every string and key (no copy when nothing changes)."""
    return _clean_data(value, _UNSAFE)


def writable_data(value: Any) -> Any:
    """A parsed document with `writable_text` applied to every string and key (no copy when nothing changes)."""
    return _clean_data(value, _UNWRITABLE)


def _clean_data(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return value if pattern.search(value) is None else pattern.sub(REPLACEMENT, value)
    if not isinstance(value, (dict, list)) or not _any_string_matches(value, pattern):
        return value
    return _cleaned_copy(value, pattern)


def _any_string_matches(value: dict[Any, Any] | list[Any], pattern: re.Pattern[str]) -> bool:
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict) and any(isinstance(key, str) and pattern.search(key) for key in item):
            return True
        for child in children:
            if isinstance(child, str):
                if pattern.search(child):
                    return True
            elif isinstance(child, (dict, list)):
                stack.append(child)
    return False


def _cleaned_copy(value: Any, pattern: re.Pattern[str]) -> Any:
    def clean(text: Any) -> Any:
        return pattern.sub(REPLACEMENT, text) if isinstance(text, str) else text

    root: list[Any] = [None]
    # (source container, where its copy goes, under which key or index), with an explicit stack
    work: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while work:
        source, parent, slot = work.pop()
        if isinstance(source, dict):
            target: Any = {}
            parent[slot] = target
            for key, child in source.items():
                key = clean(key)
                if isinstance(child, (dict, list)):
                    target[key] = None
                    work.append((child, target, key))
                else:
                    target[key] = clean(child)
        else:
            items: list[Any] = [None] * len(source)
            parent[slot] = items
            for index, child in enumerate(source):
                if isinstance(child, (dict, list)):
                    work.append((child, items, index))
                else:
                    items[index] = clean(child)
    return root[0]


def fix_json_escapes(text: str) -> str:
    """JSON text with each lone surrogate escape (`\\ud800`) written as `\\ufffd`; valid pairs are kept."""
    if "\\u" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        return "\\ufffd" if match.group(3) else match.group(0)

    return _SURROGATE_ESCAPE.sub(replace, text)


def _refuse_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not a JSON number (strict JSON has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise StrictJsonError(f"the number {text[:40]} is too large for a JSON double")
    return number


def strict_loads(text: str | bytes, *, writable: bool = True) -> Any:
    """Parse JSON strictly, with no string in it that could not be written as UTF-8.

    Args:
        text: the JSON text.
        writable: also read any lone surrogate the text holds as such (not as an escape) as
            U+FFFD (`writable_data`); a caller that keeps only the text it parsed, not the
            document, can skip that walk.

    Returns:
        The document, lone surrogate escapes read as U+FFFD (see `writable_data`).

    Raises:
        json.JSONDecodeError: not JSON.
        StrictJsonError: NaN, Infinity or an infinite number.
        RecursionError: nested beyond the parser's depth (callers name the file).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    text = fix_json_escapes(text)
    if text.startswith("\ufeff"):  # as json.loads refuses it (its decoder alone would not)
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    value = _strict_decoder().decode(text)  # json.loads would make the decoder anew for every text
    return writable_data(value) if writable else value


@lru_cache(maxsize=1)
def _strict_decoder() -> json.JSONDecoder:
    return json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def strict_dumps(value: Any, **options: Any) -> str:
    """`json.dumps` that refuses NaN and Infinity (ValueError) and keeps non-ASCII text as it is."""
    options.setdefault("ensure_ascii", False)
    return json.dumps(value, allow_nan=False, **options)


def has_non_finite(value: Any) -> bool:
    """Whether a parsed document holds a NaN or infinite float anywhere (checked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# -- JSON Schemas from files: resolved offline only ------------------------------------------

# keywords whose subschemas apply to the same instance (a loop through them never ends);
# the rest (properties, items, ...) step into the data, so recursion through them is bounded by it
_SAME_INSTANCE_LISTS = ("allOf", "anyOf", "oneOf")
_SAME_INSTANCE_ONE = ("not", "if", "then", "else")
# keywords whose values are data, not schemas: nothing in them is a reference
_DATA_KEYWORDS = ("const", "enum", "default", "examples")
_MAX_SCHEMA_NODES = 100_000


class SchemaRefError(ValueError):
    """A JSON Schema whose `$ref` points outside the document (never fetched), nowhere, or round in a loop."""


def _refuse_retrieval(uri: str) -> Any:
    raise SchemaRefError(f"{uri} is outside the schema, and turnloom never fetches schemas")


def offline_registry(schema: Any) -> Any:
    """A `referencing` registry with the JSON Schema metaschemas and `schema`, refusing to fetch anything else."""
    from jsonschema_specifications import REGISTRY as SPECIFICATIONS
    from referencing import Registry

    return SPECIFICATIONS.combine(Registry(retrieve=_refuse_retrieval))  # type: ignore[call-arg]


def check_schema_refs(schema: Any) -> None:
    """Refuse a schema whose references cannot be followed offline, or loop without stepping into the data.

    Every `$ref`/`$dynamicRef` must resolve inside the document (or to a JSON Schema metaschema);
    a remote one is refused, never fetched. A cycle through references and same-instance keywords
    (`allOf`, `not`, ...) would recurse for ever on any value, so it is refused too; recursion
    through `properties` or `items` (a tree) is fine, since each step enters the data.

    Raises:
        SchemaRefError: naming the reference and what is wrong with it.
    """
    if not isinstance(schema, dict) or not _has_reference(schema):
        return  # a parsed document is a tree: without a reference it can neither leave nor loop
    from referencing.exceptions import Unresolvable, Unretrievable
    from referencing.jsonschema import DRAFT202012

    root = DRAFT202012.create_resource(schema)
    resolver = offline_registry(schema).resolver_with_root(root)
    edges: dict[int, list[Any]] = {}
    nodes: dict[int, Any] = {}
    stack: list[tuple[Any, Any]] = [(schema, resolver)]
    seen: set[int] = set()
    while stack:
        node, scope = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if len(seen) > _MAX_SCHEMA_NODES:
            raise SchemaRefError(f"more than {_MAX_SCHEMA_NODES:,} subschemas; too large to check")
        if isinstance(node, list):
            stack.extend((item, scope) for item in node if isinstance(item, (dict, list)))
            continue
        nodes[id(node)] = node
        if node is not schema and isinstance(node.get("$id"), str):
            scope = scope.in_subresource(DRAFT202012.create_resource(node))
        targets: list[Any] = []
        for keyword in ("$ref", "$dynamicRef"):
            ref = node.get(keyword)
            if not isinstance(ref, str):
                continue
            try:
                resolved = scope.lookup(ref)
            except (Unresolvable, Unretrievable) as exc:
                if isinstance(exc, Unretrievable) or isinstance(exc.__cause__, Unretrievable):
                    raise SchemaRefError(
                        f"{keyword} {ref!r} points outside the file, and turnloom never fetches schemas; "
                        "put the definition under $defs and refer to it as #/$defs/NAME"
                    ) from None
                raise SchemaRefError(f"{keyword} {ref!r} points to nothing in the schema") from None
            if isinstance(resolved.contents, dict):
                targets.append(resolved.contents)
                stack.append((resolved.contents, resolved.resolver))
        for keyword in _SAME_INSTANCE_LISTS:
            value = node.get(keyword)
            if isinstance(value, list):
                targets += [item for item in value if isinstance(item, dict)]
        targets += [node[k] for k in _SAME_INSTANCE_ONE if isinstance(node.get(k), dict)]
        if isinstance(node.get("dependentSchemas"), dict):
            targets += [v for v in node["dependentSchemas"].values() if isinstance(v, dict)]
        edges[id(node)] = targets
        for key, value in node.items():
            if key not in _DATA_KEYWORDS and isinstance(value, (dict, list)):
                stack.append((value, scope))
    _refuse_loops(edges)


def _has_reference(schema: dict[str, Any]) -> bool:
    stack: list[Any] = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "$ref" in item or "$dynamicRef" in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refuse_loops(edges: dict[int, list[Any]]) -> None:
    """Raise if the same-instance graph has a cycle (iterative depth-first search)."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for start in edges:
        if state.get(start):
            continue
        path: list[tuple[int, int]] = [(start, 0)]
        state[start] = 1
        while path:
            node, next_child = path[-1]
            children = edges.get(node, [])
            if next_child == len(children):
                state[node] = 2
                path.pop()
                continue
            path[-1] = (node, next_child + 1)
            child = id(children[next_child])
            if state.get(child) == 1:
                raise SchemaRefError(
                    "a $ref loop: a reference leads back to itself without stepping into the value "
                    "(through $ref, allOf, anyOf, oneOf, not or if/then/else), so it could never be checked"
                )
            if not state.get(child):
                state[child] = 1
                path.append((child, 0))


def offline_validator(schema: Any) -> Any:
    """A JSON Schema 2020-12 validator for a schema from a file: checked, references resolved offline only.

    Raises:
        jsonschema.SchemaError: not a valid schema.
        SchemaRefError: a remote, dangling or looping reference.
    """
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema)
    check_schema_refs(schema)
    return jsonschema.Draft202012Validator(schema, registry=offline_registry(schema))


# -- prompt templates from files --------------------------------------------------------------

MAX_FORMAT_NUMBER = 1000
_FORMAT_NUMBER = re.compile(r"\d+")


def template_problem(template: str) -> str | None:
    """Why a `str.format` template from a file is unsafe to render, or None.

    A format spec can ask for any width or precision (`{max_words:>400000000}` renders 400 MB),
    and a field nested in a spec takes its width from a parameter; both are refused above
    `MAX_FORMAT_NUMBER`. Braces that do not parse are the caller's to report.
    """
    import string

    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return None
    for _, name, spec, _ in fields:
        if name is None or not spec:
            continue
        if "{" in spec or "}" in spec:
            return f"{{{name}:{spec}}}: a field inside a format spec is not allowed"
        for number in _FORMAT_NUMBER.findall(spec):
            if len(number) > 6 or int(number) > MAX_FORMAT_NUMBER:
                return f"{{{name}:{spec}}}: a width or precision of {number} is above {MAX_FORMAT_NUMBER}"
    return None


# -- credentials in what is written -----------------------------------------------------------

# scheme://user:password@host -> scheme://user:***@host (a user alone may itself be a token: kept as ***)
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*)@")
# ?api_key=...&token=... in a URL's query
_SECRET_QUERY = re.compile(
    r"(?P<name>[?&;](?:[\w-]*(?:key|token|secret|password|passwd|pwd|sig|signature|auth)[\w-]*))=(?P<value>[^&#\s,;)'\"]*)",
    re.IGNORECASE,
)
# what API keys look like: sk-..., sk-proj-..., Bearer tokens, and long key=value secrets
_KEY_LIKE = re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_-]{12,}|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}")
REDACTED = "***"


def redact_secrets(text: str) -> str:
    """`text` with credentials in URLs and key-like strings (`sk-...`, Bearer tokens) as `***`.

    Works on text that is not a valid URL too (`http://[::1`): nothing here parses, so
    nothing here can fail.
    """
    if "@" in text:

        def userinfo(match: re.Match[str]) -> str:
            user, _, password = match.group("userinfo").partition(":")
            kept = f"{user}:{REDACTED}" if password else REDACTED
            return f"{match.group('scheme')}{kept}@"

        text = _URL_USERINFO.sub(userinfo, text)
    if "=" in text:
        text = _SECRET_QUERY.sub(lambda m: f"{m.group('name')}={REDACTED}", text)
    return _KEY_LIKE.sub(REDACTED, text)
