"""Which backend plays which role: profiles resolved into role players.

`resolve_role_map` merges the config's `[roles]`, `--profile NAME` (every role)
and `--role ROLE=PROFILE` into the mapping a session stores (profile *names*,
never keys). `build_roles` turns a session's mapping into a `RoleSet`: mapped
roles are played by LLM players on shared `Endpoint`s, the rest offline. A
`BackendSetup` holds what dialogues share — the endpoints (with their learnt
capabilities and concurrency limits), the exchange log and the cache — so a
batch of dialogues can reuse one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from turnloom.core.config import TurnloomConfig
from turnloom.core.endpoint.exchange_log import ExchangeCache, ExchangeLog
from turnloom.core.errors import ConfigError, UsageError
from turnloom.core.models import DIALOGUE_ROLES, RoleName, Session
from turnloom.core.players.roles import RoleSet, UnplayableRole

if TYPE_CHECKING:  # the wire (and `openai`) loads only when an endpoint is made
    from turnloom.core.endpoint.endpoint import Endpoint
    from turnloom.core.players.llm.judge import RubricJudge

OFFLINE = "offline"


@dataclass(frozen=True)
class BackendSpec:
    """What it takes to build a `BackendSetup` in another process (picklable; no clients, no files open)."""

    config: TurnloomConfig
    record: Path | None = None
    cache: tuple[Path, ...] = ()
    cache_only: bool = False
    batch: bool = False

    def build(self) -> BackendSetup:
        """A fresh setup: its own endpoints and clients, the same log file and cache files.

        Raises:
            SessionFileError: a cache file that cannot be read.
        """
        return BackendSetup.create(
            self.config,
            record=self.record,
            cache=list(self.cache) or None,
            cache_only=self.cache_only,
            batch=self.batch,
        )


@dataclass
class BackendSetup:
    """Endpoints, exchange log and cache shared by the dialogues of one run."""

    config: TurnloomConfig
    log: ExchangeLog | None = None
    cache: ExchangeCache | None = None
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    cache_files: tuple[Path, ...] = ()
    cache_only: bool = False
    batch: bool = False  # serves `generate`: a profile's `client = "auto"` means aiohttp (see `wire`)
    request_limit: int | None = None  # requests in flight per profile at most (`limit_requests`)
    # a role mapped to a profile the config lacks is played by a stand-in that fails each turn
    # naming the profile, instead of refusing to open the session (the TUI reads such sessions)
    defer_missing_profiles: bool = False

    @classmethod
    def create(
        cls,
        config: TurnloomConfig,
        record: str | Path | None = None,
        cache: list[str | Path] | None = None,
        cache_only: bool = False,
        batch: bool = False,
        replace_record: bool = False,
    ) -> BackendSetup:
        """A setup recording to `record` and answering from the `cache` files first.

        `replace_record` starts the `record` file afresh at its first exchange (a new run with
        the same output) instead of appending; the cache files are read now, so `record` may be
        one of them.

        Raises:
            SessionFileError: a cache file that cannot be read.
        """
        loaded = ExchangeCache(list(cache), only=cache_only) if cache else None
        return cls(
            config=config,
            log=ExchangeLog(record, replace=replace_record) if record is not None else None,
            cache=loaded,
            cache_files=tuple(Path(c) for c in cache or ()),
            cache_only=cache_only,
            batch=batch,
        )

    def limit_requests(self, most: int | None) -> None:
        """Keep every profile to at most `most` requests in flight from this setup (a batch's `--concurrency`).

        A profile's own `max_concurrency` still applies when it is lower; None lifts the limit.
        The profiles themselves are not changed, so a later batch can set another limit.
        """
        self.request_limit = most
        for endpoint in self.endpoints.values():
            endpoint.limit_in_flight(most)

    def spec(self, share: int = 1) -> BackendSpec:
        """How to build this setup again in another process, as one of `share` equal parts.

        Each part gets `1/share` of every profile's requests in flight (its `max_concurrency`,
        or the `request_limit` if lower; at least 1), so `share` processes together keep to it.
        """
        profiles = {
            name: profile.model_copy(update={"max_concurrency": max(1, profile.in_flight(self.request_limit) // share)})
            for name, profile in self.config.profiles.items()
        }
        return BackendSpec(
            config=self.config.model_copy(update={"profiles": profiles}),
            record=self.log.path if self.log is not None else None,
            cache=self.cache_files,
            cache_only=self.cache_only,
            batch=self.batch,
        )

    def endpoint(self, name: str) -> Endpoint:
        """The shared endpoint of profile `name`.

        Raises:
            ConfigError: no such profile, naming the config file and the known profiles.
        """
        if name not in self.endpoints:
            profile = self.config.profiles.get(name)
            if profile is None:
                where = self.config.source or "turnloom.toml (none found)"
                known = ", ".join(sorted(self.config.profiles)) or "none"
                raise ConfigError(f"{where}: no [profiles.{name}]; known profiles: {known}")
            from turnloom.core.endpoint.endpoint import Endpoint

            self.endpoints[name] = Endpoint(name, profile, cache=self.cache, log=self.log, batch=self.batch)
            self.endpoints[name].limit_in_flight(self.request_limit)
        return self.endpoints[name]

    async def aclose(self) -> None:
        """Close every endpoint's HTTP client and the exchange log."""
        for endpoint in self.endpoints.values():
            await endpoint.aclose()
        if self.log is not None:
            self.log.close()


