"""Session snapshots on disk: `*.session.json` (canonical) and `*.session.toml` (hand-editable twin).

The format follows the file's suffix (`.json` or `.toml`, with or without `.session`). JSON is
`Session.model_dump(mode="json")` verbatim; the TOML mapping (JSON text for free-form fields,
no nulls) lives in `toml_codec`. Both round-trip losslessly with the in-memory `Session`.

Every file carries `schema_version`; `MIGRATIONS[v]` upgrades a v document to v+1, step by
step, before validation. Writes are atomic (temp file beside the target, fsync, rename,
fsync the folder). The journal (`journal`) and exports (`export`) build on this module;
it knows nothing about either.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import ValidationError

from turnloom.core.errors import SessionFileError
from turnloom.core.models import SCHEMA_VERSION, Session, upgrade_meta_1
from turnloom.core.storage.session_json import dumps_session
from turnloom.core.storage.toml_codec import from_toml_data, to_toml_text
from turnloom.core.storage.tool_lists import ToolListCache
from turnloom.core.untrusted import (
    SchemaRefError,
    check_schema_refs,
    redact_secrets,
    template_problem,
    writable_data,
)

Format = Literal["json", "toml"]

# MIGRATIONS[v] turns a version-v document (a dict in the JSON shape) into version v+1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _schema_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Message meta: task flags renamed, simulator notes and typed keys out of `extra`."""
    messages = data.get("messages")
    if isinstance(messages, list):
        data["messages"] = [
            {**m, "meta": upgrade_meta_1(m["meta"])} if isinstance(m, dict) and isinstance(m.get("meta"), dict) else m
            for m in messages
        ]
    return data


MIGRATIONS[1] = _schema_1_to_2

_TOO_DEEP = "nested too deeply to be a session (a session file is a few levels deep); is it the right file?"
_TRUNCATED_HINT = "file ends early - it may have been cut off while saving; the journal beside it may hold the rest"


# ---------------------------------------------------------------- formats


