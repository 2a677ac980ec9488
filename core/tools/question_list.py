"""Question lists: the first artifact of tool preparation, as a file a forge writes and reads.

`turnloom forge` in simulated execution writes the questions it generated to
`<OUT>.questions.json` as soon as the question stage ends, before any tool is made, so a
forge stopped later resumes from that file (`forge --questions-file FILE`), and one's own
questions can replace the stage. Accepted shapes:

- the file forge writes: `{"format": "turnloom-questions", "format_version": 1, "domain": ..., "questions": [...]}`;
- a JSON array of strings;
- text or JSONL: one question per line (a JSONL line may be a JSON string or `{"question": ...}`).

Each question is a non-empty string; a fault names the file, the line or index and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from turnloom.core.errors import ToolsetError
from turnloom.core.storage.snapshot import atomic_writer
from turnloom.core.tools.artifact_files import read_artifact

QUESTIONS_FORMAT: Final = "turnloom-questions"
QUESTIONS_VERSION = 1


class QuestionList(BaseModel):
    """The file format of a question list."""

    model_config = ConfigDict(extra="forbid")

    format: str = QUESTIONS_FORMAT
    format_version: int = QUESTIONS_VERSION
    domain: str
    """The domain (or synthetic topic) the questions are about."""
    questions: list[str] = Field(default_factory=list)


def questions_path(toolset_path: str | Path) -> Path:
    """Where a forge writing `toolset_path` puts its question list: `X.json` -> `X.questions.json`."""
    path = Path(toolset_path)
    stem = path.name[: -len(".json")] if path.name.endswith(".json") else path.name
    return path.with_name(f"{stem}.questions.json")


def save_questions(path: str | Path, domain: str, questions: list[str]) -> None:
    """Write a question list atomically."""
    text = QuestionList(domain=domain, questions=questions).model_dump_json(indent=2) + "\n"
    with atomic_writer(Path(path)) as handle:
        handle.write(text)


def load_questions(path: str | Path) -> list[str]:
    """The questions of a question-list file, in order.

    Raises:
        ToolsetError: missing or unreadable file, no question, or a question that is not a
            non-empty string (naming the file and the line or index).
    """
    file = Path(path)
    text = read_artifact(file, "--questions-file", ToolsetError)
    questions = [_question(file, where, raw) for where, raw in _entries(file, text)]
    if not questions:
        raise ToolsetError(f"--questions-file {file}: no question in it")
    return questions


def _entries(file: Path, text: str) -> list[tuple[str, Any]]:
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, list):
            return [(f"questions[{i}]", raw) for i, raw in enumerate(whole)]
        if isinstance(whole, dict) and "questions" in whole:
            if whole.get("format", QUESTIONS_FORMAT) != QUESTIONS_FORMAT:
                raise ToolsetError(
                    f"--questions-file {file}: field 'format' is {whole['format']!r}, not {QUESTIONS_FORMAT!r}"
                )
            listed = whole["questions"]
            if not isinstance(listed, list):
                raise ToolsetError(f"--questions-file {file}: field 'questions' must be a list of strings")
            return [(f"questions[{i}]", raw) for i, raw in enumerate(listed)]
    entries: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(("{", '"')):
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ToolsetError(f"--questions-file {file}: line {number} is not JSON ({exc.msg})") from None
            if isinstance(value, dict):
                if "question" not in value:
                    raise ToolsetError(f"--questions-file {file}: line {number}: field 'question' is missing")
                value = value["question"]
            entries.append((f"line {number}", value))
        else:
            entries.append((f"line {number}", line))
    return entries


def _question(file: Path, where: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ToolsetError(f"--questions-file {file}: {where}: a question must be a non-empty string")
    return raw.strip()
