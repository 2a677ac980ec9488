"""The exchange log: every request/response pair, recorded for audit and exact replay.

An `ExchangeLog` appends one JSON line per completed request (role, profile,
logical request, parsed reply, usage, latency) to a file beside the session —
O(1) per request, readable with `jq`. An `ExchangeCache` loads such files and
answers a request whose logical form (see `ChatRequest.logical`) was seen
before, so a re-run with `--cache FILE` reproduces a dialogue at zero tokens
without calling the endpoint. Keys never appear here: only request bodies are
recorded, and they carry no credentials.

A dialogue's prompt grows with every turn, so writing each request whole would make
the log grow with the square of the dialogue's length. A record therefore names the
earlier record of the same conversation thread whose messages it extends and writes
only what follows the part they share (`"messages": {"after": ID, "chars": N, "text":
TAIL}`, the messages' canonical JSON text cut at character N), and a tool list already
written is named, not repeated (`"tools": {"as": ID}`). `read_exchanges` puts the
requests back together byte for byte (their key is the sha256 of that text); older
logs, whose records hold whole requests, read the same way.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import threading
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydantic_core

from turnloom.core.endpoint.exchange import KEY_PREFIX, ChatResult, EncodedRequest, canonical_json
from turnloom.core.errors import BackendError, SessionFileError

SUFFIX = ".llm.jsonl"
_THREADS = 4096  # conversation threads remembered per log (a batch keeps ~1.25 x its requests in flight open)
_PER_THREAD = 4  # dialogues whose first two messages are the same share a thread key
_TOOL_LISTS = 16
_ROLE_KEY = '"role":"'  # never inside a JSON string, where every quote is escaped


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
    Record ids carry a token of the writing process, and a record only refers to
    earlier records of its own process, which are already in the file.

    Args:
        path: the log file.
        replace: start the file afresh (a new run with the same output) instead of
            appending to it, at the first record, so a run that fails before its first
            exchange leaves the old log alone. Only for a log one process writes.
    """

    def __init__(self, path: str | Path, replace: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._token = ""
        self._count = 0
        # thread key -> [(record id, messages text but its closing bracket)], the latest last
        self._threads: OrderedDict[tuple[str, int], list[tuple[str, str]]] = OrderedDict()
        self._tool_lists: OrderedDict[str, str] = OrderedDict()  # tools text -> id of the record holding it
        self._replace = replace

    def record(self, entry: dict[str, Any], request: EncodedRequest | None = None) -> None:
        """Append one exchange.

        Args:
            entry: the exchange's fields.
            request: the request, already encoded for its key; written as the tail it adds
                to an earlier request of its thread.

        Raises:
            SessionFileError: the file cannot be written, naming it.
        """
        line = _json(entry)
        with self._lock:
            try:
                fd = self._open(truncate=self._replace)
                self._replace = False
                if request is not None:
                    line = line[:-1] + ', "request": ' + self._request_text(request, entry.get("role", "")) + "}"
                data = (line + "\n").encode("utf-8")
                while data:
                    data = data[os.write(fd, data) :]
            except OSError as exc:
                raise SessionFileError(f"{self.path}: cannot record the exchange: {exc.strerror}") from exc

    def _request_text(self, request: EncodedRequest, role: str) -> str:
        """The record's `request` field (under the lock); remembers this request as a base for later ones."""
        self._count += 1
        ident = f"{self._token}.{self._count}"
        messages = request.messages
        thread = (role, hash(messages[: _thread_end(messages)]))
        bases = self._threads.get(thread)
        best: tuple[str, str] | None = None
        shared = 0
        for base in bases or ():
            length = _common_length(messages, base[1])
            if length > shared:
                best, shared = base, length
        if best is not None and bases is not None and shared > 0:
            bases.remove(best)
            field = f'{{"after":"{best[0]}","chars":{shared},"text":{_json(messages[shared:])}}}'
        else:
            field = f'{{"text":{_json(messages)}}}'
        if bases is None:
            bases = self._threads[thread] = []
            if len(self._threads) > _THREADS:
                self._threads.popitem(last=False)
        else:
            self._threads.move_to_end(thread)
        bases.append((ident, messages[:-1]))
        del bases[:-_PER_THREAD]
        tools = request.tools
        if tools is None:
            tools_field = "null"
        elif tools in self._tool_lists:
            tools_field = f'{{"as":"{self._tool_lists[tools]}"}}'
            self._tool_lists.move_to_end(tools)
        else:
            tools_field = f'{{"text":{_json(tools)}}}'
            self._tool_lists[tools] = ident
            if len(self._tool_lists) > _TOOL_LISTS:
                self._tool_lists.popitem(last=False)
        options = ",".join(f'"{name}":{text}' for name, text in sorted(request.options.items()))
        return f'{{"id":"{ident}",{options},"messages":{field},"tools":{tools_field}}}'

    def _open(self, truncate: bool = False) -> int:
        if self._fd is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if truncate else 0)
            try:
                # never through a symbolic link: the log's name is derived, not given, and a link
                # planted there would send every request to a file of someone else's choosing
                self._fd = os.open(self.path, flags, 0o644)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise SessionFileError(
                        f"{self.path}: a symbolic link; turnloom writes its exchange log only to a plain file "
                        "(remove the link, or save the session elsewhere)"
                    ) from None
                if truncate:
                    raise SessionFileError(f"{self.path}: cannot start the exchange log: {exc.strerror}") from exc
                raise
            # another process (a forked worker) starts its own ids and refers only to its own records
            self._pid = os.getpid()
            self._token = secrets.token_hex(6)
            self._count = 0
            self._threads.clear()
            self._tool_lists.clear()
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


