"""The autosave journal: append-only, replayable, torn-line tolerant, and strict about mismatches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _session_builders import sessions, simple_session
from hypothesis import HealthCheck, given, settings

from turnloom.core.errors import SessionFileError
from turnloom.core.models import ChatMessage, FinishReason, Session, Subtask, Task, WriteRecord
from turnloom.core.storage import snapshot as store
from turnloom.core.storage.journal import Journal, compact, journal_path, open_session, recover


def _replay_live(journal: Journal, target: Session, start: int = 0) -> None:
    """Record `target`'s messages from `start` the way the engine commits them."""
    for index, message in enumerate(target.messages[start:], start=start):
        journal.record_message(index, message)


@pytest.fixture(params=["json", "toml"])
def snapshot(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    return tmp_path / f"chat.session.{request.param}"


def test_journal_sits_beside_the_snapshot() -> None:
    assert journal_path("x/foo.session.json") == Path("x/foo.session.journal")
    assert journal_path("x/foo.session.toml") == Path("x/foo.session.journal")
    assert journal_path("foo.json") == Path("foo.journal")


def test_recovery_after_a_crash_restores_every_committed_event(snapshot: Path) -> None:
    full = simple_session(exchanges=3, finish=None)
    start = full.model_copy(update={"messages": full.messages[:5]})
    store.save_session(start, snapshot)
    journal = Journal.open(snapshot, start)
    _replay_live(journal, full, start=5)
    record = WriteRecord(
        message_index=7, tool_call_id="c1_0", tool="get_weather", sql="UPDATE t SET a=:a", params={"a": None}
    )
    journal.record_write(record)
    task = Task(goal="book a table", subtasks=[Subtask(description="x", intent="y")], introduced_at=9)
    journal.record_task(task)
    journal.record_finish(FinishReason.USER_DONE)
    # no close(), no compact(): the process died here
    recovered, warnings = open_session(snapshot)
    assert warnings == []
    assert recovered == full.model_copy(
        update={"write_log": [record], "tasks": [task], "finish_reason": FinishReason.USER_DONE}
    )
    assert store.load_session(snapshot) == start  # recovery never writes


def test_a_new_session_without_snapshot_recovers_from_the_full_header(snapshot: Path) -> None:
    full = simple_session(exchanges=2)
    empty = full.model_copy(update={"messages": []})
    journal = Journal.open(snapshot, empty)
    _replay_live(journal, full)
    assert not snapshot.exists()
    assert recover(snapshot) == (full, [])


def test_truncate_drops_later_messages_writes_and_tasks(snapshot: Path) -> None:
    base = simple_session(exchanges=2, finish=None)
    early = Task(goal="early", subtasks=[], introduced_at=1)
    late = Task(goal="late", subtasks=[], introduced_at=6)
    base = base.model_copy(
        update={
            "tasks": [early, late],
            "write_log": [WriteRecord(message_index=i, tool_call_id=f"c{i}", tool="t", sql="s") for i in (3, 7)],
        }
    )
    store.save_session(base, snapshot)
    journal = Journal.open(snapshot, base)
    journal.record_truncate(5)  # regenerate from the second user turn
    replacement = ChatMessage(role="user", content="Actually, Rome please.", meta={"provenance": "edited"})
    journal.record_message(5, replacement)
    session, _ = recover(snapshot)
    assert session.messages == base.messages[:5] + [replacement]
    assert [w.message_index for w in session.write_log] == [3]
    assert session.tasks == [early]


def test_record_session_replaces_everything(snapshot: Path) -> None:
    base = simple_session()
    store.save_session(base, snapshot)
    journal = Journal.open(snapshot, base)
    changed = base.model_copy(update={"disabled_tools": ["get_weather"], "title": "renamed"})
    journal.record_session(changed)
    journal.record_finish(None)
    assert recover(snapshot)[0] == changed.model_copy(update={"finish_reason": None})


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(session=sessions())
def test_any_session_replays_exactly(tmp_path: Path, session: Session) -> None:
    snapshot = tmp_path / "p.session.toml"
    journal_path(snapshot).unlink(missing_ok=True)  # the last example's (a journal of another session is kept)
    store.save_session(session.model_copy(update={"messages": []}), snapshot)
    journal = Journal.open(snapshot, session.model_copy(update={"messages": []}))
    _replay_live(journal, session)
    journal.record_finish(session.finish_reason, session.finish_detail)
    journal.close()
    assert recover(snapshot)[0] == session


def test_a_torn_last_line_is_dropped_with_a_warning(snapshot: Path) -> None:
    full = simple_session(exchanges=2, finish=None)
    store.save_session(full.model_copy(update={"messages": full.messages[:1]}), snapshot)
    journal = Journal.open(snapshot, store.load_session(snapshot))
    _replay_live(journal, full.model_copy(update={"messages": full.messages[:-1]}), start=1)
    journal.close()
    line = json.dumps(
        {"ev": "message", "index": len(full.messages) - 1, "message": full.messages[-1].model_dump(mode="json")}
    )
    with journal_path(snapshot).open("a") as out:
        out.write(line[: len(line) // 2])  # killed mid-write
    session, warnings = recover(snapshot)
    assert session.messages == full.messages[:-1]
    assert len(warnings) == 1 and "torn" in warnings[0] and "dropped" in warnings[0]


def test_a_commit_is_one_line_kept_whole_or_not_at_all(snapshot: Path) -> None:
    full = simple_session(exchanges=1, finish=None)  # system, user, assistant calls, tool result, ...
    start = full.model_copy(update={"messages": full.messages[:3]})
    store.save_session(start, snapshot)
    journal = Journal.open(snapshot, start)
    task = Task(goal="weather", subtasks=[], introduced_at=1)
    write = WriteRecord(message_index=3, tool_call_id="c0_0", tool="get_weather", sql="UPDATE t SET a=1")
    journal.record_message(3, full.messages[3], tasks=[task], write=write, finish=FinishReason.USER_DONE)
    journal.close()
    lines = journal_path(snapshot).read_text().splitlines(keepends=True)
    assert len(lines) == 2  # the header and the commit
    committed = {
        "messages": full.messages[:4],
        "tasks": [task],
        "write_log": [write],
        "finish_reason": FinishReason.USER_DONE,
    }
    assert recover(snapshot) == (full.model_copy(update=committed), [])
    journal_path(snapshot).write_text(lines[0] + lines[1][:-40])  # killed mid-write
    session, warnings = recover(snapshot)
    assert session == start and "torn" in warnings[0]


def test_a_corrupt_line_before_the_end_is_an_error(snapshot: Path) -> None:
    base = simple_session()
    store.save_session(base, snapshot)
    journal = Journal.open(snapshot, base)
    journal.record_finish(None)
    journal.close()
    with journal_path(snapshot).open("a") as out:
        out.write("{garbage\n" + json.dumps({"ev": "finish", "reason": "user_done"}) + "\n")
    with pytest.raises(SessionFileError, match="line 3 is corrupt"):
        recover(snapshot)


def test_a_journal_of_another_session_is_refused(snapshot: Path) -> None:
    mine, other = simple_session(session_id="mine"), simple_session(session_id="other")
    store.save_session(other, snapshot)
    journal = Journal.open(snapshot, other)
    journal.record_finish(None)
    journal.close()
    store.save_session(mine, snapshot)  # someone saved a different session over it
    with pytest.raises(SessionFileError) as err:
        open_session(snapshot)
    message = str(err.value)
    assert "'other'" in message and "'mine'" in message and "move the journal aside" in message


def test_a_journal_for_a_different_message_count_is_refused(snapshot: Path) -> None:
    base = simple_session(exchanges=2, finish=None)
    store.save_session(base, snapshot)
    journal = Journal.open(snapshot, base)
    journal.record_finish(FinishReason.USER_DONE)
    journal.close()
    store.save_session(base.model_copy(update={"messages": base.messages[:3]}), snapshot)  # old backup restored
    with pytest.raises(SessionFileError, match=f"snapshot of {len(base.messages)} messages, but .* has 3"):
        recover(snapshot)


def test_a_journal_that_only_continues_a_missing_snapshot_is_refused(snapshot: Path) -> None:
    base = simple_session()
    store.save_session(base, snapshot)
    Journal.open(snapshot, base).record_finish(None)
    snapshot.unlink()
    with pytest.raises(SessionFileError, match="no such file, and its journal"):
        recover(snapshot)


def test_compact_folds_the_journal_into_the_snapshot(snapshot: Path) -> None:
    full = simple_session(exchanges=2)
    start = full.model_copy(update={"messages": full.messages[:1]})
    store.save_session(start, snapshot)
    journal = Journal.open(snapshot, start)
    _replay_live(journal, full, start=1)
    journal.compact(full)
    assert store.load_session(snapshot) == full
    assert len(journal_path(snapshot).read_text().splitlines()) == 1  # just the header
    more = ChatMessage(role="user", content="thanks!")
    journal.record_message(len(full.messages), more)
    assert open_session(snapshot)[0].messages[-1] == more
    journal.close()
    assert journal_path(snapshot).exists()  # it still holds an unsaved message


def test_a_crash_between_snapshot_and_journal_restart_is_recognised(
    snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = simple_session(exchanges=2)
    start = full.model_copy(update={"messages": full.messages[:2]})
    store.save_session(start, snapshot)
    journal = Journal.open(snapshot, start)
    _replay_live(journal, full, start=2)

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies right after the snapshot rename

    monkeypatch.setattr(Journal, "_start", crash)
    with pytest.raises(KeyboardInterrupt):
        journal.compact(full)
    session, warnings = recover(snapshot)
    assert session == full
    assert any("already folded into the snapshot" in w for w in warnings)


def test_a_clean_close_leaves_no_journal_and_compact_function_removes_it(snapshot: Path) -> None:
    base = simple_session()
    store.save_session(base, snapshot)
    Journal.open(snapshot, base).close()
    assert not journal_path(snapshot).exists()
    journal = Journal.open(snapshot, base)
    journal.record_finish(None)
    journal.close()
    compact(snapshot, base.model_copy(update={"finish_reason": None}))
    assert not journal_path(snapshot).exists()
    assert open_session(snapshot) == (base.model_copy(update={"finish_reason": None}), [])


def test_appends_are_constant_size_per_message(snapshot: Path) -> None:
    base = simple_session(exchanges=1)
    store.save_session(base, snapshot)
    journal = Journal.open(snapshot, base)
    sizes = []
    for n in range(200):
        before = journal_path(snapshot).stat().st_size
        journal.record_message(len(base.messages) + n, ChatMessage(role="user", content="same length"))
        sizes.append(journal_path(snapshot).stat().st_size - before)
    journal.close()
    assert max(sizes) - min(sizes) <= 3  # only the index digits grow