def resolve_role_map(
    config: TurnloomConfig, profile: str | None = None, role_args: list[str] | None = None
) -> dict[str, str]:
    """Role -> profile name from the config, then `--profile`, then each `--role ROLE=PROFILE`.

    Raises:
        UsageError: a malformed `--role`, an unknown role, or a profile that does not exist.
    """
    mapping = {role: name for role, name in config.roles.items() if name != OFFLINE}
    if profile is not None:
        mapping = {role: profile for role in RoleName}
    for item in role_args or []:
        role, sep, name = item.partition("=")
        role, name = role.strip(), name.strip()
        if not sep or not role or not name:
            raise UsageError(f"--role {item!r}: expected ROLE=PROFILE, e.g. --role user=strong")
        if role not in set(RoleName):
            raise UsageError(f"--role {item!r}: unknown role {role!r}; roles are {', '.join(RoleName)}")
        if name == OFFLINE:
            mapping.pop(role, None)
        else:
            mapping[RoleName(role)] = name
    for role, name in mapping.items():
        if name not in config.profiles:
            where = config.source or "no turnloom.toml found"
            known = ", ".join(sorted(config.profiles)) or "none"
            raise UsageError(
                f"role {role} uses profile {name!r}, which is not defined ({where}; known profiles: {known})"
            )
    return mapping


def uses_backends(session: Session) -> bool:
    """Whether any role of `session` is mapped to a profile."""
    return any(name != OFFLINE for name in session.config.roles.values())


def build_roles(session: Session, config: TurnloomConfig, environment, setup: BackendSetup | None = None) -> RoleSet:
    """The role players for `session`: its mapped roles on their profiles, the rest offline.

    Args:
        session: the session; `session.config.roles` maps role -> profile name.
        config: where the profiles are defined.
        environment: the dialogue's `ToolEnvironment` (offline players read it).
        setup: shared endpoints, log and cache; a private one when None.

    Raises:
        ConfigError: an unknown profile, or a mapping the offline players cannot follow.
    """
    from turnloom.core.players.llm.assistant import LLMAssistant
    from turnloom.core.players.llm.tasks import LLMTaskGenerator
    from turnloom.core.players.llm.toolsim import LLMToolSimulator
    from turnloom.core.players.llm.user import LLMUserSimulator
    from turnloom.core.players.offline import offline_roles

    setup = setup or BackendSetup(config)
    mapping = {role: name for role, name in session.config.roles.items() if name != OFFLINE}
    unknown = sorted(set(mapping) - set(RoleName))
    if unknown:
        raise ConfigError(
            f"session {session.id}: unknown role(s) {', '.join(unknown)}; roles are {', '.join(RoleName)}"
        )
    if "task" in mapping and "user" not in mapping:
        raise ConfigError(
            "the offline user simulator follows only offline tasks; map the `user` role to a profile too "
            "(--role user=PROFILE) or leave `task` offline"
        )
    offline = offline_roles(session, environment)

    def played(role: RoleName, player: Callable[[Endpoint], Any], offline_player: Any) -> Any:
        if role not in mapping:
            return offline_player
        try:
            return player(setup.endpoint(mapping[role]))
        except ConfigError as exc:
            if not setup.defer_missing_profiles:
                raise
            return UnplayableRole(str(exc))

    return RoleSet(
        tasks=played(RoleName.TASK, LLMTaskGenerator, offline.tasks),
        user=played(RoleName.USER, LLMUserSimulator, offline.user),
        assistant=played(RoleName.ASSISTANT, LLMAssistant, offline.assistant),
        tool=played(RoleName.TOOL, LLMToolSimulator, offline.tool),
        describe={role: mapping.get(role, OFFLINE) for role in DIALOGUE_ROLES},
    )


def build_judge(session: Session, setup: BackendSetup) -> RubricJudge | None:
    """The rubric judge of `session`, or None when the `judge` role is offline."""
    name = session.config.roles.get(RoleName.JUDGE)
    if not name or name == OFFLINE:
        return None
    from turnloom.core.players.llm.judge import RubricJudge

    return RubricJudge(setup.endpoint(name))
