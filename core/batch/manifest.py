"""The manifest of a batch folder: what was asked for, and where each dialogue stands.

`DIR/manifest.json` holds the batch config (everything that shapes a dialogue),
its hash, the seeds, and one entry per dialogue (file, status, finish reason,
messages, wall time, tokens, error). The session files are the ground truth;
the manifest is a fast index over them, rewritten atomically from time to time
and at the end, so a killed run leaves at worst a stale manifest that the next
run corrects by looking at the files. Running the dialogues is `batch`'s job.
"""

from __future__ import annotations

import hashlib
import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from turnloom.core.errors import SessionFileError, ToolsetError, UsageError
from turnloom.core.models import DEFAULT_MAX_MESSAGES, RoleName, Task
from turnloom.core.players.task_list import load_task_list
from turnloom.core.storage.snapshot import atomic_writer
from turnloom.core.tools.toolset import Toolset, file_sha256, load_toolset
from turnloom.core.untrusted import redact_secrets

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
# BatchConfig fields left out of the hash while None, so batches made before them still resume
_ADDED_LATER = ("tools", "tools_sha256")


class DialogueStatus(StrEnum):
    """Where one dialogue of a batch stands."""

    PENDING = "pending"  # not started
    RUNNING = "running"  # in flight now (or when the run was killed)
    PARTIAL = "partial"  # stopped mid-conversation; the next run continues it
    DONE = "done"  # finished (any finish reason but backend_error)
    FAILED = "failed"  # a backend error or a crash; the next run retries it


