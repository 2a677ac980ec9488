"""What an export may change about a record: encoding, call order, tools, system prompt, reasoning.

`ExportOptions` is built once per export (the `export` command parses it from its options) and
handed to every format's builder. The defaults reproduce the plain export: every tool listed,
parallel calls kept, no system prompt added, reasoning dropped, and each format's own encoding.

Owns: `ExportOptions`, `ToolSelection`, `ParallelCalls`.
Leaves to others: applying them (`export.shaping`, `export.schemas`, the format builders).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

_USED_PLUS = re.compile(r"used\+(\d{1,4})")


class ParallelCalls(StrEnum):
    """How an assistant step with several tool calls is written."""

    KEEP = "keep"  # one assistant message with every call, then every result
    SEQUENTIAL = "sequential"  # call -> result pairs, in the order the calls ran


@dataclass(frozen=True)
class ToolSelection:
    """Which tool schemas a record lists: all of them, or the ones it used plus N distractors."""

    used_only: bool = False
    distractors: int = 0

    @classmethod
    def parse(cls, text: str) -> ToolSelection:
        """Read `all`, `used` or `used+N`.

        Raises:
            ValueError: anything else, with the accepted forms.
        """
        if text == "all":
            return cls()
        if text == "used":
            return cls(used_only=True)
        if match := _USED_PLUS.fullmatch(text):
            return cls(used_only=True, distractors=int(match[1]))
        raise ValueError(f"{text!r} is not all, used or used+N (N a whole number, e.g. used+5)")

    def __str__(self) -> str:
        if not self.used_only:
            return "all"
        return f"used+{self.distractors}" if self.distractors else "used"


@dataclass(frozen=True)
class ExportOptions:
    """The choices one export applies to every record.

    Attributes:
        json_strings: tools (and, in hf, tool-call arguments) as JSON strings; None means the
            format's default (`FORMAT_JSON_STRINGS`).
        parallel_calls: keep parallel steps, or split them into call -> result pairs.
        tools: which tool schemas each record lists.
        system: add the assistant's system prompt to a transcript that has none.
        keep_reasoning: keep reasoning models' traces where the format has a place for them.
    """

    json_strings: bool | None = None
    parallel_calls: ParallelCalls = ParallelCalls.KEEP
    tools: ToolSelection = field(default_factory=ToolSelection)
    system: bool = False
    keep_reasoning: bool = False

    def strings_for(self, fmt: str) -> bool:
        """Whether format `fmt` writes JSON strings under these options."""
        return FORMAT_JSON_STRINGS.get(fmt, False) if self.json_strings is None else self.json_strings


# hf: JSON strings are the only encoding every `datasets` release loads faithfully (nested objects
# need datasets >= 4.7's Json() type); openai: OpenAI's fine-tuning API takes `tools` as objects.
FORMAT_JSON_STRINGS = {"hf": True, "openai": False, "dpo": True}