def format_for(path: str | os.PathLike[str]) -> Format:
    """The snapshot format a file name asks for.

    Args:
        path: a `.session.json`, `.session.toml`, `.json` or `.toml` path.

    Returns:
        "json" or "toml".

    Raises:
        SessionFileError: for any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix == ".toml":
        return "toml"
    raise SessionFileError(
        f"{path}: unknown session file type {suffix or '(no suffix)'!r}; use .session.json or .session.toml"
    )


# a `--db` file is stored relative to the session file's folder when it is this close to it (beside
# it, below it, or up to two folders up, as in a project folder), so the two can move together and
# be read from any working folder; a database farther away keeps its absolute path
_NEAR_DB_CLIMB = 2


def stored_db_path(db_path: str, folder: Path) -> str:
    """How a session file in `folder` names its database `db_path` (see `_NEAR_DB_CLIMB`).

    Only an existing database named by its canonical absolute path (as `--db` stores it) is
    made relative, so reading the file back (`read_db_path`) gives the same path again.
    """
    try:
        path = Path(db_path)
        if not path.is_absolute() or path.resolve() != path or not path.is_file():
            return db_path
        relative = Path(os.path.relpath(path, folder.resolve()))
    except (OSError, ValueError):  # a name the OS cannot take (a NUL byte), another drive (Windows)
        return db_path
    if relative.parts.count("..") > _NEAR_DB_CLIMB:
        return db_path
    # always `./` or `../`: marks a path written relative to the session file (`read_db_path`)
    return relative.as_posix() if relative.parts[0] == ".." else f"./{relative.as_posix()}"


def read_db_path(db_path: str, folder: Path) -> str:
    """The database a session file in `folder` names, as an absolute path.

    A path starting `./` or `../` (as `stored_db_path` writes it) is read against that folder,
    there or not (a missing database is then named in full); another relative path (written
    by hand) is read there when the database is there, else left for the working folder.
    """
    try:
        path = Path(db_path)
        if path.is_absolute() or db_path.startswith("~"):
            return db_path
        beside = (folder / path).resolve()
        written_here = db_path.startswith(("./", "../"))
        return str(beside) if written_here or beside.is_file() else db_path
    except (OSError, ValueError):
        return db_path


def dumps(session: Session, fmt: Format, folder: Path | None = None) -> str:
    """Serialise a session.

    Args:
        session: the session.
        fmt: "json" or "toml".
        folder: the folder of the file it goes to: a database near it is named relative to it.

    Returns:
        The file text, ending in a newline.
    """
    if folder is not None and session.db_path:
        stored = stored_db_path(session.db_path, folder)
        if stored != session.db_path:
            session = session.model_copy(update={"db_path": stored})
    if session.finish_detail and redact_secrets(session.finish_detail) != session.finish_detail:
        # a backend error's words may quote a base_url with its password: never written as it is
        session = session.model_copy(update={"finish_detail": redact_secrets(session.finish_detail)})
    if fmt == "json":
        # pydantic's serializer writes what json.dumps(indent=2, ensure_ascii=False) would, ~9x faster
        return dumps_session(session, indent=2) + "\n"
    return to_toml_text(Session, session.model_dump(mode="json"))


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NUMBER_START = re.compile(r"-?[0-9.eE+-]*")


def loads(text: str, fmt: Format, source: str | os.PathLike[str] = "<string>") -> Session:
    """Parse, migrate and validate a session.

    Args:
        text: the file text.
        fmt: "json" or "toml".
        source: the file name to put in error messages.

    Returns:
        The session, upgraded to the current schema version.

    Raises:
        SessionFileError: syntax error (with line and column), truncated file, missing or
            invalid field (with its path), or a schema version this build cannot read.
    """
    if fmt == "json":
        # in a JSON file a lone surrogate can only come from a `\\uD800`-`\\uDFFF` escape; without one
        # there is nothing for `writable_data` to replace, and walking every string costs half of
        # reading a session (a TOML file's free-form fields are JSON inside strings: always walked)
        surrogates = _SURROGATE_ESCAPE.search(text) is not None
        # likewise a schema `$ref`: in JSON without \u escapes the key can only be written `$ref`
        refs = "$ref" in text or "\\u" in text
        return _loads_flagged(text, fmt, source, surrogates, refs)
    return _loads_flagged(text, fmt, source, True, True)


def _loads_flagged(text: str, fmt: Format, source: str | os.PathLike[str], surrogates: bool, refs: bool) -> Session:
    """`loads`, told whether the text may hold a lone surrogate escape or a `$ref` (see `loads`)."""
    if not text.strip():
        raise SessionFileError(f"{source}: file is empty; {_TRUNCATED_HINT}")
    data = _parse_json(text, source) if fmt == "json" else _parse_toml(text, source)
    return _db_path_read(session_from_dict(data, source, may_hold_surrogates=surrogates, may_hold_refs=refs), source)


def _db_path_read(session: Session, source: str | os.PathLike[str]) -> Session:
    """The session with a `--db` path written relative to its file read against the file's folder."""
    if session.db_path and not str(source).startswith("<"):
        session.db_path = read_db_path(session.db_path, Path(source).parent)
    return session


