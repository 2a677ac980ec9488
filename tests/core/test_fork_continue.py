"""Fork and continue: `fork_session`, `turnloom fork`, `turnloom run --from` (sessions and plain transcripts)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from turnloom.core.cli import main
from turnloom.core.errors import SessionFileError, UsageError
from turnloom.core.lifecycle.dialogue import base_image, create_session, fork_session, open_engine
from turnloom.core.models import FinishReason, Provenance, Role, Session
from turnloom.core.storage.snapshot import load_session, save_session
from turnloom.core.storage.transcript_import import load_transcript, parse_transcript
from turnloom.core.tools.sqlenv import SqlEnvironment


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def generated(domain: str = "retail", seed: int = 1, **kw) -> Session:
    session = create_session(domain, seed=seed, **kw)
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


@pytest.fixture(scope="module")
def done() -> Session:
    """A finished (user_done) retail dialogue with writes: the first seed that makes one."""
    for seed in range(1, 40):
        session = generated(seed=seed)
        if session.finish_reason is FinishReason.USER_DONE and len(session.write_log) >= 2:
            return session
    raise AssertionError("no retail seed in 1..39 makes a finished dialogue with writes")


def digest_at(session: Session, upto: int | None = None) -> str:
    with SqlEnvironment.rebuilt(base_image(session), session.write_log, upto) as env:
        return env.state_digest()


def saved(session: Session, path: Path) -> Path:
    save_session(session, path)
    return path


def only_new_session(folder: Path, exclude: set[Path]) -> Path:
    [found] = [p for p in folder.glob("*.session.*") if p not in exclude]
    return found


# ---------------------------------------------------------------- fork


def test_fork_keeps_the_prefix_and_the_database_as_it_was_then(done: Session) -> None:
    at = done.write_log[0].message_index + 1
    fork = fork_session(done, at, "parent.session.json")
    assert fork.messages == done.messages[:at]
    assert fork.parent is not None and (fork.parent.session_id, fork.parent.at) == (done.id, at)
    assert fork.id != done.id and fork.finish_reason is None
    assert digest_at(fork) == digest_at(done, upto=at) != digest_at(done, upto=0)
    assert all(t.introduced_at < at for t in fork.tasks)


def test_fork_command_writes_a_new_file_and_leaves_the_parent_alone(tmp_path: Path, done: Session, capsys) -> None:
    parent = saved(done, tmp_path / "p.session.json")
    before = parent.read_bytes()
    assert main(["fork", str(parent), "--at", "9", "--out", "k.session.toml"]) == 0
    assert parent.read_bytes() == before
    fork = load_session(tmp_path / "k.session.toml")
    assert len(fork.messages) == 9 and fork.parent.path == str(parent.resolve())
    assert "forked" in capsys.readouterr().out


def test_fork_refuses_to_overwrite_the_parent_or_another_file(tmp_path: Path, done: Session, capsys) -> None:
    parent = saved(done, tmp_path / "p.session.json")
    before = parent.read_bytes()
    assert main(["fork", str(parent), "--at", "3", "--out", str(parent)]) == 2
    assert "parent file" in capsys.readouterr().err
    other = saved(done, tmp_path / "other.session.json")
    assert main(["fork", str(parent), "--at", "3", "--out", str(other)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["fork", str(parent), "--at", "3", "--out", str(other), "--force"]) == 0
    assert parent.read_bytes() == before and len(load_session(other).messages) == 3


# ---------------------------------------------------------------- run --from a saved session


def test_continue_an_unfinished_session_after_its_last_message(tmp_path: Path) -> None:
    short = generated("telecom", seed=2, max_messages=9)
    assert short.finish_reason is FinishReason.MAX_MESSAGES
    source = saved(short, tmp_path / "s.session.json")
    before = source.read_bytes()
    assert main(["run", "--quiet", "--from", str(source), "--max-messages", "400"]) == 0
    assert source.read_bytes() == before
    result = load_session(only_new_session(tmp_path, {source}))
    assert result.messages[: len(short.messages)] == short.messages
    assert result.finish_reason is FinishReason.USER_DONE and result.parent.at == len(short.messages)
    # the same engine, the same seed: it is the dialogue an uninterrupted run makes
    assert [m.content for m in result.messages] == [m.content for m in generated("telecom", seed=2).messages]


def test_a_session_stopped_at_its_limit_gets_more_room(tmp_path: Path, capsys) -> None:
    short = generated("clinic", seed=1, max_messages=6)
    source = saved(short, tmp_path / "s.session.json")
    assert main(["run", "--quiet", "--from", str(source), "--out", "more.session.json"]) == 0
    assert "raised the message limit" in capsys.readouterr().err
    assert len(load_session(tmp_path / "more.session.json").messages) > 6


def test_continue_from_message_n_cuts_there_and_regenerates(tmp_path: Path, done: Session) -> None:
    source = saved(done, tmp_path / "d.session.json")
    assert main(["run", "--quiet", "--from", str(source), "--at", "12", "--out", "cut.session.json"]) == 0
    result = load_session(tmp_path / "cut.session.json")
    assert result.messages[:12] == done.messages[:12] and result.parent.at == 12
    assert [m.content for m in result.messages] == [m.content for m in done.messages]


def test_extra_tasks_are_added_and_grounded_in_the_current_database(tmp_path: Path, done: Session) -> None:
    source = saved(done, tmp_path / "d.session.json")
    assert main(["run", "--quiet", "--from", str(source), "--tasks", "2", "--out", "more.session.json"]) == 0
    result = load_session(tmp_path / "more.session.json")
    assert result.config.tasks == done.config.tasks + 2 and len(result.tasks) == len(done.tasks) + 2
    assert result.finish_reason is FinishReason.USER_DONE
    new = result.tasks[len(done.tasks) :]
    assert all(t.introduced_at >= len(done.messages) for t in new)
    for task in new:  # a user turn at introduced_at opens the task
        assert result.messages[task.introduced_at].meta.task_index == result.tasks.index(task)


def test_a_finished_session_gets_one_task_by_default_and_none_with_tasks_0(
    tmp_path: Path, done: Session, capsys
) -> None:
    source = saved(done, tmp_path / "d.session.json")
    assert main(["run", "--quiet", "--from", str(source), "--out", "one.session.json"]) == 0
    assert len(load_session(tmp_path / "one.session.json").tasks) == len(done.tasks) + 1
    assert main(["run", "--quiet", "--from", str(source), "--tasks", "0", "--out", "zero.session.json"]) == 0
    zero = load_session(tmp_path / "zero.session.json")
    assert zero.messages == done.messages and zero.finish_reason is FinishReason.USER_DONE
    assert "--tasks K" in capsys.readouterr().err


def test_continuing_in_place_only_when_out_names_the_input(tmp_path: Path) -> None:
    short = generated("airline", seed=3, max_messages=8)
    source = saved(short, tmp_path / "a.session.json")
    assert main(["run", "--quiet", "--from", str(source), "--out", str(source), "--max-messages", "400"]) == 0
    result = load_session(source)
    assert result.id == short.id and result.parent is None and len(result.messages) > 8
    assert list(tmp_path.glob("*.session.*")) == [source]


def test_options_that_do_not_apply_to_a_saved_session_are_refused(tmp_path: Path, done: Session, capsys) -> None:
    source = saved(done, tmp_path / "d.session.json")
    assert main(["run", "--from", str(source), "--domain", "clinic"]) == 2
    assert main(["run", "--from", str(source), "--tasks", "1", "--max-messages", "10"]) == 2
    assert "leaves no room" in capsys.readouterr().err


# ---------------------------------------------------------------- plain transcripts


NESTED = {
    "messages": [
        {"role": "system", "content": "You help shoppers."},
        {"role": "user", "content": "Has order number 3 shipped yet?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_order_by_id", "arguments": '{"id": 3}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"id": 3, "status": "pending"}'},
        {"role": "assistant", "content": "Order 3 is still pending.", "refusal": None},
        {"role": "user", "content": [{"type": "text", "text": "Thanks!"}]},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Weather.",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ],
}


def test_a_transcript_is_imported_with_provenance_and_tool_names(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(NESTED))
    transcript = load_transcript(path)
    assert [m.role for m in transcript.messages] == [
        Role.SYSTEM,
        Role.USER,
        Role.ASSISTANT,
        Role.TOOL,
        Role.ASSISTANT,
        Role.USER,
    ]
    assert all(m.meta.provenance is Provenance.IMPORTED for m in transcript.messages)
    assert transcript.messages[2].tool_calls[0].name == "get_order_by_id"
    assert transcript.messages[3].name == "get_order_by_id" and transcript.messages[5].content == "Thanks!"
    assert [t.name for t in transcript.tools] == ["weather"]
    assert parse_transcript(NESTED["messages"]).messages == transcript.messages  # a bare list works too


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}], "message 1: unknown role 'robot'"),
        ([{"role": "user", "content": "  "}], "message 0: a user message needs text"),
        ([{"role": "assistant", "content": ""}], "message 0: an assistant message needs text or tool calls"),
        ([{"role": "tool", "content": "{}"}], 'message 0: a tool message needs "tool_call_id"'),
        (
            [
                {"role": "user", "content": "a"},
                {"role": "assistant", "tool_calls": [{"id": "z", "function": {"name": "f", "arguments": "[1"}}]},
            ],
            "message 1: tool_calls[0] (f): tool-call arguments are not valid JSON",
        ),
        (
            [
                {"role": "user", "content": "a"},
                {"role": "assistant", "tool_calls": [{"id": "z", "function": {"name": "f"}}]},
                {"role": "user", "content": "b"},
            ],
            "message 1: tool call 'z' has no result before message 2",
        ),
        (
            [{"role": "user", "content": "a"}, {"role": "tool", "tool_call_id": "q", "content": "{}"}],
            "message 1: tool result answers 'q'",
        ),
        (["just text"], "message 0: expected an object"),
    ],
)
def test_a_bad_transcript_message_is_named_by_index(messages: list, expected: str) -> None:
    with pytest.raises(SessionFileError) as caught:
        parse_transcript({"messages": messages}, "t.json")
    assert str(caught.value).startswith("t.json: ") and expected in str(caught.value)


def test_transcript_json_errors_name_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"messages": [\n  {"role": "user", "content": "hi"},,\n]}')
    with pytest.raises(SessionFileError, match=r"t\.json: line 2, column 37: invalid JSON"):
        load_transcript(path)
    path.write_text('{"messages": []}\n{"messages": []}\n')
    with pytest.raises(SessionFileError, match="JSONL"):
        load_transcript(path)


def test_a_transcript_without_tool_use_is_continued_with_one_new_task(tmp_path: Path, capsys) -> None:
    path = tmp_path / "chat.json"
    path.write_text(
        json.dumps(
            [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Hello, what's the weather like?"},
                {"role": "assistant", "content": "I can't check the weather, but I can help with your bookings."},
            ]
        )
    )
    assert main(["run", "--quiet", "--from", str(path), "--domain", "airline", "--seed", "5"]) == 0
    result = load_session(only_new_session(tmp_path, set()))
    assert result.domain == "airline" and result.config.tasks == 1 and result.config.seed == 5
    assert [m.meta.provenance for m in result.messages[:3]] == [Provenance.IMPORTED] * 3
    assert result.messages[3].role is Role.USER and result.messages[3].meta.provenance is Provenance.SIMULATOR
    [task] = result.tasks
    assert task.introduced_at == 3 and result.messages[3].meta.task_index == 0
    assert result.finish_reason is FinishReason.USER_DONE
    assert sum(m.meta.task_done for m in result.messages) == 1
    assert path.read_text().startswith("[")  # the input is untouched


def test_a_transcript_ending_with_a_user_turn_is_answered_first(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(NESTED))
    assert main(["run", "--quiet", "--from", str(path), "--tasks", "2", "--out", "t.session.json"]) == 0
    result = load_session(tmp_path / "t.session.json")
    assert result.messages[6].role is Role.ASSISTANT and result.messages[6].meta.provenance is Provenance.SIMULATOR
    assert [t.introduced_at for t in result.tasks][0] == 7
    assert len(result.tasks) == 2 and result.finish_reason is FinishReason.USER_DONE
    assert result.tool("weather") is not None  # the transcript's own tools come along
    assert result.title == "imported from t.json"


def test_a_transcript_can_be_cut_before_it_is_continued(tmp_path: Path, capsys) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(NESTED))
    assert main(["run", "--quiet", "--from", str(path), "--at", "2", "--out", "t.session.json"]) == 0
    assert load_session(tmp_path / "t.session.json").messages[1].content == "Has order number 3 shipped yet?"
    assert main(["run", "--quiet", "--from", str(path), "--at", "3", "--out", "u.session.json"]) == 2
    assert "has no result" in capsys.readouterr().err
    assert main(["run", "--quiet", "--from", str(path), "--at", "99"]) == 2


def test_a_file_that_is_neither_session_nor_transcript(tmp_path: Path, capsys) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    assert main(["run", "--from", str(path)]) == 2
    assert "no schema_version" in capsys.readouterr().err


def test_at_past_the_end_is_a_usage_error(done: Session) -> None:
    from turnloom.core.cli.loading import checked_at

    assert checked_at(done, len(done.messages)) == len(done.messages)
    with pytest.raises(UsageError, match=f"outside the transcript \\(0..{len(done.messages)} messages\\)"):
        checked_at(done, len(done.messages) + 1)


def test_a_truncate_recovered_from_the_journal_matches_the_engine(tmp_path: Path) -> None:
    from turnloom.core.storage.journal import Journal, open_session

    path = tmp_path / "t.session.json"
    session = create_session("retail", seed=1)
    journal = Journal.open(path, session)
    engine = open_engine(session, recorder=journal)
    asyncio.run(engine.run())
    engine.truncate(session.tasks[1].introduced_at)
    journal.close()
    recovered, _ = open_session(path)
    assert recovered.tasks == session.tasks
