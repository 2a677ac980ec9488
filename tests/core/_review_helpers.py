"""A generated folder for the review tests: made once per test session with the offline backend, copied per test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from turnloom.core.cli import main
from turnloom.core.models import Role, Session
from turnloom.core.review.index import INDEX_NAME
from turnloom.core.storage.snapshot import load_session, save_session

_MADE: dict[str, Path] = {}


def generated_folder(base: Path, target: Path, n: int = 6, domain: str = "retail") -> Path:
    """A copy at `target` of a `turnloom generate --n n --domain domain` folder made once under `base`."""
    key = f"{domain}-{n}"
    if key not in _MADE:
        out = base / key
        assert main(["generate", "--domain", domain, "--n", str(n), "--out", str(out), "--quiet"]) == 0
        _MADE[key] = out
    shutil.copytree(_MADE[key], target)
    return target


def spoil(path: Path) -> Session:
    """Make the session at `path` fail the `feedback` check (a complaint right after a served request), saved."""
    session = load_session(path)
    at = next(i for i, m in enumerate(session.messages) if m.role is Role.USER and i > 0)
    session.messages[at] = session.messages[at].model_copy(update={"content": "That's not quite what I asked."})
    save_session(session, path)
    return session


def stored_rows(folder: Path) -> list[dict]:
    """The index file's rows, as field -> value."""
    data = json.loads((folder / INDEX_NAME).read_text())
    return [dict(zip(data["header"]["fields"], row, strict=True)) for row in data["rows"]]