# what `dumps` writes first in a JSON file of this build's schema version
_CURRENT_JSON_START = b'{\n  "schema_version": %d,' % SCHEMA_VERSION
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def loads_json_bytes(
    data: bytes, source: str | os.PathLike[str] = "<bytes>", tool_lists: ToolListCache | None = None
) -> Session:
    """`loads` of a JSON session's UTF-8 bytes, as the file holds them (the faster way to read one).

    A file as this build saves it (current schema version, no lone surrogate escape) is
    validated straight from its bytes: no Python JSON tree is built, and the searches for
    escapes run over bytes, not over a decoded string (which for text with any character past
    U+00FF is several times slower). Anything else, and any file that fails, takes the path
    `loads` takes, so the session and every error message are the same as `loads` gives.

    Raises:
        SessionFileError: as `loads`, and for bytes that are not UTF-8.
    """
    if tool_lists is not None and data.startswith(_CURRENT_JSON_START):
        found = tool_lists.validate(data)
        if found is not None and found[0].schema_version == SCHEMA_VERSION:
            _refuse_unsafe_parts(found[0], source, found[1])
            return _db_path_read(found[0], source)
    escape = data.find(b"\\u")  # most files have none: one search answers both questions then
    surrogates = escape >= 0 and _SURROGATE_ESCAPE_BYTES.search(data, escape) is not None
    refs = escape >= 0 or b"$ref" in data
    if data.startswith(_CURRENT_JSON_START) and not surrogates:
        try:
            session = Session.model_validate_json(data)
        except (ValueError, RecursionError):  # loads below names the problem, as it always has
            session = None
        # a later duplicate `schema_version` key wins in JSON: then the migrations must run
        if session is not None and session.schema_version == SCHEMA_VERSION:
            _refuse_unsafe_parts(session, source, refs)
            return _db_path_read(session, source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SessionFileError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    if "\r" in text:  # as `read_text` gives it (universal newlines), so positions in messages agree
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _loads_flagged(text, "json", source, surrogates, refs)


def session_from_dict(
    data: Any,
    source: str | os.PathLike[str] = "<data>",
    may_hold_surrogates: bool = True,
    may_hold_refs: bool = True,
) -> Session:
    """Migrate and validate a session given in the JSON shape.

    Args:
        data: a dict as `Session.model_dump(mode="json")` gives (of any known version).
        source: the file name to put in error messages.
        surrogates: whether `data` may hold lone surrogates (False only when its source
            text is known to have none), which are read as U+FFFD.

    Returns:
        The validated session.

    Raises:
        SessionFileError: as `loads`.
    """
    if not isinstance(data, dict):
        raise SessionFileError(f"{source}: a session file must hold an object at the top level")
    # the boundary where a file enters: a lone surrogate (no file can hold it) read as U+FFFD
    data = migrate(writable_data(data) if may_hold_surrogates else data, source)
    try:
        session = Session.model_validate(data)
    except ValidationError as exc:
        raise SessionFileError(f"{source}: {_describe_validation(exc)}") from None
    except RecursionError:
        raise SessionFileError(f"{source}: {_TOO_DEEP}") from None
    _refuse_unsafe_parts(session, source, may_hold_refs)
    return session


def _refuse_unsafe_parts(session: Session, source: str | os.PathLike[str], may_hold_refs: bool = True) -> None:
    """Refuse what a well-formed file can still hold to hurt whoever reads it.

    A tool schema whose `$ref` would be fetched from the network or loops for ever, and a
    rule prompt whose format spec asks for a width of hundreds of megabytes.
    """
    for index, spec in enumerate(session.tools if may_hold_refs else ()):
        for label, schema in (("parameters", spec.parameters), ("output_schema", spec.output_schema)):
            try:
                check_schema_refs(schema)
            except SchemaRefError as exc:
                raise SessionFileError(f"{source}: tools[{index}] ({spec.name}).{label}: {exc}") from None
    for index, rule in enumerate(session.config.rules):
        problem = template_problem(rule.prompt)
        if problem is not None:
            raise SessionFileError(f"{source}: config.rules[{index}] ({rule.id}).prompt: {problem}")


def migrate(
    data: dict[str, Any],
    source: str | os.PathLike[str] = "<data>",
    migrations: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Upgrade a document to `SCHEMA_VERSION`, one version at a time.

    Args:
        data: the document (JSON shape).
        source: the file name to put in error messages.
        migrations: the registry to use; defaults to `MIGRATIONS`.

    Returns:
        The upgraded document.

    Raises:
        SessionFileError: no or non-integer `schema_version`, a newer version than this
            build supports, or an older one with no migration path.
    """
    steps = MIGRATIONS if migrations is None else migrations
    version = data.get("schema_version")
    if version is None:
        raise SessionFileError(f"{source}: no schema_version - is this a turnloom session file?")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SessionFileError(f"{source}: schema_version must be an integer, not {version!r}")
    if version > SCHEMA_VERSION:
        raise SessionFileError(
            f"{source}: schema_version {version} is newer than this turnloom supports "
            f"(up to {SCHEMA_VERSION}); upgrade turnloom to open it"
        )
    while version < SCHEMA_VERSION:
        step = steps.get(version)
        if step is None:
            raise SessionFileError(
                f"{source}: schema_version {version} is too old - no migration to "
                f"{version + 1} exists (this turnloom reads {SCHEMA_VERSION})"
            )
        data = step(dict(data))
        version += 1
        data["schema_version"] = version
    return data


# ---------------------------------------------------------------- files


def save_session(session: Session, path: str | os.PathLike[str], sync_folder: bool = True) -> None:
    """Write a session atomically, in the format its suffix names.

    Args:
        session: the session.
        path: the target file; its folder must exist.
        sync_folder: fsync the folder after the rename (see `atomic_writer`).

    Raises:
        SessionFileError: unknown suffix, or the write failed (the old file is intact).
    """
    text = dumps(session, format_for(path), Path(path).parent)
    with atomic_writer(path, sync_folder=sync_folder) as handle:
        handle.write(text)


def load_session(path: str | os.PathLike[str], tool_lists: ToolListCache | None = None) -> Session:
    """Read a session snapshot (ignoring any journal; see `journal.open_session`).

    Args:
        path: a `.json` or `.toml` session file.
        tool_lists: see `loads_json_bytes`.

    Returns:
        The session.

    Raises:
        SessionFileError: missing, unreadable or invalid file (see `loads`).
    """
    fmt = format_for(path)
    if fmt == "json":
        return loads_json_bytes(read_bytes(path), source=path, tool_lists=tool_lists)
    return loads(read_text(path), fmt, source=path)


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 file, turning OS and decoding errors into `SessionFileError`."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SessionFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise _read_problem(path, exc) from None


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a file's bytes, turning OS errors into `SessionFileError`."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise _read_problem(path, exc) from None


def _read_problem(path: str | os.PathLike[str], exc: OSError) -> SessionFileError:
    if isinstance(exc, FileNotFoundError):
        return SessionFileError(f"{path}: no such file")
    return SessionFileError(f"{path}: cannot read: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, durable: bool = True, sync_folder: bool = True) -> Iterator[IO[str]]:
    """Open a text stream whose content replaces `path` only if the block succeeds.

    The data goes to a temp file in the same folder, which is flushed, fsynced and renamed
    over `path`; then the folder is fsynced. On any failure the temp file is removed and
    the previous `path` is left as it was.

    Args:
        path: the file to (re)place.
        durable: fsync the file and the folder (survives power loss); without it the
            replacement is still all-or-nothing for a killed process.
        sync_folder: with `durable`, also fsync the folder now; False leaves the rename's
            durability to a later fsync of the same folder (a batch's manifest save makes
            all its dialogues' renames durable at once).

    Yields:
        A UTF-8 text stream (newlines written verbatim).

    Raises:
        SessionFileError: the OS refused (disk full, permissions, ...).
    """
    target = Path(path)
    try:
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise SessionFileError(f"{target}: cannot write: {exc.strerror or exc}") from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(temp, _mode_for(target))
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError):
            raise SessionFileError(
                f"{target}: cannot write: {exc.strerror or exc}; the previous file is unchanged"
            ) from None
        raise
    if durable and sync_folder:
        fsync_dir(target.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# ---------------------------------------------------------------- parsing and errors


def _parse_json(text: str, source: str | os.PathLike[str]) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise SessionFileError(f"{source}: {_TOO_DEEP}") from None
    except json.JSONDecodeError as exc:
        # cut off: nothing after the error, or only the start of a literal (`fal`, `nu`, `-1.`) or a string
        tail = text[exc.pos :].rstrip()
        cut_literal = any(word.startswith(tail) for word in ("true", "false", "null")) or _NUMBER_START.fullmatch(tail)
        at_end = not tail or bool(cut_literal) or exc.msg.startswith("Unterminated string")
        if at_end:
            raise SessionFileError(f"{source}: line {exc.lineno}, column {exc.colno}: {_TRUNCATED_HINT}") from None
        raise SessionFileError(f"{source}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    except ValueError as exc:  # an integer of more digits than Python converts (4,300)
        raise SessionFileError(f"{source}: {_number_problem(exc)}") from None


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)$")


def _parse_toml(text: str, source: str | os.PathLike[str]) -> Any:
    try:
        raw = tomllib.loads(text)
    except RecursionError:
        raise SessionFileError(f"{source}: {_TOO_DEEP}") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if message.endswith("(at end of document)"):
            raise SessionFileError(f"{source}: {_TRUNCATED_HINT} ({message})") from None
        found = _TOML_POSITION.search(message)
        if found:
            reason = message[: found.start()].strip()
            raise SessionFileError(f"{source}: line {found[1]}, column {found[2]}: invalid TOML: {reason}") from None
        raise SessionFileError(f"{source}: invalid TOML: {message}") from None
    except ValueError as exc:
        raise SessionFileError(f"{source}: {_number_problem(exc)}") from None
    try:
        return from_toml_data(Session, raw, source)
    except RecursionError:
        raise SessionFileError(f"{source}: {_TOO_DEEP}") from None
    except ValueError as exc:
        raise SessionFileError(f"{source}: {_number_problem(exc)}") from None


def _number_problem(exc: ValueError) -> str:
    """What a ValueError out of a parser means: nearly always a number too long to convert."""
    if "digits" in str(exc):
        return "holds a number with thousands of digits, which no session has; is it the right file?"
    return f"cannot be read: {exc}"


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = _loc_path(error["loc"])
        if not where:
            parts.append(error["msg"].removeprefix("Value error, "))
        elif error["type"] == "missing":
            parts.append(f"required field {where!r} is missing")
        else:
            parts.append(f"field {where!r}: {error['msg']}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more problem(s)")
    return "; ".join(parts)


def _loc_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path
