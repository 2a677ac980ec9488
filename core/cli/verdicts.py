"""Verdicts for the commands that read them (`stats`, `export --only-valid`): the rubric judge
asked about the sessions that have no current verdict from it, and the verdicts saved back.

The judge runs when its role is mapped: `--judge PROFILE` on the command line, else the
session's own `[roles] judge = ...`; `--judge offline` turns it off. Sessions whose verdict is
current and already has the judge's ruling are not asked again. A session the judge ruled on is
saved (snapshot written, journal folded in), so its verdict, reasons, tokens and cost stay with it.
Computing the checks' verdict for the other sessions is `quality.verdict.verdict_for`'s job.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from turnloom.core.config import load_config
from turnloom.core.models import Session
from turnloom.core.quality.verdict import JUDGE_CHECK, judged_verdict, needs_judge
from turnloom.core.storage.journal import compact
from turnloom.core.storage.session_folder import find_sessions, read_sessions


def add_judge_option(parser: argparse.ArgumentParser) -> None:
    """--judge PROFILE."""
    parser.add_argument(
        "--judge",
        metavar="PROFILE",
        help="ask the rubric judge on this profile about sessions without a current verdict from it "
        "(default: each session's own judge role, if mapped; `offline`: the named checks only)",
    )


def judge_profile(session: Session, chosen: str | None) -> str | None:
    """The profile that should judge `session` now (`--judge`, else its own judge role), or None."""
    profile = chosen or session.config.roles.get(JUDGE_CHECK)
    if profile and profile != "offline" and chosen != "offline" and needs_judge(session):
        return profile
    return None


def judge_pending(args: argparse.Namespace, paths: list[Path] | None = None) -> int:
    """Run the judge over the sessions in `paths` (default `args.paths`) that need it; how many it ruled on.

    Raises:
        UsageError / ConfigError: no such paths, an unknown profile. BackendError: the judge failed.
    """
    chosen = getattr(args, "judge", None)
    if chosen == "offline":
        return 0
    pending: list[tuple[Path, Session, str]] = []
    for read in read_sessions(find_sessions(paths if paths is not None else args.paths)):
        if read.session is None:
            continue  # the command that follows reports it
        profile = judge_profile(read.session, chosen)
        if profile is not None:
            pending.append((read.path, read.session, profile))
    if not pending:
        return 0
    return asyncio.run(_judge_all(pending, getattr(args, "config", None)))


async def _judge_all(pending: list[tuple[Path, Session, str]], config_path: str | None) -> int:
    from turnloom.core.players.llm.judge import RubricJudge
    from turnloom.core.players.setup import BackendSetup

    setup = BackendSetup.create(load_config(config_path))
    try:
        for path, session, profile in pending:
            await judged_verdict(session, RubricJudge(setup.endpoint(profile)), profile)
            compact(path, session)
    finally:
        await setup.aclose()
    print(f"rubric judge: ruled on {len(pending)} session(s)", file=sys.stderr)
    return len(pending)
