"""`turnloom generate`: a batch of dialogues into a folder, concurrent and resumable.

Parses the options into a `BatchConfig`, picks an executor (asyncio tasks for
dialogues that wait on an endpoint, a process pool for offline ones, or Ray),
and runs `batch.run.generate` with a live progress line. Re-running the same
command resumes the batch. The dialogues use the derived tools, a toolset file
(`--tools`), or — with the forge role on a profile — one toolset forged before
the batch into `DIR/toolset.json` and reused when the batch resumes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
from pathlib import Path

from turnloom.core.batch.executors import AsyncExecutor, Executor, ProcessExecutor, RayExecutor
from turnloom.core.batch.manifest import BatchConfig
from turnloom.core.batch.memory import default_budget, dialogue_bytes, open_dialogue_cap
from turnloom.core.batch.progress import format_duration
from turnloom.core.batch.run import BatchReport, generate
from turnloom.core.cli import db_dir
from turnloom.core.cli.db_dir import BatchSteps
from turnloom.core.cli.forge_inputs import add_forge_input_options, check_forge_inputs, refuse_with_tools
from turnloom.core.cli.options import (
    DefaultStr,
    add_backend_options,
    add_task_file_option,
    add_tools_option,
    given,
    non_negative_int,
    positive_int,
    seed_type,
)
from turnloom.core.cli.render import ProgressLine
from turnloom.core.config import TurnloomConfig, load_config
from turnloom.core.errors import UsageError
from turnloom.core.models import DEFAULT_MAX_MESSAGES, Mode, ToolExecution
from turnloom.core.players.task_list import TASK_LIST_FILE, load_task_list, save_batch_task_list
from turnloom.core.tools.question_list import load_questions, questions_path
from turnloom.core.tools.toolset import Toolset, file_sha256, load_toolset

# profile fields that shape what a model writes (keys and retries do not)
PROFILE_FIELDS = ("base_url", "model", "temperature", "max_tokens")
EXCHANGE_LOG = "exchanges.llm.jsonl"
FORGED_TOOLSET = "toolset.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate a batch of dialogues into a folder (concurrent, resumable)",
        description=(
            "Generate N dialogues (seeds S .. S+N-1) into DIR: one session file per dialogue, "
            "journaled as it is made, plus DIR/manifest.json. Ctrl-C stops cleanly; re-running "
            "the same command resumes (finished dialogues are skipped, half-finished ones continue "
            "mid-conversation). A changed config is refused unless --force."
        ),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--domain", default=None, help="built-in domain pack (see `turnloom domains`; default: retail)")
    source.add_argument("--db", metavar="FILE.sqlite", help="use your own SQLite database instead of a built-in domain")
    source.add_argument(
        "--db-dir",
        metavar="DIR",
        help="one batch per *.sqlite in DIR, into OUT/<name>/, each with its own toolset; per-database stats at the end",
    )
    parser.add_argument("--n", type=positive_int, required=True, help="dialogues in the batch")
    parser.add_argument(
        "--n-per",
        choices=("database", "batch"),
        default="database",
        help="with --db-dir: --n dialogues for each database (default), or --n in all spread over them",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=16,
        help="requests in flight at once to a model endpoint (a quarter more dialogues are kept "
        "open; default 16). Offline dialogues run on --workers processes instead",
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.USER_ORIENTED.value,
        help="user-oriented (default) or task-oriented",
    )
    parser.add_argument(
        "--execution",
        choices=[e.value for e in ToolExecution],
        default=DefaultStr(ToolExecution.SQL.value),
        help="sql: tools run on a real SQLite copy (default, or the --tools file's); simulated: schema-shaped results",
    )
    parser.add_argument(
        "--tasks",
        type=non_negative_int,
        default=None,
        help="tasks chained per dialogue (default: drawn from each dialogue's seed, mostly 1-5 with a tail of long ones)",
    )
    parser.add_argument(
        "--max-messages",
        type=positive_int,
        default=DEFAULT_MAX_MESSAGES,
        help=f"stop a dialogue at this many messages (default {DEFAULT_MAX_MESSAGES:,})",
    )
    parser.add_argument("--rules", default="paper", metavar="SET", help="user-behaviour rule set (default: paper)")
    parser.add_argument(
        "--seed-start", type=seed_type, default=0, metavar="S", help="seed of the first dialogue (default 0)"
    )
    parser.add_argument("--format", choices=("json", "toml"), default="json", help="session file format (default json)")
    parser.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: this machine (default); ray: Ray tasks (pip install 'turnloom[ray]')",
    )
    parser.add_argument(
        "--ray-address", metavar="ADDR", help="with --executor ray: an existing cluster (default: start a local one)"
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="processes for offline dialogues (default: CPU count; 1 runs them in this process)",
    )
    parser.add_argument(
        "--memory-budget",
        type=float,
        default=None,
        metavar="GB",
        help="memory the open dialogues' databases may take (each holds its own copy); fewer are kept open "
        "when they would need more. Default: a quarter of physical memory; 0: no cap",
    )
    parser.add_argument("--force", action="store_true", help="resume even though the config differs from the folder's")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    add_tools_option(parser)
    add_forge_input_options(parser, needs_profile=True)
    add_task_file_option(parser)
    add_backend_options(parser)
    parser.set_defaults(handler=handle)


def role_map(args: argparse.Namespace, config: TurnloomConfig) -> dict[str, str]:
    """Role -> profile from the config file, then --profile, then each --role (as `run` does).

    Raises:
        UsageError: a malformed --role, an unknown role, or a profile the config lacks.
    """
    if not (config.roles or args.profile or args.role):
        return {}
    from turnloom.core.players.setup import resolve_role_map

    return resolve_role_map(config, args.profile, args.role)


def batch_config(args: argparse.Namespace, config: TurnloomConfig, toolset: Toolset | None = None) -> BatchConfig:
    """The batch config the options describe; a toolset's domain and execution are the defaults."""
    roles = role_map(args, config)
    profiles = {
        name: {key: getattr(config.profiles[name], key) for key in PROFILE_FIELDS}
        for name in sorted(set(roles.values()) - {"offline"})
    }
    domain, db_arg, execution = args.domain, args.db, str(args.execution)
    if toolset is not None:
        if domain is None and db_arg is None:
            domain, db_arg = (None, toolset.db) if toolset.db else (toolset.domain, None)
        if not given(args.execution):
            execution = toolset.execution.value
    db = db_hash = None
    if db_arg:
        path = Path(db_arg).expanduser().resolve()
        if not path.is_file():
            raise UsageError(f"--db {db_arg}: no such file")
        db, db_hash = str(path), hashlib.sha256(path.read_bytes()).hexdigest()
    tools = str(Path(toolset.source).resolve()) if toolset is not None and toolset.source else None
    task_file = str(Path(args.task_file).resolve()) if getattr(args, "task_file", None) else None
    if task_file is not None:
        load_task_list(task_file)  # a malformed list is named before any dialogue starts
    return BatchConfig(
        task_file=task_file,
        task_file_sha256=file_sha256(task_file) if task_file else None,
        domain=None if db else (domain or "retail"),
        db=db,
        db_sha256=db_hash,
        tools=tools,
        tools_sha256=file_sha256(tools) if tools else None,
        mode=args.mode,
        execution=execution,
        tasks=args.tasks,
        max_messages=args.max_messages,
        rule_set=args.rules if args.mode == Mode.USER_ORIENTED.value else None,
        seed_start=args.seed_start,
        roles=roles,
        profiles=profiles,
        format=args.format,
    )


