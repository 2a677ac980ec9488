"""The exchange log: every request/response pair, recorded for audit and exact replay.

An `ExchangeLog` appends one JSON line per completed request (role, profile,
logical request, parsed reply, usage, latency) to a file beside the session —
O(1) per request, readable with `jq`. An `ExchangeCache` loads such files and
answers a request whose logical form (see `ChatRequest.logical`) was seen
before, so a re-run with `--cache FILE` reproduces a dialogue at zero tokens
without calling the endpoint. Keys never appear here: only request bodies are
recorded, and they carry no credentials.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from turnloom.core.endpoint.exchange import ChatResult
from turnloom.core.errors import BackendError, SessionFileError

SUFFIX = ".llm.jsonl"


def exchange_log_path(session_path: str | Path) -> Path:
    """Where the exchanges of the session saved at `session_path` are recorded.

    ``out/retail-seed0-ab12.session.json`` -> ``out/retail-seed0-ab12.llm.jsonl``.
    """
    path = Path(session_path)
    name = path.name
    for suffix in (".session.json", ".session.toml"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + SUFFIX)
    return path.with_name(path.stem + SUFFIX)


class ExchangeLog:
    """Appends exchanges to a JSONL file; safe to share between concurrent dialogues and processes.

    Each line goes out in one `write` on a file opened for appending, so lines from
    several processes (one event loop per core) do not interleave on a local filesystem.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def record(self, entry: dict[str, Any], encoded: dict[str, str] | None = None) -> None:
        """Append one exchange.

        Args:
            entry: the exchange's fields.
            encoded: further fields already encoded as JSON text (the request, which is
                most of the line and was encoded once for its key).

        Raises:
            SessionFileError: the file cannot be written, naming it.
        """
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True)
        if encoded:
            line = line[:-1] + "".join(f', "{name}": {text}' for name, text in sorted(encoded.items())) + "}"
        data = (line + "\n").encode("utf-8")
        with self._lock:
            try:
                fd = self._open()
                while data:
                    data = data[os.write(fd, data) :]
            except OSError as exc:
                raise SessionFileError(f"{self.path}: cannot record the exchange: {exc.strerror}") from exc

    def _open(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # never through a symbolic link: the log's name is derived, not given, and a link
                # planted there would send every request to a file of someone else's choosing
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise SessionFileError(
                        f"{self.path}: a symbolic link; turnloom writes its exchange log only to a plain file "
                        "(remove the link, or save the session elsewhere)"
                    ) from None
                raise
            self._pid = os.getpid()
        return self._fd

    def close(self) -> None:
        """Close the file (the next record opens it again)."""
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None and self._pid == os.getpid():
            os.close(fd)


class ExchangeCache:
    """Answers requests from recorded exchanges.

    Args:
        paths: exchange logs to load (missing files are an error, empty ones are not).
        only: when True a request that was not recorded raises instead of going
            to the endpoint (replay verification).
    """

    def __init__(self, paths: list[str | Path], only: bool = False) -> None:
        self.only = only
        self._answers: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._last: dict[str, dict[str, Any]] = {}
        self.hits = 0
        for path in paths:
            self._load(Path(path))

    def _load(self, path: Path) -> None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise SessionFileError(
                f"{path}: cache file not found (it is written beside a session as *{SUFFIX})"
            ) from None
        except OSError as exc:
            raise SessionFileError(f"{path}: cannot read the cache: {exc.strerror}") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                key, response = entry["key"], entry["response"]
            except (json.JSONDecodeError, KeyError, TypeError):
                if number == len(lines):
                    continue  # a torn last line from a killed run
                raise SessionFileError(f"{path}:{number}: not an exchange record") from None
            self._answers[key].append(response)

    def lookup(self, key: str, describe: str) -> ChatResult | None:
        """The recorded reply for `key`, in recording order; the last one again when used up.

        Raises:
            BackendError: in `only` mode, when the request was never recorded.
        """
        queue = self._answers.get(key)
        if queue:
            response = queue.popleft()
            self._last[key] = response
        elif key in self._last:
            response = self._last[key]
        else:
            if self.only:
                raise BackendError(
                    f"{describe}: this request is not in the recording; the dialogue diverged from the "
                    "recorded run (different seed, prompts, config or an operator edit)"
                )
            return None
        self.hits += 1
        result = ChatResult.from_record(response)
        result.cached = True
        return result
