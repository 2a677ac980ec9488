"""Validating a session file's tool list once for every file that repeats it, byte for byte.

Every session of a domain lists the same 43-48 tool schemas: about half of each file's bytes, and
the largest part of validating it. A reader that opens many files (`parallel_read`'s workers, for
`stats`, `export` and the review index) hands `snapshot.loads_json_bytes` a `ToolListCache`. For a
file as this build saves it, the tool list's bytes are then found in the file, validated once per
distinct bytes, and the rest of the file is validated with a placeholder list in their place:

- the list starts at the top-level `"tools"` key of an indent-2 file (a raw newline never occurs
  inside a JSON string, so `\\n  "tools": [` is the structure's); it is a list already validated
  when the file holds one's bytes there, else it runs to the next `\\n  ]`;
- the placeholder is a one-tool list named by a random word made per cache, so the session that the
  rest validates to shows whether its `tools` came from exactly that place (a key nested deeper, a
  later duplicate key, a list cut short or any other mismatch leaves the placeholder out, and the
  file is read the ordinary way);
- both parts are complete JSON values validated by pydantic on their own, so the session is the one
  validating the whole file gives; anything that fails either part is read the ordinary way, which
  names the problem as it always has;
- the searches `snapshot` makes over a file's bytes (a lone surrogate escape, a schema `$ref`) are
  made once per list for the list's bytes and per file for the rest only.

The sessions read with one cache share their `ToolSpec` objects (each gets its own list): a
caller that changes a tool in place must copy it first. Owns: `ToolListCache`. Leaves to
`snapshot` which files may take this path and every check after validation.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from functools import cache

from pydantic import TypeAdapter, ValidationError

from turnloom.core.models import Session, ToolSpec

_TOOLS_START = b'\n  "tools": ['
_TOOLS_END = b"\n  ]"
# a `\uD800`-`\uDFFF` escape: a lone surrogate, which `snapshot` reads the ordinary way (as U+FFFD)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@cache
def _tool_list_adapter() -> TypeAdapter[list[ToolSpec]]:
    return TypeAdapter(list[ToolSpec])


@dataclass(frozen=True)
class _ToolList:
    text: bytes  # the list as the file holds it
    tools: list[ToolSpec]
    may_hold_refs: bool  # a `$ref`, or any `\u` escape that could spell one, in `text`


class ToolListCache:
    """Validated tool lists by the bytes they were read from, for the files one reader opens."""

    def __init__(self, size: int = 8) -> None:
        """Args: size: distinct tool lists kept (a domain has one), the least recently used dropped first."""
        self._size = size
        self._lists: list[_ToolList] = []  # most recently used first
        self._placeholder_name = f"turnloom-tools-placeholder-{uuid.uuid4().hex}"
        self._placeholder = b'[{"name": "%s", "description": ""}]' % self._placeholder_name.encode()
        self.hits = self.misses = 0

    def validate(self, data: bytes) -> tuple[Session, bool] | None:
        """The session of an indent-2 JSON file, its tool list validated once for all files that hold it.

        Returns:
            The session and whether its tools' bytes may hold a schema `$ref` (a `$ref` or a `\\u`
            escape in them); None when the file has no tool list where this build writes it, holds
            a lone surrogate escape, fails to validate in either part, or its list turns out not
            to be the session's `tools`: the caller then reads the file the ordinary way
            (`Session.model_validate_json`), which gives the same session.
        """
        found = data.find(_TOOLS_START)
        if found < 0:
            return None
        start = found + len(_TOOLS_START) - 1  # the list's `[`
        listed = self._known(data, start) or self._new(data, start)
        if listed is None:
            return None
        end = start + len(listed.text)
        if _SURROGATE_ESCAPE.search(data, 0, start) or _SURROGATE_ESCAPE.search(data, end):
            return None
        try:
            session = Session.model_validate_json(data[:start] + self._placeholder + data[end:])
        except (ValueError, RecursionError):
            return None
        placed = session.tools
        if len(placed) != 1 or placed[0].name != self._placeholder_name:
            return None
        session.tools = list(listed.tools)
        return session, listed.may_hold_refs

    def _known(self, data: bytes, start: int) -> _ToolList | None:
        """A list already validated whose bytes the file holds at `start` (a complete JSON value there)."""
        for index, listed in enumerate(self._lists):
            if data.startswith(listed.text, start):
                self.hits += 1
                if index:
                    self._lists.insert(0, self._lists.pop(index))
                return listed
        return None

    def _new(self, data: bytes, start: int) -> _ToolList | None:
        end = data.find(_TOOLS_END, start)
        if end < 0:
            return None
        text = data[start : end + len(_TOOLS_END)]
        if _SURROGATE_ESCAPE.search(text):
            return None
        try:
            tools = _tool_list_adapter().validate_json(text)
        except (ValidationError, ValueError, RecursionError):
            return None
        self.misses += 1
        listed = _ToolList(text, tools, b"\\u" in text or b"$ref" in text)
        self._lists.insert(0, listed)
        del self._lists[self._size :]
        return listed