def pick_executor(args: argparse.Namespace, config: BatchConfig, settings: TurnloomConfig) -> Executor:
    """Ray if asked; a process pool for offline dialogues; asyncio tasks for endpoint-bound ones."""
    if args.executor == "ray":
        if not config.offline:
            raise UsageError("--executor ray runs offline dialogues only for now; map every role to offline")
        return RayExecutor(args.ray_address, num_cpus=args.workers)
    per_dialogue = dialogue_bytes(config.db)
    budget = default_budget() if args.memory_budget is None else int(args.memory_budget * 1024**3)
    if config.offline:
        if args.cache:
            raise UsageError("--cache needs a role on a profile (--profile NAME or --role ROLE=PROFILE)")
        workers = args.workers or os.cpu_count() or 1
        if workers > 1:
            workers, note = open_dialogue_cap(per_dialogue, workers, budget)
            _memory_note(note)
            return ProcessExecutor(workers) if workers > 1 else AsyncExecutor(1)
        concurrency, note = open_dialogue_cap(per_dialogue, args.concurrency, budget)
        _memory_note(note)
        return AsyncExecutor(concurrency)
    from turnloom.core.players.setup import BackendSetup

    # one exchange log for the batch: a re-run with --cache DIR/exchanges.llm.jsonl costs no tokens
    backends = BackendSetup.create(settings, record=Path(args.out) / EXCHANGE_LOG, cache=args.cache or None, batch=True)
    for name in sorted({profile for profile in config.roles.values() if profile != "offline"}):
        profile = settings.profiles[name]
        if profile.max_concurrency < args.concurrency:
            print(
                f"turnloom: note: profile {name!r} allows {profile.max_concurrency} requests in flight "
                f"(max_concurrency in {settings.source or 'its config'}), fewer than --concurrency "
                f"{args.concurrency}; raise it there to use them all",
                file=sys.stderr,
            )
    executor = AsyncExecutor(args.concurrency, backends=backends, prices=settings.prices)
    executor.open_dialogues, note = open_dialogue_cap(per_dialogue, executor.open_dialogues, budget)
    _memory_note(note)
    return executor


