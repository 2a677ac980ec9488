"""Many databases per batch: `import-db` (τ2's JSON databases to SQLite) and `generate --db-dir`."""

from __future__ import annotations

import json
import sqlite3

import pytest

from turnloom.core.cli import main
from turnloom.core.storage.snapshot import load_session

TAU2_LIKE = {
    "users": {
        "mia_li_3668": {
            "user_id": "mia_li_3668",
            "name": {"first_name": "Mia", "last_name": "Li"},
            "email": "mia@example.com",
            "reservations": ["NO6JO3"],
        },
        "omar_k_1": {"user_id": "omar_k_1", "name": {"first_name": "Omar", "last_name": "K"}, "email": "o@x.com"},
    },
    "reservations": {
        "NO6JO3": {"user_id": "mia_li_3668", "origin": "JFK", "destination": "SEA", "total": 420.5, "insurance": True}
    },
    "flights": [
        {"flight_number": "HAT001", "origin": "JFK", "seats": 120},
        {"flight_number": "HAT002", "origin": "SEA", "seats": 90.5},
    ],
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def shop_db(path, customers=3):
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, name TEXT, email TEXT);"
        "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers,"
        " status TEXT, total REAL);"
    )
    for i in range(1, customers + 1):
        connection.execute("INSERT INTO customers VALUES (?, ?, ?)", (i, f"Person {i}", f"p{i}@example.com"))
        connection.execute("INSERT INTO orders VALUES (?, ?, 'pending', ?)", (100 + i, i, 10.0 * i))
    connection.commit()
    connection.close()


def test_import_db_turns_tau2_tables_into_keyed_linked_sqlite_tables(tmp_path):
    source = tmp_path / "airline" / "db.json"
    source.parent.mkdir()
    source.write_text(json.dumps(TAU2_LIKE))
    assert main(["import-db", str(source), "--out", str(tmp_path / "dbs")]) == 0
    connection = sqlite3.connect(tmp_path / "dbs" / "airline.sqlite")
    schema = {name: sql for name, sql in connection.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")}
    assert '"user_id" TEXT PRIMARY KEY' in schema["users"]
    # a record keyed by id with no field holding it: the key becomes <singular>_id
    assert '"reservation_id" TEXT PRIMARY KEY' in schema["reservations"]
    assert 'FOREIGN KEY ("user_id") REFERENCES "users"' in schema["reservations"]
    assert '"seats" REAL' in schema["flights"]  # an integer and a float: REAL holds both
    name, insurance = connection.execute(
        "SELECT u.name, r.insurance FROM users u JOIN reservations r USING (user_id)"
    ).fetchone()
    assert json.loads(name) == {"first_name": "Mia", "last_name": "Li"} and insurance == 1


def test_an_imported_database_runs_a_dialogue(tmp_path):
    source = tmp_path / "db.json"
    source.write_text(json.dumps(TAU2_LIKE))
    assert main(["import-db", str(source), "--out", str(tmp_path / "air.sqlite")]) == 0
    out = tmp_path / "one.session.json"
    assert main(["run", "--quiet", "--db", str(tmp_path / "air.sqlite"), "--out", str(out)]) == 0
    assert load_session(out).messages


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("{not json", "line 1"),
        ("[1, 2]", "keys are tables"),
        ('{"users": 3}', "table 'users'"),
        ('{"users": [{"id": 1}, 7]}', "users[1]"),
        ('{"users": [{"bad name": 1}]}', "field 'bad name'"),
    ],
)
def test_import_db_names_what_is_wrong_with_a_json_database(tmp_path, capsys, content, named):
    source = tmp_path / "db.json"
    source.write_text(content)
    assert main(["import-db", str(source), "--out", str(tmp_path / "x.sqlite")]) == 2
    error = capsys.readouterr().err
    assert str(source) in error and named in error
    assert not (tmp_path / "x.sqlite").exists()


def test_generate_db_dir_runs_a_batch_per_database_with_a_pinned_toolset_and_stats(tmp_path, capsys):
    dbs = tmp_path / "dbs"
    dbs.mkdir()
    shop_db(dbs / "north.sqlite")
    shop_db(dbs / "south.sqlite", customers=5)
    (dbs / "notes.txt").write_text("not a database")
    out = tmp_path / "batch"
    args = ["generate", "--quiet", "--db-dir", str(dbs), "--n", "2", "--out", str(out), "--workers", "1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "north" in printed and "south" in printed and "all" in printed
    figures = json.loads((out / "databases.json").read_text())
    assert [row["folder"] for row in figures["databases"]] == ["north", "south"]
    assert all(row["done"] == 2 and row["tools"] > 0 and row["table1"] for row in figures["databases"])
    assert figures["overall"]["dialogues"] == 4
    for name in ("north", "south"):
        manifest = json.loads((out / name / "manifest.json").read_text())
        assert manifest["config"]["db"] == str((dbs / f"{name}.sqlite").resolve())
        assert manifest["config"]["tools"] == str((out / name / "toolset.json").resolve())
        assert manifest["config"]["tools_sha256"]
        session = load_session(next((out / name).glob("seed-*.session.json")))
        assert session.db_path == str((dbs / f"{name}.sqlite").resolve())
    # the toolset is pinned: a changed one is refused when the batch resumes
    toolset = out / "north" / "toolset.json"
    toolset.write_text(toolset.read_text().replace('"description": "', '"description": "Edited. ', 1))
    assert main([*args, "--n", "3"]) == 2
    assert "tools" in capsys.readouterr().err


def test_generate_db_dir_can_spread_n_over_the_databases(tmp_path):
    dbs = tmp_path / "dbs"
    dbs.mkdir()
    for name in ("a", "b", "c"):
        shop_db(dbs / f"{name}.sqlite")
    out = tmp_path / "batch"
    args = ["generate", "--quiet", "--db-dir", str(dbs), "--n", "4", "--n-per", "batch", "--out", str(out)]
    assert main([*args, "--workers", "2"]) == 0  # one pool of worker processes serves every database
    counts = [len(list((out / name).glob("seed-*.session.json"))) for name in ("a", "b", "c")]
    assert counts == [2, 1, 1]


def test_generate_db_dir_without_databases_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["generate", "--db-dir", str(tmp_path / "empty"), "--n", "1", "--out", str(tmp_path / "o")]) == 2
    assert "no *.sqlite file" in capsys.readouterr().err


def test_n_per_without_a_folder_of_databases_is_a_usage_error(tmp_path, capsys):
    args = ["generate", "--domain", "retail", "--n", "2", "--n-per", "batch", "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert "--n-per" in capsys.readouterr().err and not (tmp_path / "o").exists()
