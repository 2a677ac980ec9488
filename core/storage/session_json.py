"""A session as JSON text, its tool list encoded once per list rather than once per write.

A batch's dialogues share one list of `ToolSpec` objects (`batch.job.SessionFactory`):
~36 KB of schemas, three quarters of a fresh dialogue's session JSON. Each dialogue
wrote them twice (its journal's header, its final snapshot), 0.3 ms of pydantic
serialisation each time. `dumps_session` writes the fields before and after the tool
list with pydantic and splices in the list's text, kept for the last few lists seen;
the result is byte-identical to `session.model_dump_json(indent=...)`.

A list is known by the identity of its items, as the assistant's wire form of the
tools is (`players.llm.assistant.wire_tools`): tools are replaced, never edited in
place. This module only encodes; files and their atomicity are `snapshot` and `journal`'s.
"""

from __future__ import annotations

import functools

from pydantic import TypeAdapter

from turnloom.core.models import Session, ToolSpec

_RECENT = 4  # tool lists kept: a process runs one batch's toolset, a TUI a few sessions'


class SessionEncoder:
    """Encodes sessions, keeping the text of the tool lists it saw last (see the module's docstring)."""

    def __init__(self) -> None:
        # (the list's items, {indent: its JSON text}), newest last; replaced whole, never changed in
        # place, so a snapshot's thread and the event loop can read and add at the same time
        self._recent: list[tuple[tuple[ToolSpec, ...], dict[int | None, str]]] = []
        self._adapter = TypeAdapter(list[ToolSpec])
        fields = list(Session.model_fields)
        at = fields.index("tools")
        self._head = set(fields[:at])
        self._rest = self._head | {"tools"}

    def dumps(self, session: Session, indent: int | None = None) -> str:
        """`session.model_dump_json(indent=indent)`, the same text, the tool list from the cache."""
        tools = session.tools
        if not tools:
            return session.model_dump_json(indent=indent)
        head = session.model_dump_json(include=self._head, indent=indent)
        tail = session.model_dump_json(exclude=self._rest, indent=indent)
        text = self._tools_text(tools, indent)
        if indent is None:
            return f'{head[:-1]},"tools":{text},{tail[1:]}'
        pad = " " * indent
        # pydantic writes a top-level object as "{\n" + fields + "\n}", each field at one indent
        return f'{head[:-2]},\n{pad}"tools": {text},\n{tail[2:]}'

    def _tools_text(self, tools: list[ToolSpec], indent: int | None) -> str:
        key = tuple(tools)
        found = [t for items, t in self._recent if len(items) == len(key) and all(a is b for a, b in zip(items, key))]
        if found:
            texts = found[0]
        else:
            texts = {}
            self._recent = [*self._recent[1 - _RECENT :], (key, texts)]
        text = texts.get(indent)
        if text is None:
            text = self._adapter.dump_json(tools, indent=indent).decode("utf-8")
            if indent is not None:  # one level deeper than the list's own, as a field of the session
                text = text.replace("\n", "\n" + " " * indent)
            texts[indent] = text
        return text


@functools.lru_cache(maxsize=1)
def session_encoder() -> SessionEncoder:
    """This process's encoder (made on first use, not at import)."""
    return SessionEncoder()


def dumps_session(session: Session, indent: int | None = None) -> str:
    """`session.model_dump_json(indent=indent)`, byte for byte, the tool list encoded once per list."""
    return session_encoder().dumps(session, indent)
