"""Round trips: an exported record continued with `run --from EXPORT.jsonl [--record N]`.

The record keeps its weights, and the export's sources file decides the domain or database it
continues in (or why it cannot).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_fork_continue import generated

from turnloom.core.cli import main
from turnloom.core.export import ExportOptions, export_sessions, sources_path
from turnloom.core.models import Provenance, Role, Session
from turnloom.core.storage.snapshot import load_session


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def airline() -> Session:
    session = generated("airline", 2, tasks=1)
    replies = [m for m in session.messages if m.role is Role.ASSISTANT and not m.tool_calls]
    replies[1].meta.weight = 0  # the curator masked the second reply
    return session


def _continued(out: str) -> Session:
    return load_session(Path(out))


@pytest.mark.parametrize(("fmt", "strings"), [("openai", None), ("openai", True), ("hf", None), ("hf", False)])
def test_an_exported_record_continues_in_its_domain_with_its_weights(
    airline: Session, fmt: str, strings: bool | None
) -> None:
    retail = generated("retail", 3, tasks=1)
    options = ExportOptions(json_strings=strings)
    export_sessions([retail, airline], fmt, "train.jsonl", env={}, options=options)
    assert main(["run", "--quiet", "--from", "train.jsonl", "--record", "2", "--out", "c.session.json"]) == 0
    session = _continued("c.session.json")
    assert session.domain == "airline"
    exported = len(json.loads(Path("train.jsonl").read_text().splitlines()[1])["messages"])
    imported = session.messages[:exported]
    assert all(m.meta.provenance is Provenance.IMPORTED for m in imported)
    assert [m.content or "" for m in imported] == [m.content or "" for m in airline.messages[:exported]]
    assert [c.arguments for m in imported for c in m.tool_calls] == [
        c.arguments for m in airline.messages[:exported] for c in m.tool_calls
    ]
    weights = [m.meta.weight for m in imported if m.meta.weight is not None]
    # openai masks the weight-0 reply; hf, with no mask, ends the record before it
    assert weights == ([0] if fmt == "openai" else [])
    assert len(session.messages) > exported  # it went on


def test_one_record_split_out_as_json_keeps_its_weight(airline: Session) -> None:
    export_sessions([airline], "openai", "train.jsonl", env={})
    Path("one.json").write_text(Path("train.jsonl").read_text().splitlines()[0])
    assert main(["run", "--quiet", "--from", "one.json", "--domain", "airline", "--out", "c.session.json"]) == 0
    assert [m.meta.weight for m in _continued("c.session.json").messages if m.meta.weight is not None] == [0]


def test_a_record_continued_in_another_domain_is_refused_with_the_reason(
    airline: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    export_sessions([airline], "hf", "train.jsonl", env={})
    assert main(["run", "--quiet", "--from", "train.jsonl", "--domain", "retail", "--out", "c.session.json"]) == 2
    assert "train.jsonl record 1 was made in the airline domain; drop --domain/--db" in capsys.readouterr().err
    assert not Path("c.session.json").exists()


def test_without_a_sources_file_the_run_says_where_it_continues(
    airline: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    export_sessions([airline], "openai", "train.jsonl", env={})
    sources_path("train.jsonl").unlink()
    assert main(["run", "--quiet", "--from", "train.jsonl", "--domain", "airline", "--out", "a.session.json"]) == 0
    assert "note" not in capsys.readouterr().err
    assert main(["run", "--quiet", "--from", "train.jsonl", "--out", "b.session.json"]) == 0
    assert "has no sources file (train.jsonl.sources)" in capsys.readouterr().err
    assert _continued("b.session.json").domain == "retail"


def test_a_record_made_on_a_database_continues_there_or_refuses_when_it_is_gone(
    tmp_path: Path, sql_shop_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "mine.sqlite"
    shutil.copy(sql_shop_path, db)
    session = generated(None, 4, db_path=db, tasks=1)
    export_sessions([session], "openai", "train.jsonl", env={})
    assert json.loads(sources_path("train.jsonl").read_text())["records"][0]["db"] == str(db.resolve())
    assert main(["run", "--quiet", "--from", "train.jsonl", "--out", "c.session.json"]) == 0
    assert _continued("c.session.json").db_path == str(db.resolve())
    db.unlink()
    assert main(["run", "--quiet", "--from", "train.jsonl", "--out", "d.session.json"]) == 2
    assert "which is gone; restore it to continue" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fmt", "argv", "message"),
    [
        ("openai", ["--record", "3"], "--record 3 is outside train.jsonl (records 1..2)"),
        ("openai", [], "train.jsonl holds 2 records; pick one with --record N (1..2)"),
        ("sharegpt", ["--record", "1"], "train.jsonl record 1 is a sharegpt record, which keeps no tool call ids"),
        ("hermes", ["--record", "1"], "train.jsonl record 1 is a hermes record"),
    ],
)
def test_records_that_cannot_be_continued_are_named(
    airline: Session, capsys: pytest.CaptureFixture[str], fmt: str, argv: list[str], message: str
) -> None:
    export_sessions([airline, airline.model_copy(update={"id": "other"})], fmt, "train.jsonl", env={})
    assert main(["run", "--quiet", "--from", "train.jsonl", *argv, "--out", "c.session.json"]) == 2
    assert message in capsys.readouterr().err


def test_record_needs_an_export(capsys: pytest.CaptureFixture[str]) -> None:
    Path("t.json").write_text('{"messages": [{"role": "user", "content": "hi"}]}')
    assert main(["run", "--quiet", "--from", "t.json", "--record", "1"]) == 2
    assert "--record N picks a record of an exported .jsonl file" in capsys.readouterr().err