class BatchConfig(BaseModel):
    """Everything that shapes the dialogues of a batch; its hash guards a resume.

    Runtime knobs (how many, how fast, where) are not part of it: a resume may
    change `--n`, `--concurrency` or `--executor` freely.
    """

    model_config = ConfigDict(extra="forbid")

    domain: str | None = None
    """Built-in domain pack (None when `db` is given)."""
    db: str | None = None
    """A user-supplied SQLite file (absolute path)."""
    db_sha256: str | None = None
    """Content hash of `db`, so a changed database is noticed."""
    mode: str = "user-oriented"
    execution: str = "sql"
    tasks: int | None = None  # None: each dialogue draws its number from its seed
    max_messages: int = DEFAULT_MAX_MESSAGES
    rule_set: str | None = "paper"
    seed_start: int = 0
    roles: dict[str, str] = Field(default_factory=dict)
    """Role -> backend profile name; unmapped roles are offline."""
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """The mapped profiles' endpoint and sampling (never keys)."""
    format: str = "json"
    """Session file format: json or toml."""
    tools: str | None = None
    """A toolset file (absolute path) whose tools replace the derived ones; None for the derived tools."""
    tools_sha256: str | None = None
    """Content hash of `tools`, so a resume with another toolset is refused."""
    task_file: str | None = None
    """A task list (absolute path) whose tasks the dialogues take in turn (`--task-file`); None: the task generator."""
    task_file_sha256: str | None = None
    """Content hash of `task_file`, so a resume with other tasks is refused."""

    @field_validator("profiles")
    @classmethod
    def _no_credentials(cls, profiles: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """A `base_url` carrying a password or a key is kept with `***` in its place: no key lands on disk."""
        return {
            name: {key: redact_secrets(value) if isinstance(value, str) else value for key, value in fields.items()}
            for name, fields in profiles.items()
        }

    def hash(self) -> str:
        """A short, stable hash of the config."""
        data = self.model_dump(mode="json")
        for key in _ADDED_LATER:
            if data[key] is None:
                del data[key]  # a batch made before the field existed keeps its hash
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    @property
    def offline(self) -> bool:
        """Every role a dialogue plays runs offline (CPU-bound, no network).

        The forge is not one of them: it runs once, before the batch (see `turnloom generate`).
        """
        return all(profile == "offline" for role, profile in self.roles.items() if role != RoleName.FORGE)

    def toolset(self) -> Toolset | None:
        """The toolset the dialogues use, or None for the derived tools.

        Raises:
            ToolsetError: the file cannot be read, or it changed since the batch began.
        """
        if self.tools is None:
            return None
        toolset = load_toolset(self.tools)
        if self.tools_sha256 is not None and file_sha256(self.tools) != self.tools_sha256:
            raise ToolsetError(
                f"--tools {self.tools}: the file changed since this batch began; "
                "restore it, or start the batch in another folder"
            )
        return toolset

    def task_list(self) -> list[Task]:
        """The tasks of `task_file` (empty without one).

        Raises:
            UsageError: the file cannot be read, is malformed, or changed since the batch began.
        """
        if self.task_file is None:
            return []
        if self.task_file_sha256 is not None and file_sha256(self.task_file) != self.task_file_sha256:
            raise UsageError(
                f"--task-file {self.task_file}: the file changed since this batch began; "
                "restore it, or start the batch in another folder"
            )
        return load_task_list(self.task_file)


class DialogueEntry(BaseModel):
    """One dialogue's line in the manifest."""

    model_config = ConfigDict(extra="forbid")

    index: int
    seed: int
    file: str
    status: DialogueStatus = DialogueStatus.PENDING
    finish_reason: str | None = None
    messages: int = 0
    wall_s: float | None = None
    tokens: int = 0
    cost: float | None = None
    error: str | None = None


class Manifest(BaseModel):
    """The whole manifest file."""

    model_config = ConfigDict(extra="forbid")

    manifest_version: int = MANIFEST_VERSION
    config: BatchConfig
    config_hash: str
    dialogues: list[DialogueEntry] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many dialogues are in each status."""
        out = {status.value: 0 for status in DialogueStatus}
        for entry in self.dialogues:
            out[entry.status.value] += 1
        return out


def manifest_path(folder: str | os.PathLike[str]) -> Path:
    return Path(folder) / MANIFEST_NAME


def session_file_name(seed: int, fmt: str = "json") -> str:
    """The file a dialogue is saved in: named by its seed, so a seed can never run twice."""
    return f"seed-{seed:07d}.session.{fmt}"


def load_manifest(folder: str | os.PathLike[str]) -> Manifest | None:
    """The folder's manifest, or None when it has none.

    Raises:
        SessionFileError: a manifest that cannot be read or parsed (with what to do).
    """
    path = manifest_path(folder)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SessionFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as exc:
        raise SessionFileError(
            f"{path}: not a turnloom batch manifest ({exc.errors()[0]['msg']}); move it aside to start the batch afresh"
        ) from None


def save_manifest(folder: str | os.PathLike[str], manifest: Manifest) -> None:
    """Write the manifest atomically.

    Raises:
        SessionFileError: the folder is not writable.
    """
    with atomic_writer(manifest_path(folder)) as out:
        out.write(manifest.model_dump_json(indent=1))
        out.write("\n")


def config_diff(old: BatchConfig, new: BatchConfig) -> list[str]:
    """One line per setting that differs: `key: old -> new`."""
    before, after = _flatten(old.model_dump(mode="json")), _flatten(new.model_dump(mode="json"))
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            lines.append(f"  {key}: {json.dumps(before.get(key))} -> {json.dumps(after.get(key))}")
    return lines


def check_resumable(existing: Manifest, config: BatchConfig, force: bool) -> None:
    """Refuse to resume a batch under a different config unless forced.

    Raises:
        UsageError: the configs differ and `force` is False; the message holds the diff.
    """
    if existing.config_hash == config.hash() or force:
        return
    diff = "\n".join(config_diff(existing.config, config))
    raise UsageError(
        "this folder holds a batch made with a different config:\n"
        f"{diff}\n"
        "Re-run with the original options to resume it, use another --out folder, or pass "
        "--force to go on with the new config (finished dialogues are kept as they are; "
        "half-finished ones continue under their own saved config)"
    )


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out |= _flatten(value, f"{prefix}{key}.")
        return out
    return {prefix.rstrip("."): data}
