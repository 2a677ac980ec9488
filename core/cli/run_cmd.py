"""`turnloom run`: generate one dialogue headless, print it, and save it.

A new dialogue for a domain or database, or a continuation of a saved session
(`--from FILE [--at N]`) or of a plain OpenAI-style transcript. A new dialogue
uses the tools derived from the database, a toolset file's (`--tools`), or, with
the forge role on a profile, the tools forged for it before the first message.
Every committed message goes to the journal beside the output file as it
happens, so a killed run loses nothing committed; the snapshot is written
atomically at the end, after SIGTERM too. A backend failure ends the run with
its cause on one line and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from turnloom.core.cli.forge_inputs import add_forge_input_options, check_forge_inputs, named, refuse_with_tools
from turnloom.core.cli.options import (
    add_backend_options,
    add_generation_options,
    add_task_file_option,
    add_tools_option,
    backend_setup,
    given,
    non_negative_int,
    positive_int,
)
from turnloom.core.cli.outputs import add_force_option, checked_output
from turnloom.core.cli.render import console, message_text, print_header
from turnloom.core.engine.engine import MessageCommitted
from turnloom.core.errors import SessionFileError, UsageError
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.models import FinishReason, Mode, RoleName, Session, Task, ToolExecution
from turnloom.core.quality.metrics import dialogue_stats
from turnloom.core.storage.session_folder import file_name_part
from turnloom.core.storage.snapshot import load_session
from turnloom.core.tools.toolset import Toolset, load_toolset

if TYPE_CHECKING:
    from turnloom.core.players.setup import BackendSetup


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="generate one dialogue headless and save it",
        description=(
            "Generate one dialogue on the offline backend (or the profiles given), print it as it is "
            "made, and save it as a session file. With --from, continue a saved session or a plain "
            "OpenAI-style transcript."
        ),
    )
    add_generation_options(parser)
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="where to save (.session.json or .session.toml; default: sessions/<domain>-seed<N>-<id>.session.json)",
    )
    parser.add_argument("--from", dest="from_file", metavar="FILE", help="continue this saved session or transcript")
    parser.add_argument(
        "--at", type=non_negative_int, metavar="N", help="with --from: continue from message N (drop the rest)"
    )
    parser.add_argument(
        "--record", type=positive_int, metavar="N", help="with --from EXPORT.jsonl: continue the record on line N"
    )
    add_force_option(parser)
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    add_tools_option(parser)
    add_forge_input_options(parser, needs_profile=True)
    add_task_file_option(parser)
    add_backend_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.from_file:
        tool_options = (["--tools"] if args.tools else []) + named(args)
        if tool_options:
            raise UsageError(
                f"{tool_options[0]} starts a new dialogue; a session continued with --from keeps its own tools"
            )
        from turnloom.core.cli.continue_session import session_to_continue

        session, out = session_to_continue(args)
    else:
        if args.at is not None:
            raise UsageError("--at needs --from FILE")
        refuse_with_tools(args)
        toolset = load_toolset(args.tools) if args.tools else None
        domain, db, execution = _source(args, toolset)
        session = create_session(
            domain=domain,
            db_path=db,
            mode=Mode(args.mode),
            execution=execution,
            seed=args.seed,
            tasks=args.tasks,
            max_messages=args.max_messages,
            rule_set=args.rules,
            toolset=toolset,
            planned_tasks=_planned_tasks(args),
        )
        out = Path(args.out) if args.out else default_output(session)
    refuse_replacing_another_session(out, session, Path(args.from_file) if args.from_file else None, args.force)
    backends = backend_setup(args, session, out)
    if not args.from_file and session.config.planned_tasks:
        from turnloom.core.players.task_list import offline_user_problem

        problem = offline_user_problem(session.config.planned_tasks, session)
        if problem:
            raise UsageError(f"--task-file {args.task_file}: {problem}")
    if not args.from_file:
        check_forge_inputs(args, session.config.roles.get(RoleName.FORGE), session.config.execution)
    if backends is not None and not args.from_file and not args.tools:
        _forge_tools(session, backends, args, out)
    if not args.from_file:
        from turnloom.core.cli.forge_cmd import offline_players_warning

        warning = offline_players_warning(session.tools, session.config.roles)
        if warning:
            print(f"turnloom: warning: {warning}", file=sys.stderr)
    return run_and_save(session, out, quiet=args.quiet, backends=backends)


def _planned_tasks(args: argparse.Namespace) -> list[Task] | None:
    """--task-file: its first --tasks tasks (all of them when --tasks is not given); None without one."""
    if not args.task_file:
        return None
    from turnloom.core.players.task_list import load_task_list

    tasks = load_task_list(args.task_file)
    return tasks[: int(args.tasks)] if given(args.tasks) else tasks


def _source(args: argparse.Namespace, toolset: Toolset | None) -> tuple[str | None, str | None, ToolExecution]:
    """Domain, database and tool execution: the options given, else the toolset's, else the defaults."""
    if toolset is None:
        return args.domain, args.db, ToolExecution(args.execution)
    execution = ToolExecution(args.execution) if given(args.execution) else toolset.execution
    if args.domain is None and args.db is None:
        return (None, toolset.db, execution) if toolset.db else (toolset.domain, None, execution)
    chosen = Path(args.db).stem if args.db else args.domain
    if chosen != toolset.domain:
        print(
            f"turnloom: warning: --tools {args.tools} was forged for {toolset.db or toolset.domain}; "
            f"its tools are checked against {args.db or args.domain} before use",
            file=sys.stderr,
        )
    return args.domain, args.db, execution


