"""Reading a stage's artifact file (seed tools, question list, task list) with its faults named.

Leaves to the loaders (`seed_tools`, `question_list`, `players.task_list`) what the text must hold.
"""

from __future__ import annotations

from pathlib import Path

from turnloom.core.errors import TurnloomError


def read_artifact(file: Path, option: str, error: type[TurnloomError]) -> str:
    """The UTF-8 text of `file`, given with `option`.

    Raises:
        `error`: the file is missing or cannot be read as UTF-8 text (naming the option and file).
    """
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{option} {file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{option} {file}: cannot read it as UTF-8 text ({exc})") from None
