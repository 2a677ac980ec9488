"""Base images: the serialized databases that dialogues copy.

`load_database_image` reads a user's SQLite file (read-only, nothing written
beside it, with clear errors for files that cannot be used);
`build_pack_image` builds a built-in domain pack's database once per process.
"""

from __future__ import annotations

import functools
import random
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from turnloom.core.domains.base import DomainPack
from turnloom.core.errors import DatabaseError

SQLITE_HEADER = b"SQLite format 3\x00"


def empty_database_image() -> bytes:
    """A database with no tables: what a dialogue on synthetic tools (no database) runs over."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("PRAGMA user_version = 1")  # an untouched database has no pages to serialize
        return connection.serialize()
    finally:
        connection.close()


def load_database_image(path: str | Path, *, timeout: float = 1.0) -> bytes:
    """Read a user's SQLite file into memory, opening it read-only.

    Nothing is ever written next to the file; a read-only file is fine.

    Args:
        path: the database file.
        timeout: seconds to wait for another process's write lock.

    Returns:
        The serialized database.

    Raises:
        DatabaseError: the file is missing, unreadable, not SQLite, locked, or has no tables.
    """
    file = Path(path).expanduser()
    if not file.exists():
        raise DatabaseError(f"{file}: no such file; check the path, or pick a built-in domain")
    if file.is_dir():
        raise DatabaseError(f"{file}: is a folder, not a SQLite database file")
    try:
        with file.open("rb") as handle:
            header = handle.read(100)
    except PermissionError as exc:
        raise DatabaseError(f"{file}: cannot be read (permission denied); check its permissions") from exc
    except OSError as exc:
        raise DatabaseError(f"{file}: cannot be read ({exc.strerror})") from exc
    if not header:
        raise DatabaseError(f"{file}: the database is empty (no tables); create some tables first")
    if not header.startswith(SQLITE_HEADER):
        raise DatabaseError(
            f"{file}: not a SQLite database (its header is not 'SQLite format 3'); "
            "pass a .sqlite/.db file made by SQLite 3"
        )
    wal = file.with_name(file.name + "-wal")
    if header[18:20] == b"\x02\x02" and wal.exists() and wal.stat().st_size:
        # WAL mode with committed pages still in the -wal file: reading them needs a -shm index, which
        # SQLite would create beside the user's file even read-only; read a private copy of both instead
        with tempfile.TemporaryDirectory(prefix="turnloom-db-") as scratch:
            copy = Path(scratch) / "copy.db"
            try:
                shutil.copyfile(file, copy)
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
            except OSError as exc:
                raise DatabaseError(f"{file}: cannot be read ({exc.strerror or exc})") from exc
            tables, image = _read_image(f"file:{quote(str(copy))}", file, timeout)
    else:
        # WAL mode with nothing in a -wal file: read the file as-is, so SQLite creates no -shm beside it
        immutable = "&immutable=1" if header[18:20] == b"\x02\x02" else ""
        tables, image = _read_image(f"file:{quote(str(file.resolve()))}?mode=ro{immutable}", file, timeout)
    if not tables:
        raise DatabaseError(f"{file}: the database is empty (no tables); create some tables first")
    # a WAL-mode header would make the in-memory copy look for a -wal file; mark it rollback mode
    if image[18:20] == b"\x02\x02":
        image = image[:18] + b"\x01\x01" + image[20:]
    return image


def _read_image(uri: str, file: Path, timeout: float) -> tuple[int, bytes]:
    """The number of user tables and the serialized database at `uri` (`file` names it in errors)."""
    try:
        source = sqlite3.connect(uri, uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{file}: cannot be opened ({exc})") from exc
    try:
        tables = source.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchone()[0]
        return tables, source.serialize()
    except sqlite3.Error as exc:
        message = str(exc)
        if "locked" in message or "busy" in message:
            raise DatabaseError(
                f"{file}: the database is locked: another process holds a write lock; "
                "close it (or wait for it to finish) and try again"
            ) from exc
        raise DatabaseError(f"{file}: cannot be read as SQLite ({message}); is it corrupt?") from exc
    finally:
        source.close()


def build_pack_image(pack: DomainPack) -> bytes:
    """The base image of a built-in domain pack (built once per process per pack name).

    Args:
        pack: the pack; its schema runs, then `populate` with `Random(pack.data_seed)`.

    Returns:
        The serialized database.
    """
    return _pack_image(_PackKey(pack))


@dataclass(frozen=True, eq=False)
class _PackKey:
    """Hashes a pack by name so the image cache needs no hashable pack."""

    pack: DomainPack

    def __hash__(self) -> int:
        return hash(self.pack.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _PackKey) and other.pack.name == self.pack.name


@functools.lru_cache(maxsize=32)
def _pack_image(key: _PackKey) -> bytes:
    pack = key.pack
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(pack.schema_sql)
        pack.populate(conn, random.Random(pack.data_seed))
        conn.commit()
        return conn.serialize()
    finally:
        conn.close()
