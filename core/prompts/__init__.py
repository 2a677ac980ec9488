"""Prompt templates for the LLM role players, as editable files in this package.

Each role or forge stage has its own template file (`user_simulator.md`,
`assistant.md`, `forge_tools.md`, ...). Templates use `{{ name }}` placeholders,
so JSON examples inside them need no escaping. Loading reads the packaged file
with importlib.resources; a folder named by `TURNLOOM_PROMPTS` overrides any
file it contains, so a curator can edit prompts without touching the install.

Owns: the template files, `render`, `json_repair` (the message of a structured reply's repair
round). Leaves to others: when a prompt is sent and what comes back (players, endpoint).
"""

from __future__ import annotations

import os
import re
import stat
from functools import lru_cache
from importlib import resources
from pathlib import Path

from turnloom.core.errors import ConfigError

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def load_template(name: str) -> str:
    """The text of template `name` (e.g. ``"assistant.md"``).

    Raises:
        ConfigError: no such template, naming where it was looked for.
    """
    override = os.environ.get("TURNLOOM_PROMPTS")
    if override:
        text = _read_if_file(os.path.join(override, name))
        if text is not None:
            return text
    folder = _packaged()
    if isinstance(folder, str):
        text = _read_if_file(os.path.join(folder, name))
        if text is not None:
            return text
    else:
        entry = folder.joinpath(name)
        if entry.is_file():  # a packaged install that is not plain files (a zip)
            return entry.read_text(encoding="utf-8")
    raise ConfigError(f"prompt template {name!r} not found in turnloom.core.prompts (or $TURNLOOM_PROMPTS)")


@lru_cache(maxsize=1)
def _packaged() -> str | resources.abc.Traversable:
    """Where the packaged templates are: a folder path, or a traversable for a zipped install.

    Resolved once per process (it is most of a render's cost otherwise); the files
    themselves are still checked on every render.
    """
    folder = resources.files(__name__)
    return str(folder) if isinstance(folder, Path) else folder


def _read_if_file(path: str) -> str | None:
    """The text of the file at `path`, or None when there is none; read again only when it changed."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return _read(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=128)
def _read(path: str, mtime_ns: int, size: int) -> str:
    # keyed by modification time and size, so an edited template is read again
    # (renders happen several times per request in a batch; a stat is far cheaper than a read)
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def render(template: str, **values: object) -> str:
    """Template file `template` with its `{{ placeholders }}` filled from `values`.

    Raises:
        ConfigError: the template names a placeholder that was not given.
    """
    text = load_template(template)

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ConfigError(f"prompt template {template!r}: placeholder {{{{ {key} }}}} has no value")
        return str(values[key])

    return _PLACEHOLDER.sub(fill, text).strip()


def json_repair(problem: str) -> str:
    """The message of a repair round: what was wrong with the reply, and to send only the corrected JSON."""
    return render("json_repair.md", problem=problem)
