"""Training-data exports: sessions -> validated JSONL for OpenAI, HF/TRL, ShareGPT or Hermes.

Each session becomes at most one record. A session that stops mid-exchange is cut after its
last assistant reply (the part after it has nothing to learn from). Every record passes the
shared checks in `record_checks` (pairing, argument schemas, role order, empty text, stop
tokens, reasoning, secrets) before it is written; a session that fails is skipped with its
reason, never written half-valid. The output file is replaced atomically.

Owns: this module (`export_sessions`, `build_record`), one builder per format (`openai`,
`hf`, `sharegpt`, `hermes`), `record_checks`.
Leaves to others: reading session files (`storage.journal.open_session`), deciding which
dialogues are fit to train on (quality), the `export` command (cli).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from turnloom.core.export import hermes, hf, openai, sharegpt
from turnloom.core.export.record_checks import (
    RecordRejected,
    check_messages,
    check_record_secrets,
    check_secrets,
    secret_env_values,
)
from turnloom.core.models import ChatMessage, FinishReason, Role, Session, ToolSpec
from turnloom.core.storage.snapshot import atomic_writer

Builder = Callable[[Session, list[ChatMessage], list[ToolSpec]], dict[str, Any]]

FORMATS: dict[str, Builder] = {
    "openai": openai.build,
    "hf": hf.build,
    "sharegpt": sharegpt.build,
    "hermes": hermes.build,
}

__all__ = ["FORMATS", "ExportReport", "RecordRejected", "build_record", "export_sessions", "training_messages"]


@dataclass
class ExportReport:
    """What an export wrote and what it skipped, with why."""

    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def training_messages(session: Session) -> list[ChatMessage]:
    """The transcript up to and including its last assistant reply (text, no pending calls).

    Raises:
        RecordRejected: the session has no assistant reply at all.
    """
    for index in range(len(session.messages) - 1, -1, -1):
        message = session.messages[index]
        if message.role is Role.ASSISTANT and not message.tool_calls:
            return session.messages[: index + 1]
    raise RecordRejected("no assistant reply to learn from")


def build_record(session: Session, fmt: str, env_values: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Convert and validate one session.

    Args:
        session: the session.
        fmt: a key of `FORMATS`.
        env_values: secret values to refuse (default: `secret_env_values()` now).

    Returns:
        The record, ready to be written as one JSON line.

    Raises:
        RecordRejected: the reason the session cannot be exported in this format.
        KeyError: unknown format.
    """
    builder = FORMATS[fmt]
    messages = training_messages(session)
    by_name = {spec.name: spec for spec in session.tools}
    check_messages(messages, by_name)
    called = {call.name for m in messages for call in m.tool_calls}
    disabled = set(session.disabled_tools)
    tools = [s for s in session.tools if s.name not in disabled or s.name in called]
    secrets = secret_env_values() if env_values is None else env_values
    sources = [(f"message {i} ({m.role})", m.text) for i, m in enumerate(messages)]
    sources += [
        (f"message {i}: arguments of {c.name!r}", c.arguments) for i, m in enumerate(messages) for c in m.tool_calls
    ]
    sources += [(f"tool {s.name!r}", json.dumps(s.to_openai(), ensure_ascii=False)) for s in tools]
    check_secrets(sources, secrets)
    record = builder(session, messages, tools)
    check_record_secrets(record, secrets)
    return record


# characters that str.splitlines() and some JSONL readers treat as line breaks
_LINE_BREAKS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def jsonl_line(record: dict[str, Any]) -> str:
    """One JSONL line: strict UTF-8 JSON with every Unicode line break escaped, ending in a newline.

    Raises:
        ValueError: the record holds NaN or Infinity (strict JSON readers refuse them).
    """
    line = json.dumps(record, ensure_ascii=False, allow_nan=False)
    for char, escaped in _LINE_BREAKS.items():
        line = line.replace(char, escaped)
    return line + "\n"


def export_sessions(
    sessions: Iterable[Session],
    fmt: str,
    out_path: str | os.PathLike[str],
    only_finished: bool = False,
    env: Mapping[str, str] | None = None,
) -> ExportReport:
    """Write one validated JSONL record per exportable session.

    Args:
        sessions: the sessions, in output order.
        fmt: "openai", "hf", "sharegpt" or "hermes".
        out_path: the JSONL file to (re)place atomically.
        only_finished: keep only sessions whose finish reason is `user_done`.
        env: the environment whose `*_API_KEY`/`*_TOKEN` values count as secrets
            (default: `os.environ` at call time).

    Returns:
        How many records were written, and each skipped session id with its reason.

    Raises:
        ValueError: unknown format.
        SessionFileError: the output cannot be written (any old file is intact).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    secrets = secret_env_values(env)
    report = ExportReport()
    seen: set[str] = set()
    lines: list[str] = []
    for session in sessions:
        if only_finished and session.finish_reason is not FinishReason.USER_DONE:
            reason = session.finish_reason.value if session.finish_reason else "not finished"
            report.skipped.append((session.id, f"not finished by the user ({reason})"))
            continue
        if session.id in seen:
            report.skipped.append((session.id, "duplicate session id; exported once already"))
            continue
        seen.add(session.id)
        try:
            record = build_record(session, fmt, secrets)
            lines.append(jsonl_line(record))
        except RecordRejected as exc:
            report.skipped.append((session.id, str(exc)))
            continue
        except ValueError as exc:  # NaN or Infinity somewhere in the record
            report.skipped.append((session.id, f"not strict JSON ({exc})"))
            continue
    with atomic_writer(out_path) as out:
        out.writelines(lines)
    report.written = len(lines)
    return report
