"""Prompt templates for the LLM role players, as editable files in this package.

Each role or forge stage has its own template file (`user_simulator.md`,
`assistant.md`, `forge_tools.md`, ...). Templates use `{{ name }}` placeholders,
so JSON examples inside them need no escaping. Loading reads the packaged file
with importlib.resources; a folder named by `TURNLOOM_PROMPTS` overrides any
file it contains, so a curator can edit prompts without touching the install.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from ..errors import ConfigError

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def load_template(name: str) -> str:
    """The text of template `name` (e.g. ``"assistant.md"``).

    Raises:
        ConfigError: no such template, naming where it was looked for.
    """
    override = os.environ.get("TURNLOOM_PROMPTS")
    if override:
        candidate = Path(override) / name
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    entry = resources.files(__name__).joinpath(name)
    if not entry.is_file():
        raise ConfigError(f"prompt template {name!r} not found in turnloom.core.prompts (or $TURNLOOM_PROMPTS)")
    return entry.read_text(encoding="utf-8")


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
