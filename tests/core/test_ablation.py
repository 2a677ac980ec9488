"""`turnloom ablation`: the paper's three Table 3 datasets, size-matched, and their Table 1 rows side by side."""

from __future__ import annotations

import json
import sqlite3

import pytest

from turnloom.core.cli import main
from turnloom.core.storage.snapshot import load_session


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_ablation_makes_three_size_matched_datasets_on_the_same_seeds_and_tabulates_them(tmp_path, capsys):
    out = tmp_path / "abl"
    args = ["ablation", "--n", "3", "--domain", "clinic", "--tasks", "2", "--out", str(out), "--workers", "1"]
    assert main([*args, "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "task-oriented" in printed and "user-oriented + tool execution" in printed and "Turn" in printed
    rows = json.loads((out / "ablation.json").read_text())
    assert [r["variant"] for r in rows] == ["task-oriented", "user-oriented", "user-oriented + tool execution"]
    assert all(r["samples"] == 3 and r["turn"]["mean"] > 0 for r in rows)
    seen = {}
    for folder in ("task-oriented", "user-oriented", "user-oriented-sql"):
        sessions = [load_session(p) for p in sorted((out / folder).glob("seed-*.session.json"))]
        seen[folder] = {(str(s.config.mode), str(s.config.execution)) for s in sessions}
        assert [s.config.seed for s in sessions] == [0, 1, 2] and all(s.domain == "clinic" for s in sessions)
    assert seen == {
        "task-oriented": {("task-oriented", "simulated")},
        "user-oriented": {("user-oriented", "simulated")},
        "user-oriented-sql": {("user-oriented", "sql")},
    }
    # the task-oriented dialogues are the short ones (the paper's efficiency trap)
    assert rows[0]["turn"]["mean"] < rows[1]["turn"]["mean"]
    # a re-run resumes: nothing is made twice
    assert main([*args, "--quiet"]) == 0
    assert "ran 0" in capsys.readouterr().out


def test_ablation_over_a_folder_of_databases_spreads_n_over_them(tmp_path):
    dbs = tmp_path / "dbs"
    dbs.mkdir()
    for name in ("a", "b"):
        connection = sqlite3.connect(dbs / f"{name}.sqlite")
        connection.executescript(
            "CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, name TEXT, email TEXT);"
            "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers,"
            " status TEXT);"
            "INSERT INTO customers VALUES (1, 'Ann Lee', 'ann@example.com'), (2, 'Bo Diaz', 'bo@example.com');"
            "INSERT INTO orders VALUES (10, 1, 'pending'), (11, 2, 'shipped');"
        )
        connection.commit()
        connection.close()
    out = tmp_path / "abl"
    args = ["ablation", "--n", "3", "--db-dir", str(dbs), "--tasks", "1", "--out", str(out), "--workers", "1"]
    assert main([*args, "--quiet"]) == 0
    rows = json.loads((out / "ablation.json").read_text())
    assert [r["samples"] for r in rows] == [3, 3, 3]
    assert len(list((out / "user-oriented-sql" / "a").glob("seed-*.session.json"))) == 2


def test_ablation_stops_at_a_usage_error(tmp_path, capsys):
    assert main(["ablation", "--n", "2", "--domain", "nowhere", "--out", str(tmp_path / "x")]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
