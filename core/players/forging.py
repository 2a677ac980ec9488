"""Make a toolset for a domain or database: introspected offline, or forged on a model endpoint.

- `offline_toolset`: the tools `tools.derive.derive_tools` writes from the schema (the
  default, with no endpoint; deterministic).
- `forge_toolset` in `sql` execution: those tools plus the SQL tools an LLM writes
  for the schema (one request; each new tool dry-run on a scratch copy, kept only
  if it runs).
- `forge_toolset` in `simulated` execution: the method's tool preparation —
  questions (20-30) -> tools for each question -> expansion (up to 10) -> output
  schemas, predicted in one multi-turn conversation. The introspected tools are
  the seed tools the questions start from; the toolset is the LLM's tools.

A simulated forge saves what it made after every request (`forge_progress`), so one
stopped during the tools, expansion or output-schema stage resumes where it stopped.
The stages themselves are `players.llm.forge`; the file format and the checks
are `toolset`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from turnloom.core.domains import get_pack, pack_names
from turnloom.core.errors import BackendError, DatabaseError
from turnloom.core.models import Session, ToolExecution, ToolSpec
from turnloom.core.players.forge_progress import ForgeCheckpoint, ForgeProgress
from turnloom.core.tools.dbimage import build_pack_image, empty_database_image, load_database_image
from turnloom.core.tools.derive import ForgeReport, derive_tools
from turnloom.core.tools.toolset import DroppedTool, Toolset

if TYPE_CHECKING:
    from turnloom.core.endpoint.endpoint import Endpoint
    from turnloom.core.players.llm.forge import LLMForge

SEED_TOOLS = 12  # introspected tools shown to the question stage
# a line after each stage; `final=False` marks an update the next line replaces (per question)
Progress = Callable[..., None]


@dataclass(frozen=True)
class ToolSource:
    """The database a toolset is made for."""

    domain: str
    """The built-in domain, or the database file's stem."""
    db: str | None
    """A user-supplied SQLite file (absolute path); None for a built-in domain."""
    image: bytes

    @classmethod
    def resolve(cls, domain: str | None = None, db: str | Path | None = None) -> ToolSource:
        """A built-in domain (retail when neither is given) or a user's SQLite file.

        Raises:
            DomainError: unknown domain. DatabaseError: unusable database file.
        """
        if db is not None:
            path = Path(db).expanduser().resolve()
            return cls(path.stem, str(path), load_database_image(path))
        pack = get_pack(domain or "retail")
        return cls(pack.name, None, build_pack_image(pack))

    @classmethod
    def synthetic(cls, topic: str) -> ToolSource:
        """No database (the paper's synthetic-tool variant): tools come from questions about `topic`."""
        return cls(topic, None, empty_database_image())

    @classmethod
    def for_tools(cls, domain: str | None, db: str | Path | None, toolset: Toolset | None) -> ToolSource:
        """The database a dialogue with `toolset` runs on: none for a synthetic toolset, else as `resolve`.

        Raises:
            DomainError: unknown domain. DatabaseError: unusable database file.
        """
        if toolset is not None and toolset.synthetic and db is None and domain in (None, toolset.domain):
            return cls.synthetic(toolset.domain)
        return cls.resolve(domain, db)

    @classmethod
    def of_session(cls, session: Session, image: bytes) -> ToolSource:
        return cls(session.domain, session.db_path, image)


def is_pack(name: str) -> bool:
    """Whether `name` is a built-in domain pack."""
    return name in pack_names()


def derived_tools(source: ToolSource) -> ForgeReport:
    """The introspected tools of `source`.

    Raises:
        DatabaseError: no tool can be derived from the database.
    """
    report = derive_tools(source.image)
    if not report.tools:
        reasons = "; ".join(f"{n}: {r}" for n, r in report.dropped[:3]) or "it has no usable tables"
        raise DatabaseError(f"{source.db or source.domain}: no tool could be derived from this database ({reasons})")
    return report


def offline_toolset(source: ToolSource, execution: ToolExecution, derived: ForgeReport | None = None) -> Toolset:
    """The introspected toolset: what a dialogue uses when the forge role is offline.

    Raises:
        DatabaseError: no tool can be derived from the database.
    """
    report = derived or derived_tools(source)
    return Toolset(
        domain=source.domain,
        db=source.db,
        execution=execution,
        tools=report.tools,
        dropped=[DroppedTool(name=n, reason=r, stage="derive") for n, r in report.dropped],
    )


