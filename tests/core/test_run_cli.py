"""`turnloom run` and `turnloom domains` from the command line, including bad input."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from turnloom.core.cli import main
from turnloom.core.storage.snapshot import load_session


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_run_prints_the_dialogue_and_saves_it(tmp_path, capsys):
    out = tmp_path / "one.session.json"
    assert main(["run", "--domain", "airline", "--seed", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "user" in printed and "assistant" in printed and "user_done" in printed
    assert "\033[" not in printed  # plain when not a tty
    session = load_session(out)
    assert session.domain == "airline" and session.config.seed == 2
    assert not (tmp_path / "one.session.journal").exists()


def test_run_defaults_to_the_sessions_folder(tmp_path, capsys):
    assert main(["run", "--quiet", "--seed", "1"]) == 0
    files = list((tmp_path / "sessions").glob("retail-seed1-*.session.json"))
    assert len(files) == 1


def test_run_writes_toml_when_asked(tmp_path):
    out = tmp_path / "one.session.toml"
    assert main(["run", "--quiet", "--domain", "clinic", "--out", str(out)]) == 0
    assert load_session(out).domain == "clinic"


def test_same_seed_same_file_apart_from_identity(tmp_path):
    a, b = tmp_path / "a.session.json", tmp_path / "b.session.json"
    main(["run", "--quiet", "--domain", "telecom", "--seed", "9", "--out", str(a)])
    main(["run", "--quiet", "--domain", "telecom", "--seed", "9", "--out", str(b)])

    def canonical(path):
        data = json.loads(path.read_text())
        data.pop("id"), data.pop("created_at")
        for message in data["messages"]:
            message["meta"].pop("latency_ms", None)
        return data

    assert canonical(a) == canonical(b)


def test_domains_lists_every_pack_with_counts(capsys):
    assert main(["domains", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"retail", "airline", "telecom", "clinic", "football"}
    assert sum(r["rows"] for r in rows) >= 200
    assert all(r["tools"] > 10 and r["tables"] >= 3 for r in rows)


def test_unknown_domain_lists_the_known_ones(tmp_path, capsys):
    assert main(["run", "--domain", "retial", "--out", str(tmp_path / "x.session.json")]) == 2
    err = capsys.readouterr().err
    assert "unknown domain 'retial'" in err and "retail" in err and "airline" in err
    assert not list(tmp_path.glob("x.*"))


def test_a_seed_that_is_not_a_number_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--seed", "abc"])
    assert exit_info.value.code == 2
    assert "seed must be a whole number" in capsys.readouterr().err


def test_a_file_that_is_not_sqlite(tmp_path, capsys):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("just some notes")
    assert main(["run", "--db", str(bogus), "--out", str(tmp_path / "x.session.json")]) == 2
    assert "not a SQLite database" in capsys.readouterr().err.replace("not an SQLite", "not a SQLite")
    assert not (tmp_path / "x.session.json").exists()


def test_an_empty_database(tmp_path, capsys):
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    empty.write_bytes(empty.read_bytes() or b"")
    conn = sqlite3.connect(empty)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    assert main(["run", "--db", str(empty)]) == 2
    assert "no tables" in capsys.readouterr().err


def test_a_missing_database(tmp_path, capsys):
    assert main(["run", "--db", str(tmp_path / "nope.sqlite")]) == 2
    assert "nope.sqlite" in capsys.readouterr().err


def _library(path):
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        "CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author_id INTEGER REFERENCES authors(id));"
        "INSERT INTO authors VALUES (1, 'Mary Shelley'), (2, 'Jules Verne');"
        "INSERT INTO books VALUES (1, 'Frankenstein', 1), (2, 'Twenty Thousand Leagues', 2);"
    )
    conn.commit()
    conn.close()


def test_a_read_only_database_is_used_and_never_written(tmp_path, capsys):
    path = tmp_path / "library.sqlite"
    _library(path)
    before = path.read_bytes()
    os.chmod(path, stat.S_IRUSR)
    try:
        assert main(["run", "--quiet", "--db", str(path), "--out", str(tmp_path / "l.session.json")]) == 0
    finally:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.session.json", "library.sqlite"]


def test_a_locked_database(tmp_path, capsys):
    path = tmp_path / "library.sqlite"
    _library(path)
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert main(["run", "--db", str(path), "--out", str(tmp_path / "l.session.json")]) == 2
    finally:
        holder.rollback()
        holder.close()
    assert "lock" in capsys.readouterr().err
    assert not (tmp_path / "l.session.json").exists()


def test_at_without_from_is_a_usage_error(capsys):
    assert main(["run", "--at", "3"]) == 2
    assert "--at needs --from" in capsys.readouterr().err


def test_every_subcommand_explains_itself(capsys):
    from turnloom.core.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"run", "domains"} <= set(commands)
    for name, sub in commands.items():
        assert sub.description, f"{name} has no description"
        help_text = sub.format_help()
        assert "usage:" in help_text
