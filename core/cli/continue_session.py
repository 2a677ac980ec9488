"""`turnloom run --from FILE [--at N] [--tasks K] [--out NEW]`: the session a continued run starts from.

FILE is either a saved session (`*.session.json`/`*.session.toml`, its journal
recovered), a plain OpenAI-style transcript (`{"messages": [...]}` or a bare
list; see `transcript`), or an openai/hf export (`*.jsonl`, one record picked
with `--record N`; see `continue_export`). `run_cmd` calls
`session_to_continue(args)` and drives the result with the same engine as a new run.

Saved sessions continue after their last message, or from message N (the rest
dropped, the database rebuilt to that point). `--tasks K` adds K tasks to the
queue (the engine's `resume(extra_tasks=K)`: `config.tasks += K`, finish reason
cleared); the simulator introduces them when the current work is done, grounded
in the database as it is then. A session the user already finished gets one new
task unless `--tasks` says otherwise (`--tasks 0` leaves it finished). The
session keeps its own seed and limits unless `--seed`/`--max-messages` are
given; a session stopped at its message limit gets room for as many messages
again (`DEFAULT_ROOM`).

A transcript becomes a new session for `--domain`/`--db` (default retail, said
in a note) whose messages are marked `provenance=imported`, with K tasks
(default 1). An exported record continues in the domain or database its
export's sources file names.

The output is a new file next to FILE unless `--out` names one; a new file is a
new session whose `parent` notes FILE and the cut. Only `--out FILE` itself
continues in place.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from turnloom.core.cli.continue_export import choose_source, exported_record
from turnloom.core.cli.loading import checked_at, load_for_command
from turnloom.core.cli.options import given
from turnloom.core.errors import UsageError
from turnloom.core.lifecycle.dialogue import base_image, create_session, fork_session
from turnloom.core.models import FinishReason, Mode, Session, ToolExecution
from turnloom.core.storage.snapshot import format_for, read_text
from turnloom.core.storage.transcript_import import (
    Transcript,
    TranscriptError,
    load_transcript,
    looks_like_transcript,
    parse_transcript,
)
from turnloom.core.tools.sqlenv import SqlEnvironment

# messages of room given to a session that stopped at its limit, or to a long transcript
DEFAULT_ROOM = 400


def session_to_continue(args: argparse.Namespace) -> tuple[Session, Path]:
    """The session `run --from` should drive, and where to save it.

    Args:
        args: the parsed `run` options (`from_file`, `at`, `tasks`, `seed`,
            `max_messages`, `out`, and for transcripts `domain`, `db`, `mode`,
            `execution`, `rules`).

    Returns:
        (session ready for the engine, output path).

    Raises:
        SessionFileError: the file cannot be read or is not a session or transcript.
        UsageError: `--at` out of range, options that do not apply, a limit too low.
        DatabaseError, DomainError: the session's database cannot be rebuilt.
    """
    source = Path(args.from_file)
    record = getattr(args, "record", None)
    if source.suffix.lower() == ".jsonl":
        session = _from_export(source, record, args)
    elif record is not None:
        raise UsageError("--record N picks a record of an exported .jsonl file; FILE is not one")
    else:
        format_for(source)  # .json or .toml only
        session = _from_transcript(source, args) if _is_transcript(source) else _from_session(source, args)
    out = Path(args.out) if args.out else continuation_path(source, session)
    # fail before any file is written if the database is gone or the log no longer fits it
    SqlEnvironment.rebuilt(base_image(session), session.write_log).close()
    return session, out


def continuation_path(source: Path, session: Session) -> Path:
    """A new file next to `source` for the continued session (same format)."""
    name = source.name
    for suffix in (".session.json", ".session.toml", ".json", ".toml"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            break
    else:  # pragma: no cover - format_for has already refused other suffixes
        stem = source.stem
    ext = ".session.toml" if name.endswith(".toml") else ".session.json"
    return source.with_name(f"{stem}-continued-{session.id}{ext}")


# ---------------------------------------------------------------- saved sessions


def _from_session(source: Path, args: argparse.Namespace) -> Session:
    if args.domain or args.db:
        raise UsageError("--domain/--db apply to an imported transcript; a saved session keeps its own database")
    session = load_for_command(source)
    at = checked_at(session, args.at)
    in_place = args.out is not None and _same_file(source, Path(args.out))
    finish = session.finish_reason if at is None else None
    if not in_place:
        session = fork_session(session, len(session.messages) if at is None else at, str(source.resolve()))
    elif at is not None:
        kept = {"id": session.id, "created_at": session.created_at, "parent": session.parent}
        session = fork_session(session, at)
        for key, value in kept.items():
            setattr(session, key, value)
    session.finish_reason = finish
    if given(args.seed):
        session.config.seed = int(args.seed)
    extra = int(args.tasks) if given(args.tasks) else (1 if finish is FinishReason.USER_DONE else 0)
    if finish is FinishReason.USER_DONE and extra == 0:
        print(
            "turnloom: note: the session is finished (user_done); --tasks K adds tasks to continue it", file=sys.stderr
        )
        return session
    if extra and not given(args.tasks):
        print("turnloom: note: the session is finished; continuing it with 1 new task", file=sys.stderr)
    session.config.tasks += extra
    session.finish_reason, session.finish_detail = None, None
    _set_room(session, args)
    return session


def _set_room(session: Session, args: argparse.Namespace) -> None:
    length = len(session.messages)
    if given(args.max_messages):
        if args.max_messages <= length:
            raise UsageError(
                f"--max-messages {args.max_messages} leaves no room: the transcript already has {length} messages"
            )
        session.config.max_messages = int(args.max_messages)
    elif length >= session.config.max_messages:
        session.config.max_messages = length + DEFAULT_ROOM
        print(f"turnloom: note: raised the message limit to {session.config.max_messages}", file=sys.stderr)


# ---------------------------------------------------------------- plain transcripts


def _is_transcript(source: Path) -> bool:
    if source.name.endswith((".session.json", ".session.toml")) or source.suffix.lower() == ".toml":
        return False
    try:
        data = json.loads(read_text(source))
    except (ValueError, RecursionError):  # not JSON, or a number of thousands of digits
        return True  # let the transcript importer name the line and column
    return looks_like_transcript(data)


def _from_export(source: Path, record: int | None, args: argparse.Namespace) -> Session:
    transcript, name = exported_record(source, record)
    domain, db = choose_source(source, record, args.domain, args.db)
    return _session_around(transcript, name, args, domain, db)


def _from_transcript(source: Path, args: argparse.Namespace) -> Session:
    if args.domain is None and args.db is None:
        print(
            f"turnloom: note: a transcript records no domain; continuing {source.name} in the default domain "
            "(--domain or --db to choose)",
            file=sys.stderr,
        )
    return _session_around(load_transcript(source), str(source), args, args.domain, args.db)


def _session_around(
    transcript: Transcript, source: str, args: argparse.Namespace, domain: str | None, db: str | None
) -> Session:
    if args.at is not None:
        if args.at > len(transcript.messages):
            raise UsageError(f"--at {args.at} is outside the transcript (0..{len(transcript.messages)} messages)")
        data = [m.to_openai() for m in transcript.messages[: args.at]]
        try:
            kept = parse_transcript(data, f"{source} (first {args.at} messages)").messages
        except TranscriptError as exc:
            raise UsageError(str(exc)) from None
        for message, original in zip(kept, transcript.messages, strict=False):
            message.meta = original.meta  # weights survive the cut
        transcript.messages = kept
    session = create_session(
        domain=domain,
        db_path=db,
        mode=Mode(args.mode),
        execution=ToolExecution(args.execution),
        seed=int(args.seed),
        tasks=int(args.tasks) if given(args.tasks) else 1,
        max_messages=int(args.max_messages),
        rule_set=args.rules,
    )
    known = {t.name for t in session.tools}
    session.tools += [t for t in transcript.tools if t.name not in known]
    session.messages = transcript.messages
    session.title = f"imported from {Path(source).name}"
    if not given(args.max_messages) and len(session.messages) >= session.config.max_messages:
        session.config.max_messages = len(session.messages) + DEFAULT_ROOM
    _set_room(session, args)
    # no tasks yet: the engine generates the first at the first simulated user turn, with
    # introduced_at = the transcript length then, so the simulator starts it afresh
    return Session.model_validate(session.model_dump())


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False