def _memory_note(note: str | None) -> None:
    if note:
        print(f"turnloom: note: {note}", file=sys.stderr)


def handle(args: argparse.Namespace) -> int:
    settings = load_config(getattr(args, "config", None))
    if args.questions_file and args.db_dir:
        raise UsageError(
            "--questions-file holds one database's questions; with --db-dir each database's forge asks its own "
            "(forge each with `turnloom forge --db FILE --questions-file ...` and pass --tools instead)"
        )
    if args.db_dir:
        check_forge_inputs(args, role_map(args, settings).get("forge"), ToolExecution(args.execution))
        steps = BatchSteps(batch_config, _with_forged_toolset, _check_toolset, pick_executor, _generate, FORGED_TOOLSET)
        return db_dir.handle(args, settings, steps)
    if args.n_per != "database":
        raise UsageError("--n-per spreads --n over the databases of --db-dir; add --db-dir DIR or drop it")
    refuse_with_tools(args)
    toolset = load_toolset(args.tools) if args.tools else None
    config = batch_config(args, settings, toolset)
    check_forge_inputs(args, config.roles.get("forge"), ToolExecution(config.execution))
    if toolset is None and config.roles.get("forge", "offline") != "offline":
        config = _with_forged_toolset(args, config, settings)
    if config.tools is not None:
        _check_toolset(config)
    _check_sources(config)
    if config.task_file is not None:
        _check_task_file(config)
    executor = pick_executor(args, config, settings)
    progress = None if args.quiet else ProgressLine()
    report = asyncio.run(_generate(config, args, executor, progress))
    for note in report.notes:
        print(f"turnloom: note: {note}", file=sys.stderr)
    if report.complete and (report.ran or not (Path(args.out) / TASK_LIST_FILE).exists()):
        try:
            save_batch_task_list(Path(args.out))
        except OSError as exc:  # a folder that can be read but not written (a finished batch reopened)
            print(
                f"turnloom: note: {Path(args.out) / TASK_LIST_FILE} not written ({exc.strerror or exc})",
                file=sys.stderr,
            )
    print(summary(report, args.out))
    if report.interrupted:
        return 130
    return 1 if report.failed else 0


