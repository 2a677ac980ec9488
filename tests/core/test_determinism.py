"""Determinism: a seed reproduces a dialogue byte for byte; a fork at N regenerates the same suffix.

What "byte for byte" leaves out is spelled out in `rerun.VOLATILE`: the session
id and creation time (pinned here through `create_session(session_id=...,
created_at=...)`) and each message's wall-clock `meta.latency_ms` (blanked by
`rerun.normalised`). Everything else in the file - messages, tool-call ids,
tasks, write log, usage, finish reason - must be identical.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from turnloom.core.cli.run_cmd import run_and_save
from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, fork_session, open_engine
from turnloom.core.models import Mode, Role, Session, ToolExecution
from turnloom.core.quality.rerun import first_difference, normalised, normalised_text, rerun_session
from turnloom.core.storage.snapshot import load_session

PINNED = {"session_id": "pinned000001", "created_at": "2025-01-01T00:00:00+00:00"}


def run_to_end(session: Session) -> Session:
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


def blank_latency(text: str) -> str:
    """File text with every message latency (the only clock in a file) blanked, JSON or TOML."""
    text = re.sub(r'"latency_ms": [0-9.e+-]+', '"latency_ms": null', text)
    return re.sub(r"(?m)^latency_ms = [0-9.e+-]+$", "latency_ms = 0", text)


@pytest.fixture(scope="module", params=pack_names())
def original(request: pytest.FixtureRequest) -> Session:
    """A finished dialogue per built-in domain, with several tasks so every kind of turn occurs."""
    return run_to_end(create_session(request.param, seed=7, tasks=3, **PINNED))


def test_same_seed_same_file_byte_for_byte(tmp_path: Path, capsys) -> None:
    for fmt in ("json", "toml"):
        paths = [tmp_path / f"{n}.session.{fmt}" for n in "ab"]
        for path in paths:
            run_and_save(create_session("football", seed=11, **PINNED), path, quiet=True)
        raw = [p.read_bytes() for p in paths]
        assert raw[0] == raw[1]


def test_rerun_from_the_recorded_seed_reproduces_the_file(original: Session) -> None:
    again = rerun_session(original)
    assert first_difference(original, again) is None
    assert normalised_text(original) == normalised_text(again)
    assert normalised_text(original, "toml") == normalised_text(again, "toml")
    assert again.id == original.id and again.created_at == original.created_at


def test_a_different_seed_gives_a_different_dialogue() -> None:
    a = run_to_end(create_session("retail", seed=1))
    b = run_to_end(create_session("retail", seed=2))
    assert first_difference(a, b) is not None


def _cut_points(session: Session) -> dict[Role, int]:
    """One fork point per kind of next turn, past the opening: user, assistant and tool turns."""
    points: dict[Role, int] = {}
    for at in range(3, len(session.messages)):
        role = session.messages[at].role
        points.setdefault(role, at)
    return points


@pytest.mark.parametrize("turn", [Role.USER, Role.ASSISTANT, Role.TOOL])
def test_fork_at_n_regenerates_the_original_suffix(original: Session, turn: Role) -> None:
    at = _cut_points(original)[turn]
    fork = run_to_end(fork_session(original, at))
    assert fork.messages[:at] == original.messages[:at]
    assert first_difference(original, _as_original(fork, original)) is None
    assert normalised(fork)["messages"] == normalised(original)["messages"]
    assert fork.tasks == original.tasks and fork.write_log == original.write_log
    assert fork.finish_reason is original.finish_reason


def test_fork_at_every_message_of_one_dialogue_regenerates_it() -> None:
    original = run_to_end(create_session("telecom", seed=5, tasks=2))
    # (a fork at the very end of a finished dialogue is a continuation, not a re-run)
    for at in range(len(original.messages)):
        fork = run_to_end(fork_session(original, at))
        assert first_difference(original, _as_original(fork, original)) is None, f"fork at {at}"


@pytest.mark.parametrize(
    ("mode", "execution"),
    [(Mode.TASK_ORIENTED, ToolExecution.SQL), (Mode.USER_ORIENTED, ToolExecution.SIMULATED)],
)
def test_other_modes_and_simulated_execution_are_deterministic_too(mode: Mode, execution: ToolExecution) -> None:
    original = run_to_end(create_session("airline", seed=3, mode=mode, execution=execution))
    assert first_difference(original, rerun_session(original)) is None
    for at in (1, len(original.messages) // 2, len(original.messages) - 1):
        fork = run_to_end(fork_session(original, at))
        assert first_difference(original, _as_original(fork, original)) is None, f"fork at {at}"


def test_a_saved_and_reloaded_session_reruns_identically(tmp_path: Path) -> None:
    path = tmp_path / "s.session.toml"
    run_and_save(create_session("clinic", seed=4, **PINNED), path, quiet=True)
    loaded = load_session(path)
    assert first_difference(loaded, rerun_session(loaded)) is None


def _as_original(fork: Session, original: Session) -> Session:
    """The fork with the original's identity, so only generated content is compared."""
    return fork.model_copy(update={"id": original.id, "created_at": original.created_at, "parent": original.parent})