def _forge_tools(session: Session, backends: BackendSetup, args: argparse.Namespace, out: Path) -> None:
    """With the forge role on a profile, forge the session's tools before its first message.

    In sql execution the LLM's SQL tools join the derived ones (one request); in
    simulated execution the whole pipeline replaces them, starting from --seed-tools or
    --questions-file when given. The requests go to the session's exchange log, so
    `--cache` replays them at zero tokens. A simulated forge keeps its question list
    beside `out` until the tools are made, so a forge that fails later resumes from it.
    """
    profile = session.config.roles.get(RoleName.FORGE)
    if profile is None or profile == "offline":
        return
    from turnloom.core.cli.forge_cmd import forge_with
    from turnloom.core.errors import TurnloomError
    from turnloom.core.lifecycle.dialogue import base_image
    from turnloom.core.players.forging import ToolSource
    from turnloom.core.tools.derive import ForgeReport
    from turnloom.core.tools.question_list import questions_path

    source = ToolSource.of_session(session, base_image(session))
    saved = questions_path(out)
    keep = session.config.execution is ToolExecution.SIMULATED and not args.questions_file
    try:
        toolset = forge_with(
            backends,
            profile,
            source,
            session.config.execution,
            seed=session.config.seed,
            derived=ForgeReport(tools=list(session.tools)),
            seed_tools=args.seed_tools,
            questions_file=args.questions_file,
            questions_out=saved if keep else None,
        )
    except TurnloomError as exc:
        if keep and saved.exists():
            raise type(exc)(
                f"{exc}\n  its questions are in {saved}; add --questions-file {saved} to start from them"
            ) from exc
        raise
    if keep:
        saved.unlink(missing_ok=True)  # the tools are made: the session holds what the questions were for
    session.tools = toolset.tools
    if not args.quiet:
        counts = ", ".join(f"{n} {origin}" for origin, n in toolset.counts().items())
        print(
            f"# forge on {profile}: {len(toolset.tools)} tools ({counts}), {len(toolset.dropped)} dropped · "
            f"{toolset.usage.total:,} tokens"
        )


