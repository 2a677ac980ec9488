"""One `generate` per batch folder: an advisory lock held while a batch runs in it.

`DIR/.turnloom.lock` is locked with `flock` for as long as the batch runs and holds who
holds it (process id, host, start time, command). A second `generate` on the same folder
is refused with a message naming the holder, so no dialogue ever runs twice. The kernel
drops the lock when its process dies, however it dies: a lock left by a killed process is
simply taken over (and the takeover is reported); a clean end removes the file. A folder the lock file cannot be created
in is read-only (`FolderReadOnly`): the caller may still read a finished batch there.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from turnloom.core.errors import SessionFileError

LOCK_NAME = ".turnloom.lock"
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)
_REPLACED = "replaced"  # _acquire_once: the file changed between open and lock


class FolderReadOnly(SessionFileError):
    """The lock file cannot be created: the folder is not writable."""


class FolderLock:
    """The batch lock of `folder`; `acquire` it before writing anything there, `release` at the end."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> str | None:
        """Take the lock without waiting (see `_acquire_once`); retried if the file was replaced meanwhile."""
        for _ in range(10):
            note = self._acquire_once()
            if note is not _REPLACED:
                return note
        raise SessionFileError(f"{self.path}: the batch lock keeps changing under us; is another turnloom starting?")

    def _acquire_once(self) -> str | None:
        """Take the lock without waiting.

        Returns:
            A note when the lock was left by a process that is gone (taken over), else None.

        Raises:
            FolderReadOnly: the folder is not writable.
            SessionFileError: another live process holds the lock (named, with what to do),
                or the lock file is a symbolic link.
        """
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno in _READ_ONLY:
                raise FolderReadOnly(f"{self.folder}: not writable ({exc.strerror})") from None
            if exc.errno == errno.ELOOP:
                raise SessionFileError(f"{self.path}: a symbolic link; remove it, then run again") from None
            raise SessionFileError(f"{self.path}: cannot open the batch lock: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            held_by = _describe(_read_holder(fd))
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise SessionFileError(
                    f"{self.folder}: another `turnloom generate` is running in this folder ({held_by}); "
                    f"wait for it to finish, or stop it (Ctrl-C, or `touch {self.folder / '.stop'}`) and run "
                    "again to resume; to run a second batch at once, use another --out folder"
                ) from None
            raise SessionFileError(f"{self.path}: cannot lock: {exc.strerror or exc}") from None
        # a holder ending cleanly removes the file: if ours was removed (or replaced) between our open
        # and our lock, we hold a lock on a file nobody else will look at; start again
        try:
            current = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fd)
        if current is None or (current.st_dev, current.st_ino) != (mine.st_dev, mine.st_ino):
            os.close(fd)
            return _REPLACED
        previous = _read_holder(fd)
        note = None
        if previous.get("pid") and previous.get("pid") != os.getpid():
            note = f"{self.folder}: took over the batch lock left by a process that is gone ({_describe(previous)})"
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": " ".join(["turnloom", *sys.argv[1:]])[:300],
        }
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
        self._fd = fd
        return note

    def release(self) -> None:
        """Drop the lock and remove its file (a clean end leaves nothing behind in the folder)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)  # while still locked: whoever opened it meanwhile sees it replaced
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "holder unknown"
    parts = [f"pid {holder.get('pid')}"]
    if holder.get("host"):
        parts.append(f"on {holder['host']}")
    if holder.get("started"):
        parts.append(f"since {holder['started']}")
    if holder.get("command"):
        parts.append(f"`{str(holder['command'])[:120]}`")
    return " ".join(str(p) for p in parts)
