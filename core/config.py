"""turnloom.toml: backend profiles, role mapping, prices, key bindings, theme.

Looked up in the current folder, then the user config dir; `--config FILE`
overrides both; `TURNLOOM_CONFIG` names a file too. Keys are never stored here:
a profile names the environment variable that holds its key (`api_key_env`),
read at call time.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from turnloom.core.errors import ConfigError
from turnloom.core.models import RoleName

CONFIG_NAME = "turnloom.toml"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_KEY_PREFIXES = ("sk_", "sk-", "pk_", "rk_", "gsk_", "xai_", "hf_", "ghp_", "aiza")


def _looks_like_a_key(value: str) -> bool:
    """Whether a would-be variable name looks like a secret: a key prefix, or long, mixed-case and with digits."""
    lowered = value.lower()
    if lowered.startswith(_KEY_PREFIXES) and any(c.isdigit() for c in value):
        return True
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value)
    return len(value) >= 24 and mixed


class Profile(BaseModel):
    """One OpenAI-compatible endpoint and how to talk to it."""

    model_config = ConfigDict(extra="forbid")

    base_url: str
    """Endpoint base URL, e.g. http://127.0.0.1:8000/v1 (the first of `base_urls` when only they are given)."""
    base_urls: list[str] = Field(default_factory=list)
    """Several instances of the same model: requests are spread over them by load, and one that fails is taken
    out of rotation and tried again later (`endpoint.pool`); `max_concurrency` counts requests to all of them."""
    model: str
    """Model name sent with every request."""
    api_key_env: str | None = None
    """Name of the environment variable holding the key (never the key itself)."""
    temperature: float | None = None
    """Sampling temperature; None leaves the server's default."""
    max_tokens: int | None = None
    """Completion token cap per request."""
    timeout: float = Field(default=60.0, gt=0)
    """Seconds without a byte (connecting or reading) before a request is abandoned (and retried)."""
    deadline: float = Field(default=600.0, gt=0)
    """Seconds for one whole request, connect to last byte, streamed or not, before it is abandoned (and retried)."""
    max_prompt_chars: int = Field(default=4_000_000, gt=0)
    """A prompt (messages and tool schemas, as JSON) longer than this is refused before it is sent."""
    max_retries: int = Field(default=4, ge=0)
    """Retries on 429, 5xx, timeouts and dropped connections."""
    max_concurrency: int = Field(default=16, ge=1)
    """Requests in flight at once against this endpoint."""
    json_schema: bool = True
    """The server accepts response_format json_schema."""
    strict: bool = False
    """The server accepts strict json_schema / strict tools."""
    tool_choice: bool = True
    """The server accepts tool_choice."""
    parallel_tool_calls: bool = True
    """The server accepts parallel_tool_calls."""
    json_object: bool = True
    """The server accepts response_format json_object (the fallback when json_schema is off)."""
    stream: bool = True
    """Stream user-simulator and assistant text token by token."""
    retry_backoff: float = Field(default=0.5, ge=0)
    """First delay in seconds of turnloom's own retries (dropped streams, malformed replies); doubles each time."""
    max_reasks: int = Field(default=2, ge=0)
    """Times a malformed reply (bad JSON, bad tool-call arguments) is repaired or asked again before giving up."""
    client: Literal["auto", "openai", "aiohttp"] = "auto"
    """HTTP client: `openai` (the SDK), `aiohttp` (lean, a quarter of the SDK's CPU per request) or `auto`
    (aiohttp for `generate`, the SDK for everything else)."""

    @field_validator("api_key_env")
    @classmethod
    def _a_variable_name(cls, value: str | None) -> str | None:
        # the message never repeats the value: it may be a key pasted in by mistake
        if value is None:
            return None
        if not _ENV_NAME.fullmatch(value):
            raise ValueError(
                "api_key_env names the environment variable that holds the key (letters, digits and _), "
                "and this value is not such a name; if it is a key, remove it from the file, export it as "
                "a variable and name that variable here"
            )
        if _looks_like_a_key(value):
            raise ValueError(
                "api_key_env looks like a key, not the name of a variable; remove it from the file, export it "
                "as a variable (e.g. OPENAI_API_KEY) and name that variable here"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _first_of_base_urls(cls, data: Any) -> Any:
        if isinstance(data, dict) and "base_url" not in data and isinstance(data.get("base_urls"), list):
            if data["base_urls"] and isinstance(data["base_urls"][0], str):
                return {**data, "base_url": data["base_urls"][0]}
        return data

    @field_validator("base_urls")
    @classmethod
    def _plain_urls(cls, values: list[str]) -> list[str]:
        for index, value in enumerate(values):
            try:
                cls._a_plain_url(value)
            except ValueError as exc:
                raise ValueError(f"base_urls[{index}]: {exc}") from None
        return values

    @property
    def urls(self) -> list[str]:
        """Every URL the profile's requests go to: `base_url`, then the other `base_urls`."""
        return list(dict.fromkeys([self.base_url, *self.base_urls]))

    @field_validator("base_url")
    @classmethod
    def _a_plain_url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            port = parts.port  # a bad port raises here
        except ValueError as exc:
            raise ValueError(f"base_url is not a URL ({exc}); e.g. http://127.0.0.1:8000/v1") from None
        if parts.username is not None or parts.password is not None:
            raise ValueError(
                "base_url carries credentials (user:password@); remove them from the file and put the key in "
                "the variable api_key_env names"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = value if len(value) < 100 else value[:100] + "..."
            raise ValueError(f"base_url {shown!r} is not an http(s) URL; e.g. http://127.0.0.1:8000/v1")
        del port
        return value

    def in_flight(self, limit: int | None) -> int:
        """Requests in flight at most under a run's own `limit` (a batch's --concurrency): the lower of the two."""
        return self.max_concurrency if limit is None else min(self.max_concurrency, limit)


class Price(BaseModel):
    """Cost per million tokens for a model."""

    model_config = ConfigDict(extra="forbid")

    prompt: float = 0.0
    """Dollars per million prompt tokens."""
    completion: float = 0.0
    """Dollars per million completion tokens (reasoning tokens are billed as completion)."""


class TurnloomConfig(BaseModel):
    """The whole config file."""

    model_config = ConfigDict(extra="forbid")

    profiles: dict[str, Profile] = Field(default_factory=dict)
    """Named endpoints."""
    roles: dict[str, str] = Field(default_factory=dict)
    """Role (task, forge, user, assistant, tool, judge) -> profile name; unmapped roles are offline."""
    prices: dict[str, Price] = Field(default_factory=dict)
    """Model name -> price per million tokens."""
    keys: dict[str, str] = Field(default_factory=dict)
    """TUI binding id -> key, to remap keys."""
    theme: str | None = None
    """TUI theme name."""
    sessions_dir: str | None = None
    """Where the TUI saves and opens sessions (default ./sessions)."""
    quality_max_messages: int = Field(default=10_000, ge=1)
    """The quality checks judge transcripts up to this many messages; a longer one is rejected as too long to judge."""
    source: str | None = Field(default=None, exclude=True)
    """The file this config came from (not stored)."""


def config_candidates() -> list[Path]:
    paths = []
    if os.environ.get("TURNLOOM_CONFIG"):
        paths.append(Path(os.environ["TURNLOOM_CONFIG"]))
    paths.append(Path.cwd() / CONFIG_NAME)
    paths.append(user_config_path())
    return paths


def user_config_path() -> Path:
    """The user config dir's turnloom.toml (`~/.config/turnloom/turnloom.toml` on Linux), existing or not."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("turnloom")) / CONFIG_NAME


def settings_path(config: TurnloomConfig) -> Path:
    """Where a setting the user changes in the TUI (the theme) is saved so the next start reads it back.

    The file the config came from, since only the first file found is read; with none, the user
    config dir's turnloom.toml (made then).
    """
    return Path(config.source) if config.source else user_config_path()


_TABLE_HEADER = re.compile(r"\s*\[")


def save_setting(path: Path, key: str, value: str) -> None:
    """Set the top-level string `key` of the TOML file `path` to `value`, keeping every other line.

    An existing `key = ...` line before the first table is replaced; otherwise the key is added
    before the first table (top-level keys must come first). The file is replaced atomically,
    and only if the result parses with the new value.

    Raises:
        ConfigError: the file cannot be read, its text does not parse, or it cannot be written.
    """
    import json
    import tempfile

    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    setting = f"{key} = {json.dumps(value)}\n"  # a JSON string is a TOML basic string
    first_table = next((i for i, line in enumerate(lines) if _TABLE_HEADER.match(line)), len(lines))
    own = re.compile(rf"\s*{re.escape(key)}\s*=")
    at = next((i for i in range(first_table) if own.match(lines[i])), None)
    if at is None:
        lines.insert(first_table, setting)
    else:
        lines[at] = setting
    updated = "".join(lines)
    try:
        if tomllib.loads(updated).get(key) != value:
            raise ConfigError(f"{path}: key {key!r} could not be set (a multi-line value?); set it by hand")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}; fix the file to save {key!r}") from None
    temp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(updated)
        os.replace(temp, path)
        temp = None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot save {key!r}: {exc.strerror or exc}") from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)


def load_config(path: str | os.PathLike[str] | None = None) -> TurnloomConfig:
    """The config from `path`, or the first file found; an empty config when none exists.

    Raises:
        ConfigError: a file that cannot be read or parsed, or a bad key (named with its file).
    """
    if path is not None:
        target = Path(path)
        if not target.exists():
            raise ConfigError(f"{target}: config file not found")
        return _read(target)
    for candidate in config_candidates():
        if candidate.is_file():
            return _read(candidate)
    return TurnloomConfig()


def _read(path: Path) -> TurnloomConfig:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    try:
        config = TurnloomConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        # not chained: pydantic's own message repeats the value, which may be a key pasted in by mistake
        raise ConfigError(f"{path}: key {key!r}: {first['msg']}") from None
    for role, profile in config.roles.items():
        if role not in set(RoleName):
            raise ConfigError(f"{path}: [roles] has unknown role {role!r}; roles are {', '.join(RoleName)}")
        if profile != "offline" and profile not in config.profiles:
            raise ConfigError(f"{path}: [roles] {role} = {profile!r} names no [profiles.{profile}]")
    config.source = str(path)
    return config
