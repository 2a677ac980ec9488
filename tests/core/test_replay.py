"""`turnloom replay` and `verify_session`: printing with provenance, and re-executing recorded tool calls."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from turnloom.core.cli import main
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import ChatMessage, Provenance, Role, Session, ToolExecution
from turnloom.core.quality.tool_replay import verify_session
from turnloom.core.storage.journal import journal_path
from turnloom.core.storage.snapshot import save_session


def generated(domain: str = "retail", seed: int = 1, execution: ToolExecution = ToolExecution.SQL, **kw) -> Session:
    """A real offline dialogue, run to its end."""
    session = create_session(domain, seed=seed, execution=execution, **kw)
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


@pytest.fixture(scope="module")
def retail() -> Session:
    return generated(seed=2)  # a dialogue that writes


def _tool_index(session: Session, writes: bool | None = None) -> int:
    """The index of the first tool result (of a write, or of a read, when asked)."""
    written = {w.message_index for w in session.write_log}
    for index, message in enumerate(session.messages):
        if message.role is Role.TOOL and not message.meta.tool_error:
            if writes is None or (index in written) == writes:
                return index
    raise AssertionError("no such tool message")


def test_an_untouched_session_verifies_clean(retail: Session) -> None:
    report = verify_session(retail)
    assert report.ok and report.differences == []
    assert report.checked == sum(1 for m in retail.messages if m.role is Role.TOOL)


def test_a_changed_tool_result_is_reported_with_its_index(retail: Session) -> None:
    session = retail.model_copy(deep=True)
    index = _tool_index(session, writes=False)
    session.messages[index].content = session.messages[index].content.replace('"', "'", 2)
    report = verify_session(session)
    assert not report.ok
    [diff] = report.differences
    assert diff.message_index == index and diff.what == "result differs"
    assert diff.replayed == retail.messages[index].content


def test_a_changed_write_log_is_reported(retail: Session) -> None:
    session = retail.model_copy(deep=True)
    record = session.write_log[0]
    record.rowcount += 5
    report = verify_session(session)
    assert [d.message_index for d in report.differences] == [record.message_index]
    assert "write log" in report.differences[0].what


def test_writes_persist_for_later_calls_during_verification(retail: Session) -> None:
    # a read after a write only matches if the write was applied first
    assert retail.write_log, "the fixture dialogue should write"
    first_write = retail.write_log[0].message_index
    later_reads = [i for i, m in enumerate(retail.messages) if m.role is Role.TOOL and i > first_write]
    assert later_reads and verify_session(retail).ok


def test_verify_up_to_a_message_checks_only_that_prefix(retail: Session) -> None:
    session = retail.model_copy(deep=True)
    last = max(i for i, m in enumerate(session.messages) if m.role is Role.TOOL)
    session.messages[last].content = '{"tampered": true}'
    assert verify_session(session, upto=last).ok
    assert not verify_session(session, upto=last + 1).ok


def test_simulated_sessions_check_arguments_and_output_schemas() -> None:
    session = generated("retail", seed=1, execution=ToolExecution.SIMULATED)
    report = verify_session(session)
    assert report.ok, report.differences
    assert any("simulated" in note for note in report.notes)
    index = _tool_index(session)
    call_id = session.messages[index].tool_call_id
    for message in session.messages:
        for call in message.tool_calls:
            if call.id == call_id:
                call.arguments = json.dumps({"no_such_argument": 1})
    bad = verify_session(session)
    assert [d.message_index for d in bad.differences] == [index]
    assert "invalid" in bad.differences[0].what


def test_a_simulated_result_that_misses_a_required_field_is_reported() -> None:
    session = generated("retail", seed=1, execution=ToolExecution.SIMULATED)
    index = _tool_index(session)
    result = json.loads(session.messages[index].content)
    assert isinstance(result, dict)
    result.pop(sorted(result)[0])
    session.messages[index].content = json.dumps(result)
    report = verify_session(session)
    assert [d.message_index for d in report.differences] == [index]
    assert "output schema" in report.differences[0].what and "required property" in report.differences[0].what


def test_simulated_reads_of_created_records_fit_the_output_schema() -> None:
    session = generated("retail", seed=2, execution=ToolExecution.SIMULATED)
    assert verify_session(session).ok


def test_imported_tool_results_are_skipped_not_failed() -> None:
    session = create_session("retail", seed=0)
    session.messages = [
        ChatMessage(role=Role.USER, content="Has order 3 shipped?", meta={"provenance": "imported"}),
        ChatMessage(
            role=Role.ASSISTANT,
            tool_calls=[{"id": "x", "name": "get_order_by_id", "arguments": '{"id": 3}'}],
            meta={"provenance": "imported"},
        ),
        ChatMessage(
            role=Role.TOOL, content='{"made": "up"}', tool_call_id="x", meta={"provenance": Provenance.IMPORTED}
        ),
    ]
    report = verify_session(session)
    assert report.ok and report.checked == 0 and report.skipped == [(2, "imported result: not produced by turnloom")]


# ---------------------------------------------------------------- the command


def test_replay_prints_every_message_with_its_provenance(tmp_path: Path, retail: Session, capsys) -> None:
    path = tmp_path / "r.session.json"
    save_session(retail, path)
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    for index in range(len(retail.messages)):
        assert f"\n{index:>3} " in "\n" + out
    assert "[simulator · task 1]" in out
    assert f"# {len(retail.messages)} of {len(retail.messages)} messages · finish: user_done" in out


def test_replay_at_prints_only_the_first_n(tmp_path: Path, retail: Session, capsys) -> None:
    path = tmp_path / "r.session.toml"
    save_session(retail, path)
    assert main(["replay", str(path), "--at", "3", "--no-provenance"]) == 0
    out = capsys.readouterr().out
    assert "  2 tool" in out and "  3 " not in out and "[simulator" not in out


def test_replay_verify_exits_1_and_names_the_difference(tmp_path: Path, retail: Session, capsys) -> None:
    session = retail.model_copy(deep=True)
    index = _tool_index(session)
    session.messages[index].content = '{"id": -1}'
    path = tmp_path / "t.session.json"
    save_session(session, path)
    before = path.read_bytes()
    assert main(["replay", str(path), "--verify"]) == 1
    out = capsys.readouterr().out
    assert f"DIFF message {index} (" in out and 'recorded: {"id": -1}' in out
    assert "1 difference(s)" in out
    assert path.read_bytes() == before


def test_replay_verify_and_rerun_pass_on_a_clean_session(tmp_path: Path, retail: Session, capsys) -> None:
    path = tmp_path / "c.session.json"
    save_session(retail, path)
    assert main(["replay", str(path), "--verify", "--rerun"]) == 0
    out = capsys.readouterr().out
    assert ": all match" in out and "# rerun from seed 2: identical" in out


def test_replay_rerun_of_a_fork_stops_where_the_recording_stops(tmp_path: Path, retail: Session, capsys) -> None:
    fork = retail.model_copy(deep=True)
    fork.cut(5)
    path = tmp_path / "fork.session.json"
    save_session(fork, path)
    assert main(["replay", str(path), "--rerun"]) == 0
    assert "# rerun from seed 2: identical" in capsys.readouterr().out


def test_replay_rerun_names_the_first_changed_message_and_exits_1(tmp_path: Path, retail: Session, capsys) -> None:
    changed = retail.model_copy(deep=True)
    changed.messages[3].content = "something else"
    path = tmp_path / "changed.session.json"
    save_session(changed, path)
    assert main(["replay", str(path), "--rerun"]) == 1
    assert "# rerun from seed 2: differs at message 3 (content)" in capsys.readouterr().out
    assert main(["replay", str(path), "--rerun", "--at", "3"]) == 0  # only the first 3 messages are compared
    assert "# rerun from seed 2: identical" in capsys.readouterr().out


def test_replay_rerun_reports_a_recording_longer_than_its_rerun(tmp_path: Path, retail: Session, capsys) -> None:
    longer = retail.model_copy(deep=True)
    longer.messages.append(ChatMessage(role=Role.USER, content="One more thing.", meta={"provenance": "operator"}))
    path = tmp_path / "longer.session.json"
    save_session(longer, path)
    assert main(["replay", str(path), "--rerun"]) == 1
    line = f"differs in length: the recording has {len(longer.messages)} messages, the re-run {len(retail.messages)}"
    assert line in capsys.readouterr().out


def test_replay_recovers_a_journal_and_warns_about_a_torn_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "live.session.json"
    session = create_session("clinic", seed=3)
    from turnloom.core.storage.journal import Journal

    journal = Journal.open(path, session)
    engine = open_engine(session, recorder=journal)
    asyncio.run(engine.run(max_steps=6))
    journal.close()
    with journal_path(path).open("a") as handle:
        handle.write('{"ev": "message", "index": 6, "mess')  # cut off mid-write
    assert not path.exists()
    assert main(["replay", str(path)]) == 0
    captured = capsys.readouterr()
    assert "torn" in captured.err
    assert "# 6 of 6 messages · finish: not finished" in captured.out


def test_replay_warns_when_the_database_is_gone_but_still_prints(tmp_path: Path, sql_shop_path: Path, capsys) -> None:
    session = create_session(db_path=sql_shop_path, seed=1)
    path = tmp_path / "own.session.json"
    save_session(session, path)
    sql_shop_path.unlink()
    assert main(["replay", str(path)]) == 0
    assert "no such file" in capsys.readouterr().err
    assert main(["replay", str(path), "--verify"]) == 2
