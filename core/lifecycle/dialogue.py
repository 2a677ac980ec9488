"""Start a dialogue: create a session for a domain or database, and an engine to drive it.

This is where a session's pieces meet: the domain's database image, the tools
the forge derives from it, the rules in force, the roles (offline by default)
and the tool environment. The CLI, the TUI and the batch runner all start here.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from turnloom.core.domains import get_pack
from turnloom.core.engine.engine import DialogueEngine, SessionRecorder
from turnloom.core.errors import DatabaseError, UsageError
from turnloom.core.models import (
    DEFAULT_MAX_MESSAGES,
    GenerationConfig,
    Mode,
    Session,
    Task,
    ToolExecution,
    Usage,
    new_session_id,
)
from turnloom.core.players.forging import ToolSource, derived_tools, is_pack
from turnloom.core.players.offline import offline_roles
from turnloom.core.players.offline.knowledge import knowledge_or_none
from turnloom.core.players.offline.tasks import task_count
from turnloom.core.players.roles import RoleSet
from turnloom.core.players.task_list import PlannedTasks
from turnloom.core.rules.catalog import rule_config
from turnloom.core.rules.check import DomainReading, build_rule_checker
from turnloom.core.tools.dbimage import build_pack_image, empty_database_image, load_database_image
from turnloom.core.tools.environment import ToolEnvironment
from turnloom.core.tools.toolset import Toolset, usable_tools

if TYPE_CHECKING:
    from turnloom.core.players.setup import BackendSetup


def base_image(session: Session) -> bytes:
    """The database a session starts from: its pack's, or its user-supplied file's.

    Raises:
        DatabaseError: when the session's database file is missing or unusable.
    """
    if session.db_path is None:
        if session.config.execution is ToolExecution.SIMULATED and not is_pack(session.domain):
            return empty_database_image()  # synthetic tools (forged with no database): nothing to query
        return build_pack_image(get_pack(session.domain))
    return load_database_image(session.db_path)


def create_session(
    domain: str | None = None,
    db_path: str | Path | None = None,
    mode: Mode = Mode.USER_ORIENTED,
    execution: ToolExecution = ToolExecution.SQL,
    seed: int = 0,
    tasks: int | None = 3,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    rule_set: str | None = "paper",
    session_id: str | None = None,
    created_at: str | None = None,
    toolset: Toolset | None = None,
    planned_tasks: list[Task] | None = None,
) -> Session:
    """A new, empty session with tools derived from the domain's database (or a toolset's).

    Args:
        domain: a built-in domain pack name (ignored when `db_path` is given).
        db_path: a user-supplied SQLite file.
        rule_set: the named rule set in force (user-oriented mode only).
        session_id, created_at: fixed values for a re-run that must reproduce a
            recorded session byte for byte; fresh ones when None.
        toolset: use these tools instead of the derived ones, once `check_tools` has
            found them fit for this database and tool execution.
        tasks: how many tasks the dialogue chains; None draws the number from the seed
            (`players.offline.tasks.task_count`: mostly one to five, a tail of long dialogues).
        planned_tasks: the dialogue's tasks from a task list (`players.task_list`), used in
            order in place of the task generator; `tasks` becomes their number.

    Raises:
        DomainError: unknown domain. DatabaseError: unusable database file.
        ToolsetError: a toolset whose tools cannot serve this session.
    """
    source = ToolSource.for_tools(domain, db_path, toolset)
    if toolset is None:
        tools = derived_tools(source).tools
    else:
        tools = usable_tools(toolset, source.image, execution)
    name, stored_path = source.domain, source.db
    rng = random.Random(f"{seed}:reference-time")
    reference = datetime(2025, 1, 1, 9, 0, tzinfo=UTC) + timedelta(
        days=rng.randint(0, 364), minutes=rng.randint(0, 600)
    )
    drawn = rule_config(rule_set, seed) if mode is Mode.USER_ORIENTED else {}
    config = GenerationConfig(
        mode=mode,
        execution=execution,
        seed=seed,
        tasks=len(planned_tasks) if planned_tasks else tasks if tasks is not None else task_count(seed),
        max_messages=max_messages,
        rule_set=rule_set if mode is Mode.USER_ORIENTED else None,
        planned_tasks=list(planned_tasks or []),
        **drawn,
    )
    identity: dict[str, Any] = {"id": session_id, "created_at": created_at}
    return Session(
        **{k: v for k, v in identity.items() if v is not None},
        domain=name,
        db_path=stored_path,
        reference_time=reference.isoformat(),
        config=config,
        tools=tools,
    )


def open_engine(
    session: Session,
    recorder: SessionRecorder | None = None,
    roles: RoleSet | None = None,
    backends: BackendSetup | None = None,
) -> DialogueEngine:
    """An engine over `session`, its database rebuilt from the session's write log.

    Args:
        roles: the role players; when None, the session's role mapping decides
            (`session.config.roles`: profile names, built with `players.setup.build_roles`),
            and unmapped roles are offline.
        backends: shared endpoints, exchange log and cache for mapped roles; when
            None, the config file found by `load_config` supplies the profiles.

    Raises:
        ConfigError: a mapped profile that is not defined.
    """
    environment = ToolEnvironment(
        base_image(session), session.config.execution, None, max_result_bytes=session.config.max_tool_result_bytes
    )
    if roles is None and any(name != "offline" for name in session.config.roles.values()):
        from turnloom.core.config import load_config
        from turnloom.core.players.setup import build_roles

        config = backends.config if backends is not None else load_config()
        roles = build_roles(session, config, environment, backends)
    if roles is None:
        roles = offline_roles(session, environment)
    if session.config.planned_tasks:
        roles.tasks = PlannedTasks(session.config.planned_tasks, roles.tasks)
    environment.simulator = roles.tool
    if session.config.execution is ToolExecution.SIMULATED and roles.tool is None:
        raise DatabaseError("simulated execution needs a tool simulator role")
    if session.write_log:
        environment.reset_to(session)
    return DialogueEngine(
        session, roles, environment, recorder, rule_checker=build_rule_checker(session, environment, knowledge_or_none)
    )


def domain_reading(session: Session) -> DomainReading | None:
    """How the session's domain reads requests (its intents and phrasings), for checks over a finished
    transcript; None when the domain has no pack to read it by (the rule checks then say so)."""
    return knowledge_or_none(session)


def run_to_end(session: Session, max_messages: int | None = None) -> Session:
    """Drive `session` offline (or on its mapped roles) until it finishes or pauses; returns it.

    Args:
        max_messages: stop once the transcript has this many messages, if it comes first.
    """
    engine = open_engine(session)
    steps = None if max_messages is None else max(0, max_messages - len(session.messages))
    try:
        asyncio.run(engine.run(max_steps=steps))
    finally:
        engine.environment.close()
    return session


def fork_session(session: Session, at: int, path: str | None = None) -> Session:
    """A new session with the first `at` messages of `session`; the parent is untouched.

    The write log and tasks are cut to that point, so the fork's database,
    rebuilt from its own log, is the parent's database as it was at message `at`.

    Raises:
        UsageError: when `at` is outside the transcript.
    """
    if at < 0 or at > len(session.messages):
        raise UsageError(f"--at {at} is outside the transcript (0..{len(session.messages)})")
    fork = session.model_copy(deep=True)
    fork.cut(at)
    data = fork.model_dump()
    data["id"] = new_session_id()
    data.pop("created_at")  # the fork's own: the field's default, now
    data["parent"] = {"session_id": session.id, "path": path, "at": at}
    usage = Usage()
    for message in data["messages"]:
        if message["meta"].get("usage"):
            usage = usage + Usage.model_validate(message["meta"]["usage"])
    data["usage"] = usage.model_dump()
    return Session.model_validate(data)
