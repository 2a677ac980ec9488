"""Training-data exports: sessions -> validated JSONL for OpenAI, HF/TRL, ShareGPT or Hermes.

Each session becomes at most one record. A session that stops mid-exchange is cut after its
last assistant reply (the part after it has nothing to learn from). Every record passes the
shared checks in `record_checks` (pairing, argument schemas, role order, empty text, stop
tokens, reasoning, secrets) before it is written; a session that fails is skipped with its
reason, never written half-valid. The output file is replaced atomically.

`ExportOptions` (`options`) shape every record the same way: JSON strings, parallel calls kept
or split (`shaping`), which tools are listed, an added system prompt, kept reasoning. Tool
schemas are always written with string-only enums (`schemas`). A message's `weight` 0 is
written as OpenAI's `weight`; formats with no per-turn mask end the record before it.

Owns: this module (`export_sessions`, `build_record`), one builder per format (`openai`,
`hf`, `sharegpt`, `hermes`), `record_checks`, `options`, `shaping`, `schemas`.
Leaves to others: reading session files (`storage.journal.open_session`), deciding which
dialogues are fit to train on (quality), the `export` command (cli).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from turnloom.core.export import hermes, hf, openai, sharegpt
from turnloom.core.export.options import ExportOptions, ParallelCalls, ToolSelection
from turnloom.core.export.preference import preference_pairs
from turnloom.core.export.record_checks import (
    RecordRejected,
    check_messages,
    check_reasoning,
    check_secrets,
    check_tool_secrets,
    check_value_secrets,
    secret_env_values,
)
from turnloom.core.export.shaping import cut_before_unweighted, listed_tools, sequential_calls, with_system_prompt
from turnloom.core.export.toolsets import ListedTools, ToolList, ToolsText, escape_line_breaks, toolset
from turnloom.core.models import ChatMessage, FinishReason, Role, Session
from turnloom.core.storage.snapshot import atomic_writer

Builder = Callable[[Session, list[ChatMessage], ListedTools, ExportOptions], dict[str, Any]]

FORMATS: dict[str, Builder] = {
    "openai": openai.build,
    "hf": hf.build,
    "sharegpt": sharegpt.build,
    "hermes": hermes.build,
}

# formats with a place for reasoning traces (OpenAI's fine-tuning format has none)
KEEPS_REASONING = frozenset({"hf", "sharegpt", "hermes"})
# formats whose `tools` (and tool-call arguments) `ExportOptions.json_strings` switches
JSON_STRING_FORMATS = frozenset({"hf", "openai", "dpo"})
# formats of preference pairs from the curator's choices (`preference`): any number of records a session
PREFERENCE_FORMATS = frozenset({"dpo"})
EVERY_FORMAT = (*FORMATS, *sorted(PREFERENCE_FORMATS))

__all__ = [
    "FORMATS",
    "ExportOptions",
    "ExportReport",
    "ParallelCalls",
    "RecordRejected",
    "ToolSelection",
    "EVERY_FORMAT",
    "PREFERENCE_FORMATS",
    "build_record",
    "build_records",
    "check_options",
    "export_sessions",
    "sources_path",
    "training_messages",
]


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


def check_options(fmt: str, options: ExportOptions) -> None:
    """Refuse options the format cannot honour.

    Raises:
        ValueError: unknown format, reasoning kept where the format has no place for it, or
            `json_strings` set for a format it does not apply to (the message says which).
    """
    if fmt not in FORMATS and fmt not in PREFERENCE_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(EVERY_FORMAT)}")
    if options.keep_reasoning and fmt not in KEEPS_REASONING:
        raise ValueError(
            f"--keep-reasoning: the {fmt} format has no place for reasoning; use {', '.join(sorted(KEEPS_REASONING))}"
        )
    if options.json_strings is not None and fmt not in JSON_STRING_FORMATS:
        names = sorted(JSON_STRING_FORMATS)
        raise ValueError(f"--json-strings applies to {', '.join(names[:-1])} and {names[-1]}, not {fmt}")


def build_record(
    session: Session,
    fmt: str,
    env_values: Mapping[str, str] | None = None,
    options: ExportOptions | None = None,
) -> dict[str, Any]:
    """Convert and validate one session.

    Args:
        session: the session.
        fmt: a key of `FORMATS`.
        env_values: secret values to refuse (default: `secret_env_values()` now).
        options: how to shape the record (default: `ExportOptions()`).

    Returns:
        The record, ready to be written as one JSON line. Its `tools` (a `toolsets.ToolList` or
        `ToolsText`) is shared with other records of the same toolset: copy it to change it.

    Raises:
        RecordRejected: the reason the session cannot be exported in this format.
        KeyError: unknown format.
    """
    builder = FORMATS[fmt]
    options = options or ExportOptions()
    messages = training_messages(session)
    by_name = {spec.name: spec for spec in session.tools}
    portable = toolset(session.tools)  # made once per distinct toolset in this process
    check_messages(messages, by_name, portable.schema_texts)
    if options.keep_reasoning:
        check_reasoning(messages)
    if fmt != "openai":  # the only format with a per-turn loss mask (`weight`)
        messages = cut_before_unweighted(messages, fmt)
    if options.system:
        messages = with_system_prompt(session, messages)
    if options.parallel_calls == ParallelCalls.SEQUENTIAL:
        messages = sequential_calls(messages)
    tools = portable.listed(session.tools, listed_tools(session, messages, options.tools))
    secrets = secret_env_values() if env_values is None else env_values
    sources = [(f"message {i} ({m.role})", m.text) for i, m in enumerate(messages)]
    sources += [(f"message {i} reasoning", m.reasoning or "") for i, m in enumerate(messages) if options.keep_reasoning]
    sources += [
        (f"message {i}: arguments of {c.name!r}", c.arguments) for i, m in enumerate(messages) for c in m.tool_calls
    ]
    check_secrets(sources, secrets)
    check_tool_secrets(((f"tool {tool.name!r}", tool.openai_text) for tool in tools), secrets)
    record = builder(session, messages, tools, options)
    # what the builder added (system prompt, tags, separators); the tools were checked above
    # the texts of `sources` passed above: only what the builder made of them is searched again
    clean = {text for _, text in sources}
    check_value_secrets({k: v for k, v in record.items() if k != "tools"}, "record", secrets, clean)
    return record


def build_records(
    session: Session,
    fmt: str,
    env_values: Mapping[str, str] | None = None,
    options: ExportOptions | None = None,
) -> list[dict[str, Any]]:
    """The records one session gives: one for a training format, one per curator choice for `dpo`.

    Raises:
        RecordRejected: the reason the session gives no record in this format.
    """
    if fmt not in PREFERENCE_FORMATS:
        return [build_record(session, fmt, env_values, options)]
    records = preference_pairs(session, options or ExportOptions())
    secrets = secret_env_values() if env_values is None else env_values
    for number, record in enumerate(records):
        check_value_secrets(record, f"pair {number + 1}", secrets)
    return records


def jsonl_line(record: dict[str, Any]) -> str:
    """One JSONL line: strict UTF-8 JSON with every Unicode line break escaped, ending in a newline.

    Raises:
        ValueError: the record holds NaN or Infinity (strict JSON readers refuse them).
    """
    tools = record.get("tools")
    if isinstance(tools, (ToolList, ToolsText)) and tools.line_text is not None and all(map(_is_str, record)):
        # what json.dumps writes for the record, with the tools' text made once per toolset (`toolsets`)
        parts = (
            f"{json.dumps(key, ensure_ascii=False)}: "
            + (tools.line_text if value is tools else json.dumps(value, ensure_ascii=False, allow_nan=False))
            for key, value in record.items()
        )
        return escape_line_breaks("{" + ", ".join(parts) + "}") + "\n"
    return escape_line_breaks(json.dumps(record, ensure_ascii=False, allow_nan=False)) + "\n"


def _is_str(key: object) -> bool:
    return isinstance(key, str)


def export_sessions(
    sessions: Iterable[Session],
    fmt: str,
    out_path: str | os.PathLike[str],
    only_finished: bool = False,
    env: Mapping[str, str] | None = None,
    options: ExportOptions | None = None,
) -> ExportReport:
    """Write one validated JSONL record per exportable session.

    Args:
        sessions: the sessions, in output order.
        fmt: "openai", "hf", "sharegpt" or "hermes".
        out_path: the JSONL file to (re)place atomically.
        only_finished: keep only sessions whose finish reason is `user_done`.
        env: the environment whose `*_API_KEY`/`*_TOKEN` values count as secrets
            (default: `os.environ` at call time).
        options: how to shape every record (default: `ExportOptions()`).

    Returns:
        How many records were written, and each skipped session id with its reason. Beside
        the output, `sources_path(out_path)` lists each record's session, domain and database.

    Raises:
        ValueError: unknown format, or options it cannot honour (`check_options`).
        SessionFileError: the output cannot be written (any old file is intact).
    """
    options = options or ExportOptions()
    check_options(fmt, options)
    secrets = secret_env_values(env)
    report = ExportReport()
    seen: set[str] = set()
    lines: list[str] = []
    origins: list[dict[str, str | None]] = []
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
            records = [jsonl_line(record) for record in build_records(session, fmt, secrets, options)]
            lines += records
            origins += [{"session": session.id, "domain": session.domain, "db": session.db_path}] * len(records)
        except RecordRejected as exc:
            report.skipped.append((session.id, str(exc)))
            continue
        except ValueError as exc:  # NaN or Infinity somewhere in the record
            report.skipped.append((session.id, f"not strict JSON ({exc})"))
            continue
    with atomic_writer(out_path) as out:
        out.writelines(lines)
    with atomic_writer(sources_path(out_path)) as out:
        json.dump({"format": fmt, "records": origins}, out, ensure_ascii=False, indent=1)
        out.write("\n")
    report.written = len(lines)
    return report


def sources_path(out_path: str | os.PathLike[str]) -> Path:
    """The file beside an export naming each record's session, domain and database (line by line).

    `run --from EXPORT.jsonl --record N` reads it to continue a record where it was made. Its
    name ends in `.sources`, not `.json`, so a loader given the export's folder does not read
    it as data.
    """
    path = Path(out_path)
    return path.with_name(path.name + ".sources")
