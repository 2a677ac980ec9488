"""How far a simulated-execution forge got: saved after every request, so a stopped forge resumes.

The method's tool preparation is questions -> tools for each question -> expansion ->
output schemas (one multi-turn conversation over the toolset). The question list is its
own artifact (`tools.question_list`); this file holds what came after it, beside the
toolset being made (`X.json` -> `X.progress.json`):

- the tools made so far and how many questions they answer;
- whether the expansion stage ran (its tools are then among them);
- each output-schema reply so far, as the model gave it, so the resumed conversation
  is the one that was interrupted, turn for turn (and its requests hit an exchange-log
  cache made by the first attempt);
- what was dropped and what it all cost.

A progress file is used only by a forge of the same questions, domain, seed, execution
and model; `forging.forge_toolset` reads and writes it through `ForgeCheckpoint`, and the
forge and generate commands delete it once the toolset is saved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from turnloom.core.errors import ToolsetError
from turnloom.core.models import ToolSpec, Usage
from turnloom.core.storage.snapshot import atomic_writer
from turnloom.core.tools.toolset import DroppedTool

PROGRESS_FORMAT: Final = "turnloom-forge-progress"
PROGRESS_VERSION = 1


class ForgeProgress(BaseModel):
    """The file format of a forge's progress past its question stage."""

    model_config = ConfigDict(extra="forbid")

    format: str = PROGRESS_FORMAT
    format_version: int = PROGRESS_VERSION
    domain: str
    """The domain (or synthetic topic) being forged for."""
    seed: int
    """The seed sent with every forge request."""
    model: str | None = None
    """The forge profile's model."""
    questions: list[str]
    """The questions the tools are made for, in order."""
    answered: int = 0
    """How many of `questions` (from the first) have their tools in `tools`."""
    tools: list[ToolSpec] = Field(default_factory=list)
    """The tools made so far, without output schemas."""
    expanded: bool = False
    """Whether the expansion stage ran (its tools are the last of `tools`)."""
    expansion: int = 0
    """How many tools the expansion stage added."""
    schema_replies: list[dict[str, Any]] = Field(default_factory=list)
    """The output-schema conversation's replies so far, one per tool of `tools` in order."""
    dropped: list[DroppedTool] = Field(default_factory=list)
    """Tools the tool and expansion stages could not use, with the reason."""
    usage: Usage = Field(default_factory=Usage)
    requests: int = 0

    def matches(self, domain: str, seed: int, model: str | None, questions: list[str]) -> bool:
        """Whether this progress belongs to a forge of these questions (else it starts over)."""
        return (self.domain, self.seed, self.model, self.questions) == (domain, seed, model, questions)

    def where(self) -> str:
        """What is done, for the resume line."""
        parts = [f"tools for {self.answered}/{len(self.questions)} questions"]
        if self.expanded:
            parts.append(f"expansion ({self.expansion} more)")
        if self.schema_replies:
            parts.append(f"{len(self.schema_replies)}/{len(self.tools)} output schemas")
        return ", ".join(parts)


def progress_path(toolset_path: str | Path) -> Path:
    """Where a forge writing `toolset_path` keeps its progress: `X.json` -> `X.progress.json`."""
    path = Path(toolset_path)
    stem = path.name[: -len(".json")] if path.name.endswith(".json") else path.name
    return path.with_name(f"{stem}.progress.json")


class ForgeCheckpoint:
    """A forge's progress file: read once to resume, written after every request."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> ForgeProgress | None:
        """The saved progress, or None when there is none.

        Raises:
            ToolsetError: the file is not a forge progress file (naming it and the field at fault).
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolsetError(f"{self.path}: cannot read this forge progress file ({exc}); delete it") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or data.get("format") != PROGRESS_FORMAT:
            raise ToolsetError(
                f'{self.path}: not a forge progress file (no "format": "{PROGRESS_FORMAT}"); '
                "delete it to forge from the questions again"
            )
        try:
            return ForgeProgress.model_validate(data)
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else "?"
            raise ToolsetError(
                f"{self.path}: field {where} is not what a forge progress file holds; "
                "delete it to forge from the questions again"
            ) from None

    def save(self, progress: ForgeProgress) -> None:
        """Write `progress` atomically."""
        with atomic_writer(self.path) as handle:
            handle.write(progress.model_dump_json() + "\n")

    def clear(self) -> None:
        """Remove the file (the toolset it led to is saved, or a new forge starts over)."""
        self.path.unlink(missing_ok=True)
