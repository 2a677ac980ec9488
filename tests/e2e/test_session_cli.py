"""Sessions from the command line: run, replay --verify, fork, run --from and export on every built-in
domain; and every kind of bad input giving a clear message, exit code 2 and untouched files."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from turnloom.core.cli import main
from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import FinishReason, Provenance, Role
from turnloom.core.storage.journal import Journal, journal_path
from turnloom.core.storage.snapshot import load_session, save_session

FORMATS = ("openai", "hf", "sharegpt", "hermes")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def ok(*argv: str) -> None:
    assert main(list(argv)) == 0, argv


# ---------------------------------------------------------------- every domain, every command


@pytest.mark.parametrize("domain", pack_names())
def test_fork_continue_replay_and_export_on_every_domain(domain: str, tmp_path: Path, capsys) -> None:
    original = tmp_path / "data" / f"{domain}.session.json"
    original.parent.mkdir()
    ok("run", "--quiet", "--domain", domain, "--seed", "3", "--out", str(original))
    session = load_session(original)
    before = original.read_bytes()

    ok("replay", str(original), "--verify", "--rerun")
    out = capsys.readouterr().out
    assert ": all match" in out and "identical" in out

    # mid-way, just after an answer (a fork must hold an assistant reply to be exported)
    at = next(
        k + 1
        for k in range(len(session.messages) // 2, len(session.messages))
        if session.messages[k].role is Role.ASSISTANT and session.messages[k].text
    )
    fork = tmp_path / "data" / f"{domain}-fork.session.toml"
    ok("fork", str(original), "--at", str(at), "--out", str(fork))
    ok("run", "--quiet", "--from", str(fork), "--out", str(tmp_path / "data" / f"{domain}-regen.session.json"))
    regen = load_session(tmp_path / "data" / f"{domain}-regen.session.json")
    assert [m.content for m in regen.messages] == [m.content for m in session.messages]
    assert regen.parent.session_id == load_session(fork).id

    more = tmp_path / "data" / f"{domain}-more.session.json"
    ok("run", "--quiet", "--from", str(original), "--tasks", "1", "--out", str(more))
    assert len(load_session(more).tasks) == len(session.tasks) + 1
    ok("replay", str(more), "--verify")
    assert original.read_bytes() == before

    for fmt in FORMATS:
        target = tmp_path / f"{domain}.{fmt}.jsonl"
        ok("export", str(tmp_path / "data"), "--format", fmt, "--out", str(target))
        lines = target.read_text().splitlines()
        assert len(lines) == 4, capsys.readouterr().out  # original, fork (cut mid-way), regenerated, extended
        capsys.readouterr()

    # an exported OpenAI record is itself a transcript turnloom can start from
    record = json.loads((tmp_path / f"{domain}.openai.jsonl").read_text().splitlines()[0])
    transcript = tmp_path / "record.json"
    transcript.write_text(json.dumps({"messages": record["messages"], "tools": record["tools"]}))
    ok("run", "--quiet", "--from", str(transcript), "--domain", domain, "--out", "imported.session.json")
    imported = load_session(tmp_path / "imported.session.json")
    n = len(record["messages"])
    assert all(m.meta.provenance is Provenance.IMPORTED for m in imported.messages[:n])
    assert imported.messages[n].meta.provenance is Provenance.SIMULATOR
    assert imported.finish_reason is FinishReason.USER_DONE and len(imported.tasks) == 1
    ok("replay", "imported.session.json", "--verify")


def test_exit_codes_hold_for_a_real_process(tmp_path: Path) -> None:
    bad = tmp_path / "bad.session.json"
    bad.write_text('{"schema_version": 1, "id": ')
    for argv in (
        ["replay", str(bad)],
        ["fork", str(bad), "--at", "1", "--out", "x.session.json"],
        ["run", "--from", str(bad)],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "turnloom.core", *argv], capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 2, (argv, done.stderr)
        assert done.stderr.startswith("turnloom: error: ") and "Traceback" not in done.stderr
        assert str(bad) in done.stderr


# ---------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def good_text(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A real finished session's JSON and TOML text."""
    folder = tmp_path_factory.mktemp("good")
    main(["run", "--quiet", "--domain", "retail", "--seed", "1", "--out", str(folder / "g.session.json")])
    session = load_session(folder / "g.session.json")
    save_session(session, folder / "g.session.toml")
    return {"json": (folder / "g.session.json").read_text(), "toml": (folder / "g.session.toml").read_text()}


def _set(text: str, **changes: object) -> str:
    data = json.loads(text)
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data)


_DROP = object()


def _broken_toml(text: str) -> tuple[str, int]:
    lines = text.splitlines()
    line = next(i for i, text in enumerate(lines) if text.startswith("domain = "))
    lines[line] = 'domain = "retail'  # unterminated string
    return "\n".join(lines) + "\n", line + 1