def refuse_replacing_another_session(
    out: Path, session: Session, source: Path | None = None, force: bool = False
) -> None:
    """Refuse an --out that already exists unless `force` (the rule of `outputs.checked_output`).

    A file holding this same session (a run continued in place) is fine; so is the file the
    run continues from. Its journal, if any, is guarded by the journal itself.

    Raises:
        UsageError: `out` is a folder, or a file that is not this session and `force` is off.
    """
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder; give a file name in it")
    if force or not out.is_file() or (source is not None and out.resolve() == source.resolve()):
        return
    try:
        existing = load_session(out)
    except SessionFileError:
        checked_output(out, force)
        return
    if existing.id != session.id:
        raise UsageError(
            f"--out {out}: already holds session {existing.id!r} ({len(existing.messages)} messages), which "
            f"saving there would replace; continue it with `turnloom run --from {out}`, choose another --out, "
            "or pass --force to replace it"
        )


def default_output(session: Session) -> Path:
    stem = f"{file_name_part(session.domain)}-seed{session.config.seed}-{file_name_part(session.id)}"
    return Path("sessions") / f"{stem}.session.json"


def run_and_save(
    session: Session, out: Path, quiet: bool = False, start_at: int = 0, backends: BackendSetup | None = None
) -> int:
    """Drive `session` to its end, journaling every commit, then save the snapshot.

    SIGTERM (like ctrl+c) stops the dialogue after the last committed message and saves it.

    Returns:
        0 when the dialogue finished or paused; 1 when a backend failed (the cause is printed
        and kept in the session's `finish_detail`); 128 + the signal's number when stopped by one.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    live = LiveSession.open_journaled(session, out, backends)
    if not quiet:
        print_header(session)
        screen = console()
        for index, message in enumerate(session.messages[start_at:], start=start_at):
            screen.print(message_text(index, message))

        def show(event) -> None:
            if isinstance(event, MessageCommitted):
                screen.print(message_text(event.index, event.message))
                screen.file.flush()

        live.engine.subscribe(show)
    stopped_by: signal.Signals | None = None
    try:
        stopped_by = asyncio.run(_drive(live))
    finally:
        try:
            live.save()
        finally:
            live.close()
    done = dialogue_stats(session)["tasks_done"]
    spend = ""
    if session.usage.total:
        from turnloom.core.endpoint.accounting import role_costs

        prices = backends.config.prices if backends is not None else {}
        cost = sum(c.cost for c in role_costs(session, prices).values())
        spend = f" · {session.usage.total:,} tokens" + (f" · ${cost:.4f}" if prices else "")
    state = f"stopped by {stopped_by.name}" if stopped_by else (session.finish_reason or "paused")
    print(f"# {state} · {len(session.messages)} messages · {done}/{len(session.tasks)} tasks done{spend} · saved {out}")
    if stopped_by is not None:
        return 128 + stopped_by.value
    if session.finish_reason is FinishReason.BACKEND_ERROR:
        print(f"turnloom: error: {failure_line(session, out)}", file=sys.stderr)
        return 1
    return 0


def failure_line(session: Session, out: Path) -> str:
    """One line for a dialogue a backend failure stopped: the cause, then how to go on."""
    cause = (session.finish_detail or "the backend failed").rstrip(". ")
    kept = len(session.messages)
    return f"{cause}. {kept} message(s) saved in {out}; fix that, then continue with `turnloom run --from {out}`"


async def _drive(live: LiveSession) -> signal.Signals | None:
    """Run the dialogue; a SIGTERM cancels it between commits. Returns the signal that stopped it, if any."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    received: list[signal.Signals] = []

    def stop(signum: signal.Signals) -> None:
        received.append(signum)
        if task is not None:
            task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers off the main thread
        loop.add_signal_handler(signal.SIGTERM, stop, signal.SIGTERM)
    try:
        await live.run()
    except asyncio.CancelledError:
        if not received:
            raise
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)
        await live.close_backends()
    return received[0] if received else None


def run_default() -> int:
    """What `turnloom` does when the TUI is not available: one offline dialogue."""
    session = create_session("retail", seed=0)
    return run_and_save(session, default_output(session))
