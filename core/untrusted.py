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


def strict_loads(text: str | bytes) -> Any:
    """Parse JSON strictly, with no string in it that could not be written as UTF-8.

    Returns:
        The document, lone surrogate escapes read as U+FFFD (see `writable_data`).

    Raises:
        json.JSONDecodeError: not JSON.
        StrictJsonError: NaN, Infinity or an infinite number.
        RecursionError: nested beyond the parser's depth (callers name the file).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    value = json.loads(fix_json_escapes(text), parse_constant=_refuse_constant, parse_float=_finite_float)
    return writable_data(value)


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