CASES = {
    "truncated json": ("json", lambda t: t[: len(t) // 2], ["line", "cut off"]),
    "corrupt json": ("json", lambda t: t.replace('"messages": [', '"messages": [}', 1), ["line", "invalid JSON"]),
    "newer schema_version": ("json", lambda t: _set(t, schema_version=99), ["schema_version 99 is newer"]),
    "unknown schema_version": ("json", lambda t: _set(t, schema_version="one"), ["schema_version must be an integer"]),
    "too old schema_version": ("json", lambda t: _set(t, schema_version=0), ["no migration"]),
    "missing field": ("json", lambda t: _set(t, domain=_DROP), ["required field 'domain' is missing"]),
    "empty file": ("json", lambda t: "", ["empty"]),
}

COMMANDS = {
    "replay": lambda f: ["replay", f],
    "replay --verify": lambda f: ["replay", f, "--verify"],
    "fork": lambda f: ["fork", f, "--at", "2", "--out", "new.session.json"],
    "run --from": lambda f: ["run", "--quiet", "--from", f],
    "export": lambda f: ["export", f, "--format", "openai", "--out", "out.jsonl"],
}


def _expect_refusal(tmp_path: Path, argv: list[str], watched: list[Path], needles: list[str], capsys) -> str:
    before = {p: p.read_bytes() for p in watched}
    listing = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.startswith("turnloom: error: "), err
    for needle in needles:
        assert needle in err, (needle, err)
    assert {p: p.read_bytes() for p in watched} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # nothing new written
    return err


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES)
def test_a_bad_session_file_is_refused_clearly(case: str, command: str, tmp_path: Path, good_text, capsys) -> None:
    fmt, spoil, needles = CASES[case]
    path = tmp_path / f"bad.session.{fmt}"
    path.write_text(spoil(good_text[fmt]))
    _expect_refusal(tmp_path, COMMANDS[command](str(path)), [path], [str(path), *needles], capsys)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_toml_syntax_error_names_file_line_and_column(command: str, tmp_path: Path, good_text, capsys) -> None:
    path = tmp_path / "bad.session.toml"
    text, line = _broken_toml(good_text["toml"])
    path.write_text(text)
    err = _expect_refusal(tmp_path, COMMANDS[command](str(path)), [path], [str(path), f"line {line}, column"], capsys)
    assert "invalid TOML" in err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_journal_from_another_session_is_refused(command: str, tmp_path: Path, good_text, capsys) -> None:
    path = tmp_path / "s.session.json"
    path.write_text(good_text["json"])
    other = create_session("clinic", seed=2)
    Journal.open(tmp_path / "elsewhere.session.json", other).close()
    journal_path(tmp_path / "elsewhere.session.json").rename(journal_path(path))
    _expect_refusal(
        tmp_path,
        COMMANDS[command](str(path)),
        [path, journal_path(path)],
        [str(journal_path(path)), "belongs to session", "move the journal aside"],
        capsys,
    )


@pytest.mark.parametrize("command", ["replay --verify", "fork", "run --from"])
def test_a_missing_database_is_refused(command: str, tmp_path: Path, capsys) -> None:
    import sqlite3

    db = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);INSERT INTO items (name) VALUES ('a'), ('b');"
    )
    conn.close()
    path = tmp_path / "own.session.json"
    session = create_session(db_path=db, seed=1)
    engine = open_engine(session)
    asyncio.run(engine.run(max_steps=4))
    engine.environment.close()
    save_session(session, path)
    db.unlink()
    _expect_refusal(tmp_path, COMMANDS[command](str(path)), [path], [str(db), "no such file"], capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["replay", "{f}", "--at", "999"],
        ["fork", "{f}", "--at", "999", "--out", "n.session.json"],
        ["run", "--from", "{f}", "--at", "999"],
    ],
    ids=["replay", "fork", "run --from"],
)
def test_at_out_of_range_is_refused(argv: list[str], tmp_path: Path, good_text, capsys) -> None:
    path = tmp_path / "g.session.json"
    path.write_text(good_text["json"])
    n = len(json.loads(good_text["json"])["messages"])
    _expect_refusal(
        tmp_path, [a.format(f=path) for a in argv], [path], [f"--at 999 is outside the transcript (0..{n}"], capsys
    )


def test_a_negative_at_is_an_argument_error(tmp_path: Path, good_text, capsys) -> None:
    path = tmp_path / "g.session.json"
    path.write_text(good_text["json"])
    with pytest.raises(SystemExit) as caught:
        main(["fork", str(path), "--at", "-1", "--out", "n.session.json"])
    assert caught.value.code == 2 and "at least 0" in capsys.readouterr().err


def test_a_missing_file_and_a_wrong_suffix(tmp_path: Path, capsys) -> None:
    _expect_refusal(tmp_path, ["replay", "nope.session.json"], [], ["nope.session.json: no such file"], capsys)
    (tmp_path / "notes.txt").write_text("hi")
    _expect_refusal(
        tmp_path, ["run", "--from", "notes.txt"], [tmp_path / "notes.txt"], ["unknown session file type"], capsys
    )