def _with_forged_toolset(args: argparse.Namespace, config: BatchConfig, settings: TurnloomConfig) -> BatchConfig:
    """The config with the batch's forged toolset: `DIR/toolset.json`, forged now unless it exists.

    A resumed batch reuses the file, so its dialogues keep the tools they began with
    (delete the file to forge again). The requests go to the batch's exchange log.
    """
    from turnloom.core.cli.forge_cmd import forge_with, report
    from turnloom.core.cli.render import StageLines
    from turnloom.core.players.forge_progress import ForgeCheckpoint, progress_path
    from turnloom.core.players.forging import ToolSource
    from turnloom.core.players.setup import BackendSetup
    from turnloom.core.tools.toolset import save_toolset

    path = (Path(args.out) / FORGED_TOOLSET).resolve()
    own = getattr(args, "questions_file", None)
    if not path.exists():
        source = ToolSource.resolve(config.domain, config.db)
        setup = BackendSetup.create(settings, record=Path(args.out) / EXCHANGE_LOG, cache=args.cache or None)
        progress = ForgeCheckpoint(progress_path(path))
        progress.load()  # a damaged progress file stops the command before any token is spent
        try:
            # a forge stopped after its question stage left them beside the toolset: start from them,
            # and from what it made after them (`progress`) when that was for the same questions
            asked = questions_path(path)
            given_file = own or (str(asked) if asked.exists() else None)
            toolset = forge_with(
                setup,
                config.roles["forge"],
                source,
                ToolExecution(config.execution),
                seed=config.seed_start,
                progress=None if args.quiet else StageLines(),
                seed_tools=args.seed_tools,
                questions_file=given_file,
                questions_out=None if given_file else asked,
                checkpoint=progress if config.execution == ToolExecution.SIMULATED.value else None,
            )
        finally:
            if setup.log is not None:
                setup.log.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        save_toolset(path, toolset)
        progress.clear()  # the toolset holds all of it now
        if not args.quiet:
            print(report(toolset))
            print(f"# saved {path} (reused when the batch resumes)")
    elif own and load_toolset(path, "the batch's toolset").questions != load_questions(own):
        raise UsageError(
            f"--questions-file {own}: {path} was forged from other questions and the batch uses it; "
            "drop --questions-file to resume, or use another --out to forge from these"
        )
    elif args.seed_tools and load_toolset(path, "the batch's toolset").seed_tools != str(
        Path(args.seed_tools).resolve()
    ):
        raise UsageError(
            f"--seed-tools {args.seed_tools}: {path} was forged from other seed tools and the batch uses it; "
            "drop --seed-tools to resume, or use another --out to forge from these"
        )
    return config.model_copy(update={"tools": str(path), "tools_sha256": file_sha256(path)})


def _check_sources(config: BatchConfig) -> None:
    """Refuse a mistyped --domain, --db or --rules before the folder or its manifest is written.

    Builds the first seed's session the way every dialogue is built, so whatever would fail
    each seed fails once, here, with its own message.

    Raises:
        DomainError, DatabaseError, ConfigError: naming the option's value at fault.
    """
    from turnloom.core.batch.job import SessionFactory

    SessionFactory(config).new(config.seed_start)


def _check_toolset(config: BatchConfig) -> None:
    """Refuse, before any dialogue starts, a toolset that cannot serve the batch's database.

    Raises:
        ToolsetError: naming the file and the tools at fault.
    """
    from turnloom.core.cli.forge_cmd import offline_players_warning
    from turnloom.core.players.forging import ToolSource
    from turnloom.core.tools.toolset import usable_tools

    toolset = config.toolset()
    assert toolset is not None
    tools = usable_tools(
        toolset, ToolSource.for_tools(config.domain, config.db, toolset).image, ToolExecution(config.execution)
    )
    warning = offline_players_warning(tools, config.roles)
    if warning:
        print(f"turnloom: warning: {warning}", file=sys.stderr)


def _check_task_file(config: BatchConfig) -> None:
    """Refuse, before any dialogue starts, planned tasks the batch's offline user simulator cannot play.

    Raises:
        UsageError: naming the task list, the task and the subtask.
    """
    from turnloom.core.batch.job import SessionFactory
    from turnloom.core.players.task_list import offline_user_problem

    session = SessionFactory(config).new(config.seed_start)
    problem = offline_user_problem(config.task_list(), session)
    if problem:
        raise UsageError(f"--task-file {config.task_file}: {problem}")


async def _generate(
    config: BatchConfig, args: argparse.Namespace, executor: Executor, progress: ProgressLine | None
) -> BatchReport:
    try:
        return await generate(config, args.out, args.n, executor, force=args.force, progress=progress)
    finally:
        backends = getattr(executor, "backends", None)
        if backends is not None:
            await backends.aclose()


def summary(report: BatchReport, out: str) -> str:
    """The closing lines: what the folder holds and what to do next."""
    parts = [f"{report.done}/{report.total} done"]
    if report.skipped:
        parts.append(f"{report.skipped} already done before this run")
    if report.failed:
        parts.append(f"{report.failed} failed")
    if report.partial:
        parts.append(f"{report.partial} stopped mid-conversation")
    if report.pending:
        parts.append(f"{report.pending} not started")
    rate = report.ran / report.wall_s if report.wall_s > 0 else 0.0
    lines = [
        f"# {out}: " + " · ".join(parts) + f" · ran {report.ran} in {format_duration(report.wall_s)} ({rate:.1f}/s)"
    ]
    for seed, error in report.errors[:5]:
        lines.append(f"  seed {seed} failed: {error}")
    if not report.complete:
        lines.append("# re-run the same command to resume")
    else:
        lines.append(f"# next: turnloom stats {out}")
    return "\n".join(lines)
