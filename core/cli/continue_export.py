"""`run --from EXPORT.jsonl [--record N]`: one record of a turnloom export, read to be continued.

Records of the `openai` and `hf` exports hold the messages with their tool calls and results,
in either encoding (objects or JSON strings), and the `weight` of each assistant turn; they
import like a plain transcript. A `sharegpt` or `hermes` record has lost the call ids and is
refused with a reason.

`export` writes a sources file beside its output (`export.sources_path`) naming the domain or
database each record came from. Continuing a record uses it: a `--domain`/`--db` that names
another one is refused, and so is a record whose database file is gone. Without a sources
file, `--domain`/`--db` say where to continue; with neither, the run says it continues in the
default domain.

Owns: `exported_record`, `record_origin`. Leaves to others: building and driving the session
(`continue_session`), the transcript shape (`storage.transcript_import`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from turnloom.core.errors import SessionFileError, UsageError
from turnloom.core.export import sources_path
from turnloom.core.storage.snapshot import read_text
from turnloom.core.storage.transcript_import import Transcript, TranscriptError, parse_transcript


def exported_record(source: Path, record: int | None) -> tuple[Transcript, str]:
    """The transcript on line `record` (1-based) of an export, and a name for it in messages.

    Args:
        source: the `.jsonl` export.
        record: the line to continue; None is allowed when the file holds one record.

    Returns:
        (the imported transcript, e.g. "train.jsonl record 3").

    Raises:
        UsageError: several records and no `--record`, or a record number out of range.
        SessionFileError: a line that is not JSON, or a record that is not an openai/hf one.
    """
    lines = [line for line in read_text(source).splitlines() if line.strip()]
    if not lines:
        raise SessionFileError(f"{source}: the export holds no records")
    if record is None:
        if len(lines) > 1:
            raise UsageError(f"{source} holds {len(lines)} records; pick one with --record N (1..{len(lines)})")
        record = 1
    if not 1 <= record <= len(lines):
        raise UsageError(f"--record {record} is outside {source} (records 1..{len(lines)})")
    name = f"{source} record {record}"
    try:
        data: Any = json.loads(lines[record - 1])
    except json.JSONDecodeError as exc:
        raise SessionFileError(f"{name} (line {record}): invalid JSON: {exc.msg}") from None
    if isinstance(data, dict) and "messages" not in data and ("conversations" in data or "text" in data):
        kind = "sharegpt" if "conversations" in data else "hermes"
        raise SessionFileError(
            f"{name} is a {kind} record, which keeps no tool call ids; continue an openai or hf export instead"
        )
    try:
        return parse_transcript(data, name), name
    except TranscriptError as exc:
        raise SessionFileError(str(exc)) from None


def record_origin(source: Path, record: int | None) -> dict[str, Any] | None:
    """The session, domain and database the export's sources file records for a line, if any.

    Raises:
        SessionFileError: a sources file that cannot be read or does not list the record.
    """
    path = sources_path(source)
    if not path.exists():
        return None
    try:
        records = json.loads(read_text(path))["records"]
        origin = records[(record or 1) - 1]
        if not isinstance(origin, dict) or not isinstance(origin.get("domain"), str):
            raise TypeError
    except (ValueError, KeyError, IndexError, TypeError):
        raise SessionFileError(
            f"{path}: does not list record {record or 1} of {source.name}; re-export, or delete it and give --domain/--db"
        ) from None
    return origin


def choose_source(
    source: Path, record: int | None, domain: str | None, db: str | None
) -> tuple[str | None, str | None]:
    """The domain and database to continue an exported record in.

    Args:
        source: the export.
        record: the `--record` given.
        domain, db: the `--domain`/`--db` given (None when not).

    Returns:
        (domain, db) for `create_session`.

    Raises:
        UsageError: an option naming another domain or database than the record's, or the
            record's database file is gone.
    """
    origin = record_origin(source, record)
    where = f"{source} record {record or 1}"
    if origin is None:
        if domain is None and db is None:
            print(
                f"turnloom: note: {source} has no sources file ({sources_path(source).name}) naming where "
                "its records were made; continuing in the default domain (--domain or --db to choose)",
                file=sys.stderr,
            )
        return domain, db
    made_in, made_db = origin["domain"], origin.get("db")
    if made_db:
        if domain is not None or (db is not None and Path(db).resolve() != Path(made_db).resolve()):
            raise UsageError(f"{where} was made on the database {made_db}; drop --domain/--db to continue it there")
        if not Path(made_db).is_file():
            raise UsageError(f"{where} was made on the database {made_db}, which is gone; restore it to continue")
        return None, made_db
    if db is not None or (domain is not None and domain != made_in):
        raise UsageError(f"{where} was made in the {made_in} domain; drop --domain/--db to continue it there")
    return made_in, None
