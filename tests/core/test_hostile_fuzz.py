"""A fuzzer for the files turnloom reads: sessions (JSON and TOML), journals, toolsets and rules.

Each good file is damaged many ways (cut short, random bytes flipped, a value of the wrong
type, nesting deeper than any parser's stack, numbers beyond a double, lone surrogates,
NaN) and handed to every command that reads it. Every command must end in success, a named
error (`turnloom: error: ...`, exit 2) or a skip with its reason: never an exception out of
`main`. The seed is fixed, so a failure names the mutant that found it and reproduces.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from turnloom.core.cli import main
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.storage.journal import journal_path
from turnloom.core.storage.snapshot import save_session

SEED = 15
WRONG_VALUES = [None, 0, -1, 1.5, "x", "", [], {}, True, [None], {"x": None}, 10**30]
DEEP = 50_000


def _json_paths(value, path=()):
    """Every (path, value) in a parsed document (keys first), iteratively."""
    out = []
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        out.append((where, item))
        if isinstance(item, dict):
            stack.extend((where + (k,), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((where + (i,), v) for i, v in enumerate(item))
    return out


def _set(document, path, new):
    if not path:
        return new
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return document


def _mutants(text: str, rng: random.Random, count: int, is_json: bool) -> list[tuple[str, bytes]]:
    """`count` damaged copies of `text`, each with a name saying how it was damaged."""
    raw = text.encode("utf-8")
    out: list[tuple[str, bytes]] = [("empty", b""), ("not utf-8", b"\xff\xfe" + raw[:200])]
    for n in range(count):
        kind = n % 7
        if kind == 0:
            cut = rng.randrange(1, len(raw))
            out.append((f"cut at byte {cut}", raw[:cut]))
        elif kind == 1:
            data = bytearray(raw)
            spots = [rng.randrange(len(data)) for _ in range(rng.choice([1, 3, 20]))]
            for spot in spots:
                data[spot] = rng.randrange(256)
            out.append((f"bytes flipped at {spots[:3]}...", bytes(data)))
        elif kind == 2 and is_json:
            document = json.loads(text)
            path, _ = rng.choice(_json_paths(document)[1:])
            value = rng.choice(WRONG_VALUES)
            out.append((f"{'/'.join(map(str, path))} = {value!r}", json.dumps(_set(document, path, value)).encode()))
        elif kind == 3:
            spot = rng.randrange(len(raw))
            nest = b"[" * DEEP + b"]" * DEEP
            out.append((f"{DEEP} nested lists at byte {spot}", raw[:spot] + nest + raw[spot:]))
            if is_json:
                document = json.loads(text)
                path, _ = rng.choice(_json_paths(document)[1:])
                deep = json.dumps(_set(document, path, "@@DEEP@@")).replace('"@@DEEP@@"', "[" * DEEP + "]" * DEEP)
                out.append((f"{'/'.join(map(str, path))} nested {DEEP} deep", deep.encode()))
        elif kind == 4 and is_json:
            document = json.loads(text)
            numbers = [p for p, v in _json_paths(document) if isinstance(v, (int, float)) and not isinstance(v, bool)]
            if numbers:
                path = rng.choice(numbers)
                huge = rng.choice(["1e400", "-1e400", str(10**400), "NaN", "Infinity", "-99999999999999999999999"])
                marked = json.dumps(_set(document, path, "@@NUM@@")).replace('"@@NUM@@"', huge)
                out.append((f"{'/'.join(map(str, path))} = {huge[:12]}", marked.encode()))
        elif kind == 5:
            quotes = [i for i, c in enumerate(text) if c == '"']
            if quotes:
                spot = rng.choice(quotes) + 1
                bad = rng.choice(["\\ud800", "\\udfff", "\\ud800\\ud800", "\\u0000", "\\u001b[2J"])
                out.append((f"{bad} at char {spot}", (text[:spot] + bad + text[spot:]).encode()))
        elif kind == 6:
            number_spot = rng.randrange(len(raw))
            out.append((f"a huge integer at byte {number_spot}", raw[:number_spot] + b"9" * 5000 + raw[number_spot:]))
    return out


def _check(name: str, argv: list[str], failures: list[str], capsys) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:  # noqa: BLE001 - what the fuzzer is looking for
        failures.append(f"{name}: `{' '.join(argv[:2])}` raised {type(exc).__name__}: {str(exc)[:160]}")
        capsys.readouterr()
        return
    err = capsys.readouterr().err
    if code not in (0, 1, 2):
        failures.append(f"{name}: `{' '.join(argv[:2])}` exited {code}")
    elif code == 2 and "turnloom: error:" not in err and argv[-1] not in err:  # `rules check` lists by file
        failures.append(f"{name}: `{' '.join(argv[:2])}` exited 2 without a named error: {err[-200:]!r}")
    elif "Traceback" in err:
        failures.append(f"{name}: `{' '.join(argv[:2])}` printed a traceback")


def _fuzz(
    tmp_path: Path,
    capsys,
    good: Path,
    commands: Callable[[Path], list[list[str]]],
    count: int,
    prepare: Callable[[Path], None] | None = None,
) -> None:
    rng = random.Random(f"{SEED}-{good.name}")
    is_json = good.suffix == ".json" or good.name.endswith(".journal")
    text = good.read_text(encoding="utf-8")
    failures: list[str] = []
    if good.name.endswith(".journal"):  # journal lines: damage a line's JSON, keep the others whole
        lines = text.splitlines(keepends=True)
        mutants = []
        for n in range(count):
            index = rng.randrange(len(lines))
            line = lines[index]
            for label, bad in _mutants(line.rstrip("\n"), rng, 7, True)[2 + n % 7 : 3 + n % 7]:
                mutants.append(
                    (
                        f"line {index + 1}: {label}",
                        "".join(lines[:index]).encode() + bad + b"\n" + "".join(lines[index + 1 :]).encode(),
                    )
                )
        mutants += [(f"line {len(lines)} cut short", text[: text.rindex("\n", 0, len(text) - 1) + 20].encode())]
    else:
        mutants = _mutants(text, rng, count, is_json)
    for number, (label, data) in enumerate(mutants):
        case = tmp_path / f"m{number}"
        case.mkdir()
        target = case / good.name
        if prepare is not None:
            prepare(case)
        target.write_bytes(data)
        for argv in commands(target):
            _check(f"#{number} {label}", argv, failures, capsys)
        shutil.rmtree(case, ignore_errors=True)
    assert not failures, f"{len(failures)} escaped:\n" + "\n".join(failures[:30])


def _session_commands(path: Path) -> list[list[str]]:
    out = path.parent
    return [
        ["replay", str(path)],
        ["export", str(path), "--format", "openai", "--out", str(out / "o.jsonl")],
        ["stats", str(out)],
        ["fork", str(path), "--at", "2", "--out", str(out / "f.session.json")],
    ]


@pytest.fixture
def saved_session(tmp_path: Path) -> Path:
    session = create_session(domain="retail", seed=2, tasks=1)
    live = LiveSession.open_journaled(session, tmp_path / "good" / "s.session.json", None)
    import asyncio

    async def some_steps() -> None:
        for _ in range(8):
            await live.engine.step()

    asyncio.run(some_steps())
    live.save()
    live.close()
    return tmp_path / "good" / "s.session.json"


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_damaged_session_files_end_in_a_named_error_or_a_skip(tmp_path, capsys, saved_session, suffix):
    from turnloom.core.storage.snapshot import load_session

    good = saved_session.with_name(f"s.session{suffix}")
    save_session(load_session(saved_session), good)
    _fuzz(tmp_path, capsys, good, _session_commands, count=42)


def test_damaged_journals_end_in_a_named_error_or_a_skip(tmp_path, capsys, saved_session):
    from turnloom.core.storage.journal import Journal
    from turnloom.core.storage.snapshot import load_session

    session = load_session(saved_session)
    journal_dir = tmp_path / "journal-only"
    journal_dir.mkdir()
    snapshot = journal_dir / "s.session.json"
    with Journal.open(snapshot, session) as journal:  # a full header: a crashed run's journal, no snapshot
        for index, message in enumerate(session.messages[:3]):
            journal.record_message(index, message)
        journal.record_truncate(2)
        journal.record_finish(None)
        good = journal_path(snapshot)
        text = good.read_text()
    good.write_text(text)

    def commands(path: Path) -> list[list[str]]:
        return _session_commands(path.with_suffix(".json"))

    _fuzz(tmp_path, capsys, good, commands, count=35)


def test_damaged_toolset_files_end_in_a_named_error(tmp_path, capsys):
    good = tmp_path / "good" / "tools.json"
    assert main(["forge", "--domain", "retail", "--out", str(good), "--quiet"]) == 0
    document = json.loads(good.read_text())
    document["tools"] = document["tools"][:4]  # a few tools keep each run short
    good.write_text(json.dumps(document, indent=1))
    capsys.readouterr()

    def commands(path: Path) -> list[list[str]]:
        return [
            [
                "run",
                "--quiet",
                "--tools",
                str(path),
                "--tasks",
                "1",
                "--max-messages",
                "4",
                "--out",
                str(path.parent / "r.session.json"),
            ]
        ]

    _fuzz(tmp_path, capsys, good, commands, count=28)


def test_damaged_rule_files_end_in_a_named_error(tmp_path, capsys):
    from importlib import resources

    source = resources.files("turnloom.core.rules.builtin") / "terse.toml"
    good = tmp_path / "good" / "terse.toml"
    good.parent.mkdir()
    good.write_text(source.read_text(encoding="utf-8"))

    def commands(path: Path) -> list[list[str]]:
        return [["rules", "check", str(path)]]

    _fuzz(tmp_path, capsys, good, commands, count=60)


def test_damaged_transcripts_end_in_a_named_error(tmp_path, capsys):
    good = tmp_path / "good" / "chat.json"
    good.parent.mkdir()
    arguments = json.dumps({"email": "diego.silva@example.com"})
    call = {"id": "c1", "type": "function", "function": {"name": "get_customer_by_email", "arguments": arguments}}
    good.write_text(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "Hi, the orders of diego.silva@example.com please"},
                    {"role": "assistant", "content": None, "tool_calls": [call]},
                    {"role": "tool", "tool_call_id": "c1", "content": '{"id": 3}'},
                    {"role": "assistant", "content": "Found customer 3."},
                ]
            }
        )
    )

    def commands(path: Path) -> list[list[str]]:
        out = str(path.parent / "c.session.json")
        return [["run", "--quiet", "--from", str(path), "--max-messages", "12", "--out", out]]

    _fuzz(tmp_path, capsys, good, commands, count=70)
