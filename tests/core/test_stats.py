"""Dataset statistics: the paper's Table 1 layout and the quality metrics beside it."""

from __future__ import annotations

import asyncio
import json
import statistics

from _clean_dialogues import clean_session

from turnloom.core.cli import main
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import Mode, Role, Usage
from turnloom.core.quality.dataset_stats import collect, histogram, render
from turnloom.core.quality.metrics import dialogue_stats, session_cost
from turnloom.core.storage.snapshot import save_session


def run(seed: int, mode: Mode = Mode.USER_ORIENTED, tasks: int = 2, domain: str = "retail"):
    session = create_session(domain, mode=mode, seed=seed, tasks=tasks)
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


def test_table1_rows_are_means_and_maxima_of_the_per_dialogue_counts():
    sessions = [run(seed) for seed in range(6)]
    stats = collect(sessions)
    per = [dialogue_stats(s) for s in sessions]
    (row,) = stats.rows
    assert (row["paradigm"], row["source"], row["samples"]) == ("user-oriented + sql", "retail", 6)
    assert row["turn"]["mean"] == statistics.fmean(p["turns"] for p in per)
    assert row["turn"]["max"] == max(p["turns"] for p in per)
    assert row["step_per_dialogue"]["mean"] == statistics.fmean(p["steps"] for p in per)
    assert row["step_per_request"]["max"] == max(p["steps_per_request"] for p in per)
    assert row["task"]["mean"] == statistics.fmean(p["tasks_done"] for p in per)


def test_each_paradigm_and_source_gets_its_own_row_and_an_all_row():
    sessions = [run(0), run(1, Mode.TASK_ORIENTED), run(2, domain="airline")]
    stats = collect(sessions)
    keys = [(r["paradigm"], r["source"]) for r in stats.rows]
    assert keys == [
        ("task-oriented", "retail"),
        ("user-oriented + sql", "airline"),
        ("user-oriented + sql", "retail"),
        ("all", "all"),
    ]
    assert stats.rows[-1]["samples"] == 3


def test_quality_metrics_cover_acceptance_tools_and_finish_reasons():
    sessions = [clean_session("retail", seed=seed) for seed in range(4)]
    sessions[0].finish_reason = None
    stats = collect(sessions)
    assert stats.samples == 4 and stats.accepted == 3
    assert stats.failed_checks == {"finish": 1}
    assert stats.checks["finish"] == {"dialogues": 1, "findings": 1, "warning": False}
    assert stats.failures == [
        {
            "session": sessions[0].id,
            "check": "finish",
            "messages": [len(sessions[0].messages) - 1],
            "reason": "the dialogue ended with unfinished, not user_done",
        }
    ]
    assert stats.finish_reasons == {"user_done": 3, "unfinished": 1}
    calls = stats.tool_calls
    assert calls["total"] == calls["reads"] + calls["writes"] > 0
    assert calls["valid_arguments_rate"] == 1.0 and calls["sql_error_rate"] is not None


def test_cost_is_priced_per_model_and_unknown_without_a_price():
    session = run(0)
    message = session.messages[1]
    session.messages[1] = message.model_copy(
        update={
            "meta": message.meta.model_copy(
                update={"model": "m", "usage": Usage(prompt_tokens=1_000_000, completion_tokens=500_000)}
            )
        }
    )
    assert session_cost(session, {"m": {"prompt": 1.0, "completion": 2.0}}) == 2.0
    assert session_cost(session, {}) is None
    assert collect([session]).tokens["cost"] is None


def test_histograms_bin_turns_and_count_tasks_one_bar_per_value():
    assert histogram([1, 1, 3], integer=True) == [("1", 2), ("2", 0), ("3", 1)]
    bins = histogram(list(range(100)), bins=10)
    assert len(bins) == 10 and bins[0] == ("0-9", 10) and sum(c for _, c in bins) == 100


def test_the_rendered_report_has_the_table1_header_the_paper_rows_and_histograms():
    text = render(collect([clean_session("retail", seed=seed) for seed in range(3)]))
    for expected in (
        "Table 1 layout",
        "Step/req",
        "Step/dlg",
        "Turn",
        "Task",
        "Samples",
        "21.79 (596)",
        "Acceptance: 3/3",
        "Histogram of turns",
        "Histogram of tasks",
        "█",
        "Wall time",
    ):
        assert expected in text


def test_stats_command_prints_the_table_and_json(tmp_path, capsys):
    for seed in range(3):
        save_session(run(seed), tmp_path / f"s{seed}.session.json")
    assert main(["stats", str(tmp_path)]) == 0
    assert "Table 1 layout" in capsys.readouterr().out
    assert main(["stats", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["samples"] == 3 and data["table1"][0]["samples"] == 3
    assert set(data["acceptance"]) == {"accepted", "rate", "failed_checks", "checks", "judged"}


def test_stats_counts_each_check_and_lists_the_failing_dialogues_with_their_messages(tmp_path, capsys):
    clean = clean_session("airline", seed=1)
    spoiled = clean_session("airline", seed=2)
    at = next(i for i, m in enumerate(spoiled.messages) if m.role is Role.USER and i > 0)
    spoiled.messages[at] = spoiled.messages[at].model_copy(update={"content": "That's not quite what I asked."})
    save_session(clean, tmp_path / "a.session.json")
    save_session(spoiled, tmp_path / "b.session.json")
    assert main(["stats", str(tmp_path), "--failures"]) == 0
    out = capsys.readouterr().out
    assert "Acceptance: 1/2" in out
    assert any(line.split()[:3] == ["feedback", "1", "1"] for line in out.splitlines())
    assert f"{spoiled.id}:" in out and f"feedback [messages {at - 4}, {at}]" in out
    assert main(["stats", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["acceptance"]["checks"]["feedback"] == {"dialogues": 1, "findings": 1, "warning": False}
    assert [f["session"] for f in data["failures"]] == [spoiled.id]


def test_judging_a_transcript_costs_the_same_per_message_at_any_length():
    """The checks and the stats are linear in transcript length (an 8k-message session once took 41 s)."""
    import time

    from turnloom.core.quality.verdict import evaluate

    def per_message(length: int) -> float:
        session = create_session("retail", seed=4, tasks=10_000, max_messages=length)
        engine = open_engine(session)
        asyncio.run(engine.run())
        engine.environment.close()
        best = float("inf")
        for _ in range(3):  # the best of three: the machine is shared
            started = time.perf_counter()
            evaluate(session)
            collect([session])
            best = min(best, time.perf_counter() - started)
        return best / len(session.messages)

    short, long = per_message(300), per_message(2400)
    assert long < 3 * short, (short, long)  # quadratic work would make it about 8x
