"""`turnloom forge`: make a toolset file for a domain or database, on a model endpoint or offline.

With the forge role on a profile (`--profile P`, `--role forge=P` or the config's
`[roles]`), `sql` execution adds the LLM's SQL tools to the introspected ones and
`simulated` runs questions -> tools -> expansion -> output schemas; with the role
offline it writes the introspected tools, so the command always works. The file
goes to `--out` atomically, the exchanges beside it (`*.llm.jsonl`), and a short
report (kept, dropped with reasons, tokens) to stdout. `run --tools` and
`generate --tools` use the file; `forge_with` is also how `run` and `generate`
forge when the role is mapped and no file is given.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from turnloom.core.cli.forge_inputs import add_forge_input_options, check_forge_inputs
from turnloom.core.cli.options import DefaultStr, given, positive_int, seed_type
from turnloom.core.cli.outputs import add_force_option, checked_output
from turnloom.core.cli.render import StageLines
from turnloom.core.config import load_config
from turnloom.core.errors import TurnloomError, UsageError
from turnloom.core.models import RoleName, ToolExecution, ToolOrigin, ToolSpec
from turnloom.core.players.forge_progress import ForgeCheckpoint, progress_path
from turnloom.core.players.forging import Progress, ToolSource, forge_toolset, offline_toolset
from turnloom.core.tools.derive import ForgeReport
from turnloom.core.tools.question_list import load_questions, questions_path, save_questions
from turnloom.core.tools.seed_tools import load_seed_tools
from turnloom.core.tools.toolset import Toolset, save_toolset

if TYPE_CHECKING:
    from turnloom.core.players.setup import BackendSetup


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "forge",
        help="make a toolset file (tools for a domain or database) for run/generate --tools",
        description=(
            "Make the tools for a domain or database and save them as a toolset file. With the forge "
            "role on a profile: in sql execution, the introspected tools plus the SQL tools the model "
            "writes (each tried on a scratch copy, kept only if it runs); in simulated execution, "
            "questions -> tools per question -> expansion -> output schemas. With the forge role "
            "offline: the introspected tools."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--domain", help="built-in domain pack (see `turnloom domains`)")
    source.add_argument("--db", metavar="FILE.sqlite", help="your own SQLite database (opened read-only)")
    source.add_argument(
        "--synthetic",
        metavar="TOPIC",
        help="no database (the paper's synthetic-tool variant): questions about TOPIC from --seed-tools -> tools "
        "-> expansion -> output schemas; dialogues with them run in simulated execution. Needs a forge profile",
    )
    parser.add_argument(
        "--execution",
        choices=[e.value for e in ToolExecution],
        default=DefaultStr(ToolExecution.SQL.value),
        help="the tool execution the tools are for: sql (default; simulated with --synthetic) or simulated",
    )
    add_forge_input_options(parser, needs_profile=False)
    parser.add_argument(
        "--out",
        required=True,
        metavar="TOOLS.json",
        help="the toolset file to write (an existing one only with --force)",
    )
    parser.add_argument(
        "--questions",
        type=positive_int,
        metavar="N",
        help="simulated execution on a profile: make tools for the first N questions only (default: all, 20-30)",
    )
    parser.add_argument("--seed", type=seed_type, default=0, help="seed sent with every forge request (default 0)")
    add_force_option(parser)
    parser.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="config file (same as `turnloom --config FILE forge ...`)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the closing line")
    group = parser.add_argument_group("backends")
    group.add_argument("--profile", metavar="NAME", help="play the forge role on this [profiles.NAME] of turnloom.toml")
    group.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="forge=PROFILE",
        help="play the forge role on a profile (`forge=offline` for the introspected tools)",
    )
    group.add_argument(
        "--cache",
        action="append",
        default=[],
        metavar="FILE",
        help="answer forge requests from this exchange log (written beside TOOLS.json as *.llm.jsonl) "
        "before calling the endpoint; repeatable",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from turnloom.core.endpoint.exchange_log import exchange_log_path
    from turnloom.core.players.setup import BackendSetup, resolve_role_map

    for item in args.role:
        role = item.partition("=")[0].strip()
        if role != RoleName.FORGE:
            raise UsageError(f"--role {item!r}: `turnloom forge` plays only the forge role (--role forge=PROFILE)")
    out = checked_output(Path(args.out), args.force)
    config = load_config(getattr(args, "config", None))
    # only the forge role matters here: --profile P means --role forge=P
    role_args = ([f"forge={args.profile}"] if args.profile else []) + args.role
    profile = resolve_role_map(config, None, role_args).get(RoleName.FORGE)
    execution = ToolExecution(args.execution)
    if args.synthetic is not None:
        execution = _synthetic_checks(args, profile)
    check_forge_inputs(args, profile, execution)
    source = (
        ToolSource.synthetic(args.synthetic) if args.synthetic is not None else ToolSource.resolve(args.domain, args.db)
    )
    say = None if args.quiet else StageLines()
    if profile is None:
        if args.cache:
            raise UsageError("--cache needs the forge role on a profile (--profile NAME or --role forge=PROFILE)")
        if args.questions is not None:
            print("turnloom: note: --questions applies only when the forge runs on a profile; ignored", file=sys.stderr)
        toolset = offline_toolset(source, execution)
    else:
        if args.questions is not None and execution is ToolExecution.SQL:
            print("turnloom: note: --questions applies to simulated execution; ignored", file=sys.stderr)
        setup = BackendSetup.create(config, record=exchange_log_path(out), cache=args.cache or None)
        saved, progress = questions_path(out), ForgeCheckpoint(progress_path(out))
        if not args.questions_file and execution is ToolExecution.SIMULATED:
            # only this run's question stage may leave questions behind, and its progress builds on them
            saved.unlink(missing_ok=True)
            progress.clear()
        elif execution is ToolExecution.SIMULATED:
            progress.load()  # a damaged progress file stops the command before any token is spent
        try:
            toolset = forge_with(
                setup,
                profile,
                source,
                execution,
                seed=args.seed,
                questions=args.questions,
                progress=say,
                seed_tools=args.seed_tools,
                questions_file=args.questions_file,
                questions_out=None if args.questions_file else saved,
                checkpoint=progress if execution is ToolExecution.SIMULATED else None,
            )
        except TurnloomError as exc:
            if saved.exists() and not args.questions_file:
                kept = f"{saved} and {progress.path}" if progress.path.exists() else str(saved)
                raise type(exc)(
                    f"{exc}\n  what was made so far is in {kept}; add --questions-file {saved} to resume from there"
                ) from exc
            if progress.path.exists():
                raise type(exc)(
                    f"{exc}\n  what was made so far is in {progress.path}; run the same command to resume"
                ) from exc
            raise
    save_toolset(out, toolset)
    if profile is not None:
        ForgeCheckpoint(progress_path(out)).clear()  # the toolset holds all of it now
    if not args.quiet:
        print(report(toolset))
    print(f"# saved {out} · {len(toolset.tools)} tools · next: turnloom run --tools {out}")
    return 0


def _synthetic_checks(args: argparse.Namespace, profile: str | None) -> ToolExecution:
    """--synthetic: the execution (simulated), once the options it needs are there.

    Raises:
        UsageError: sql execution, no forge profile, or no --seed-tools.
    """
    if given(args.execution) and args.execution != ToolExecution.SIMULATED.value:
        raise UsageError("--synthetic has no database to run SQL on; its tools run in simulated execution")
    if profile is None:
        raise UsageError(
            "--synthetic needs the forge role on a profile (--profile NAME): offline has no tools to offer"
        )
    if not (args.seed_tools or args.questions_file):
        raise UsageError(
            "--synthetic needs --seed-tools FILE (the example tools its questions start from) or --questions-file FILE"
        )
    if not args.synthetic.strip():
        raise UsageError("--synthetic TOPIC: name the topic, e.g. --synthetic 'airline customer service'")
    return ToolExecution.SIMULATED


def forge_with(
    setup: BackendSetup,
    profile: str,
    source: ToolSource,
    execution: ToolExecution,
    *,
    seed: int = 0,
    questions: int | None = None,
    derived: ForgeReport | None = None,
    progress: Progress | None = None,
    seed_tools: str | None = None,
    questions_file: str | None = None,
    questions_out: Path | None = None,
    checkpoint: ForgeCheckpoint | None = None,
) -> Toolset:
    """Run the forge on `profile`'s endpoint to the end, in an event loop of its own.

    `seed_tools` names a seed-tools file question generation starts from (`tools.seed_tools`);
    `questions_file` a question list that replaces the question stage; `questions_out` where the
    question stage's list is saved as soon as it is made (`tools.question_list`); `checkpoint`
    where the later stages save their progress and resume from (`players.forge_progress`).

    The endpoint's HTTP clients are closed before the loop ends (a later loop gets
    new ones); the exchange log stays open for the dialogue that follows.

    Raises:
        ConfigError: unknown profile or unset key. BackendError: the endpoint failed.
    """
    endpoint = setup.endpoint(profile)
    seeds = load_seed_tools(seed_tools) if seed_tools else None
    given = load_questions(questions_file) if questions_file else None

    def keep(asked: list[str]) -> None:
        if questions_out is not None:
            save_questions(questions_out, source.domain, asked)

    async def forge() -> Toolset:
        try:
            return await forge_toolset(
                source,
                execution,
                endpoint,
                seed=seed,
                questions=questions,
                derived=derived,
                progress=progress,
                seed_tools=seeds,
                seed_tools_file=str(Path(seed_tools).resolve()) if seed_tools else None,
                given_questions=given,
                on_questions=keep,
                checkpoint=checkpoint,
            )
        finally:
            await endpoint.aclose()

    return asyncio.run(forge())


def report(toolset: Toolset) -> str:
    """What the forge kept and dropped, and what it cost."""
    by = "offline (introspected)" if toolset.forge == "offline" else f"profile {toolset.forge} (model {toolset.model})"
    lines = [f"# forge {toolset.db or toolset.domain} · {toolset.execution} · {by}"]
    if toolset.questions:
        lines.append(f"  {len(toolset.questions)} questions")
    origins = ", ".join(f"{n} {origin}" for origin, n in toolset.counts().items())
    lines.append(f"  kept {len(toolset.tools)} tools ({origins})")
    lines.append(f"  dropped {len(toolset.dropped)}" + (":" if toolset.dropped else ""))
    for dropped in toolset.dropped:
        lines.append(f"    {dropped.name} [{dropped.stage}]: {dropped.reason}")
    if toolset.requests:
        usage = toolset.usage
        lines.append(
            f"  {toolset.requests} request{'s' if toolset.requests != 1 else ''} · {usage.total:,} tokens "
            f"({usage.prompt_tokens:,} prompt, {usage.completion_tokens:,} completion)"
        )
    return "\n".join(lines)


def offline_players_warning(tools: list[ToolSpec], roles: dict[str, str]) -> str | None:
    """A warning when offline players are left with tools they cannot use, else None.

    The offline task generator and assistant follow the domain's introspected tools;
    a forged simulated toolset has none of them.

    Args:
        tools: the dialogue's tools.
        roles: role -> profile name (unmapped roles are offline).
    """
    if any(spec.origin is ToolOrigin.DERIVED for spec in tools):
        return None
    offline = [role for role in (RoleName.ASSISTANT, RoleName.TASK) if roles.get(role, "offline") == "offline"]
    if not offline:
        return None
    players = " and ".join(f"offline {'task generator' if role is RoleName.TASK else role}" for role in offline)
    return (
        f"the {players} use only the tools introspected from the database, and this toolset has none "
        "of them; play the assistant, task and user roles on a profile (--profile PROFILE) to use its tools"
    )