async def forge_toolset(
    source: ToolSource,
    execution: ToolExecution,
    endpoint: Endpoint,
    *,
    seed: int = 0,
    questions: int | None = None,
    derived: ForgeReport | None = None,
    progress: Progress | None = None,
    seed_tools: list[ToolSpec] | None = None,
    seed_tools_file: str | None = None,
    given_questions: list[str] | None = None,
    on_questions: Callable[[list[str]], None] | None = None,
    checkpoint: ForgeCheckpoint | None = None,
) -> Toolset:
    """Forge a toolset for `source` on `endpoint` (the forge role's profile).

    Args:
        source: the database.
        execution: `sql` adds the LLM's SQL tools to the introspected ones;
            `simulated` runs questions -> tools -> expansion -> output schemas.
        endpoint: where the forge role is played.
        seed: sent with every request (a re-run with a recording replays it).
        questions: use only the first N questions (simulated); all when None.
        derived: the introspected tools, when already at hand.
        progress: called with a short line after each stage (and each question,
            with `final=False` until the last).
        seed_tools: the example tools question generation starts from (simulated);
            None for the first introspected `search_` tools. `seed_tools_file` names
            their file in the toolset.
        given_questions: questions to make tools for instead of generating them
            (simulated; a question list file, `tools.question_list`).
        on_questions: called with the questions as soon as the question stage ends
            (the forge command saves them, so a stopped forge resumes from there).
        checkpoint: where the stages after the questions save what they made after
            every request, and where a forge of the same questions resumes from
            (simulated; `forge_progress`).

    Raises:
        DatabaseError: no tool can be derived (sql). BackendError: the endpoint
            failed, or the simulated pipeline ended with no usable tool.
    """
    from turnloom.core.players.llm.forge import LLMForge

    say = progress or (lambda _line, final=True: None)
    synthetic = source.db is None and not is_pack(source.domain)
    if synthetic and (execution is ToolExecution.SQL or not (seed_tools or given_questions)):
        raise DatabaseError(
            f"{source.domain}: no database: forge synthetic tools in simulated execution from seed tools"
        )
    derived = derived or (ForgeReport(tools=[], dropped=[]) if synthetic else derived_tools(source))
    forge = LLMForge(endpoint, seed=seed)
    dropped = [DroppedTool(name=n, reason=r, stage="derive") for n, r in derived.dropped]
    asked: list[str] = []
    tools: list[ToolSpec] = []
    if execution is ToolExecution.SQL:
        report = await forge.sql_tools(source.image, derived.tools)
        tools = derived.tools + report.tools
        dropped += [DroppedTool(name=n, reason=r, stage="sql_tools") for n, r in report.dropped]
        say(f"sql tools: {len(report.tools)} kept, {len(report.dropped)} dropped")
    else:
        searches = [t for t in derived.tools if t.name.startswith("search_")]
        seeds = seed_tools or searches[:SEED_TOOLS] or derived.tools[:SEED_TOOLS]
        asked = list(given_questions) if given_questions else await forge.questions(source.domain, seeds)
        if questions is not None:
            asked = asked[:questions]
        if on_questions is not None and not given_questions:
            on_questions(asked)
        say(f"questions: {len(asked)}" + (" (from the file)" if given_questions else ""))
        tools = await _tool_preparation(forge, source.domain, asked, checkpoint, say)
        dropped += [DroppedTool(name=name, reason=reason, stage=stage) for stage, name, reason in forge.dropped]
    return Toolset(
        domain=source.domain,
        db=source.db,
        execution=execution,
        synthetic=synthetic,
        seed_tools=seed_tools_file if execution is ToolExecution.SIMULATED else None,
        forge=endpoint.name,
        model=endpoint.profile.model,
        seed=seed,
        questions=asked,
        tools=tools,
        dropped=dropped,
        usage=forge.spend.usage,
        requests=forge.spend.requests,
    )


async def _tool_preparation(
    forge: LLMForge, domain: str, asked: list[str], checkpoint: ForgeCheckpoint | None, say: Progress
) -> list[ToolSpec]:
    """Tools for each question -> expansion -> output schemas, resumed from `checkpoint` where it matches.

    Raises:
        BackendError: the endpoint failed, or the stages ended with no usable tool.
    """
    model = forge.endpoint.profile.model
    progress = checkpoint.load() if checkpoint is not None else None
    if checkpoint is not None and progress is not None and progress.matches(domain, forge.seed, model, asked):
        say(f"resuming from {checkpoint.path}: {progress.where()}")
        forge.dropped += [(d.stage, d.name, d.reason) for d in progress.dropped]
        forge.spend.usage, forge.spend.requests = progress.usage, progress.requests
    else:
        if checkpoint is not None and progress is not None:
            say(f"{checkpoint.path} is another forge's progress (other questions, seed or model): starting over")
        progress = ForgeProgress(domain=domain, seed=forge.seed, model=model, questions=asked)

    def keep() -> None:
        if checkpoint is not None:
            progress.dropped = [DroppedTool(name=n, reason=r, stage=stage) for stage, n, r in forge.dropped]
            progress.usage, progress.requests = forge.spend.usage, forge.spend.requests
            checkpoint.save(progress)

    for number, question in enumerate(asked[progress.answered :], start=progress.answered + 1):
        progress.tools += await forge.tools_for(domain, question, progress.tools)
        progress.answered = number
        keep()
        say(f"tools: {len(progress.tools)} after question {number}/{len(asked)}", final=number == len(asked))
    if not progress.expanded:
        more = await forge.expand(domain, progress.tools)
        progress.tools += more
        progress.expanded, progress.expansion = True, len(more)
        keep()
    say(f"expansion: {progress.expansion} more")
    if not progress.tools:
        reasons = "; ".join(f"{name}: {reason}" for _, name, reason in forge.dropped[:3]) or "the replies held no tools"
        raise BackendError(f"{forge.endpoint.where}: the forge produced no usable tool ({reasons})")

    def schema_made(index: int, reply: dict[str, Any]) -> None:
        progress.schema_replies[index:] = [reply]
        keep()

    tools = await forge.output_schemas(domain, progress.tools, done=progress.schema_replies, on_reply=schema_made)
    say(f"output schemas: {len(tools)}")
    return tools