def _lines(path: Path) -> list[str]:
    """The file's lines, split at newlines only: a record may hold U+2028 or U+0085 unescaped, which
    `str.splitlines` would cut."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def _json(value: Any) -> str:
    """`value` as JSON text, in Rust (json's encoder is most of a record's cost)."""
    try:
        return pydantic_core.to_json(value).decode("utf-8")
    except pydantic_core.PydanticSerializationError:  # a lone surrogate, which only json escapes
        return json.dumps(value, ensure_ascii=False)


def _thread_end(messages: str) -> int:
    """Where the thread key of a prompt ends: after its first two messages' text (the system prompt and the
    first turn), which tells dialogues apart while every later request of one dialogue keeps them."""
    first = messages.find(_ROLE_KEY)
    if first < 0:
        return len(messages)
    second = messages.find(_ROLE_KEY, first + len(_ROLE_KEY))
    return len(messages) if second < 0 else second


def _common_length(text: str, stem: str) -> int:
    """How many leading characters `text` shares with `stem` (at most `len(stem)`)."""
    if text.startswith(stem):
        return len(stem)  # the usual case: the prompt grew
    low, high = 0, min(len(text), len(stem))
    while low < high:  # the longest shared prefix, by halving: an edited, forked or re-asked prompt
        middle = (low + high + 1) // 2
        if text.startswith(stem[:middle]):
            low = middle
        else:
            high = middle - 1
    return low


def read_exchanges(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of an exchange log, each `request` whole again (the logical request as a dict).

    Args:
        path: an exchange log (this format, or the older one that held whole requests).

    Yields:
        Each record in file order; a torn last line (a killed run) is skipped.

    Raises:
        SessionFileError: the file cannot be read, a line is not a record, or a record
            refers to one that is not before it, naming the file and line.
    """
    path = Path(path)
    try:
        lines = _lines(path)
    except OSError as exc:
        raise SessionFileError(f"{path}: cannot read the exchange log: {exc.strerror}") from exc
    texts: dict[str, str] = {}  # record id -> its messages text, while a later record may still extend it
    tool_lists: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            request = record["request"]
            if "id" in request:
                record["request"] = _whole_request(request, record["key"], texts, tool_lists)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            if number == len(lines) and isinstance(exc, json.JSONDecodeError):
                continue  # a torn last line from a killed run
            raise SessionFileError(f"{path}:{number}: not an exchange record this turnloom can read ({exc})") from None
        yield record


def _whole_request(
    request: dict[str, Any], key: str, texts: dict[str, str], tool_lists: dict[str, str]
) -> dict[str, Any]:
    ident = request.pop("id")
    packed = request.pop("messages")
    if "after" in packed:
        # a base is extended by at most one later record of its writer, which then forgets it
        base = texts.pop(packed["after"])
        messages = base[: packed["chars"]] + packed["text"]
    else:
        messages = packed["text"]
    texts[ident] = messages[:-1]
    packed_tools = request.pop("tools")
    if packed_tools is None:
        tools = None
    elif "as" in packed_tools:
        tools = tool_lists[packed_tools["as"]]
    else:
        tools = tool_lists[ident] = packed_tools["text"]
    encoded = EncodedRequest.assemble(messages, tools, {name: canonical_json(value) for name, value in request.items()})
    # a record made before keys had a version carries the whole request's sha256
    if (encoded.key if key.startswith(KEY_PREFIX) else encoded.legacy_key) != key:
        raise ValueError("the request put back together does not match its key")
    return json.loads(encoded.logical)


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
        self._legacy = False  # holds keys of the older version (see `exchange.legacy_request_key`)
        self.hits = 0
        for path in paths:
            self._load(Path(path))

    def _load(self, path: Path) -> None:
        try:
            lines = _lines(path)
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
            self._legacy = self._legacy or not str(key).startswith(KEY_PREFIX)

    def lookup(self, key: str, describe: str, legacy: Callable[[], str] | None = None) -> ChatResult | None:
        """The recorded reply for `key`, in recording order; the last one again when used up.

        Args:
            key: the request's key.
            describe: where the request comes from, for the error.
            legacy: the request's key of the older version, asked for only when `key` was not
                recorded and the recordings hold keys of that version.

        Raises:
            BackendError: in `only` mode, when the request was never recorded.
        """
        if legacy is not None and self._legacy and key not in self._answers and key not in self._last:
            key = legacy()
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
