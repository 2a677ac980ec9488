"""One verdict per dialogue: accepted, or rejected with the checks that failed, the messages they
point at and why; stored in the session with a digest, judged again once the session changes."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path

import pytest
from _clean_dialogues import clean_session

from turnloom.core.endpoint.structured import Spend
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import ChatMessage, FinishReason, Mode, Role, RuleVerdict, ToolExecution, Usage
from turnloom.core.players.llm.judge import Judgment
from turnloom.core.quality.checks import CHECK_NAMES
from turnloom.core.quality.verdict import (
    current_verdict,
    evaluate,
    failed_checks,
    judged_verdict,
    needs_judge,
    reasons,
    session_digest,
    verdict_for,
)
from turnloom.core.storage.snapshot import load_session, save_session

DOMAINS = ("retail", "airline", "clinic", "football", "telecom")


def finished(seed: int = 3, tasks: int = 2, domain: str = "retail"):
    """A raw offline dialogue (today's generator), with the paper's rules in force."""
    session = create_session(domain, seed=seed, tasks=tasks)
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


@pytest.mark.parametrize("execution", list(ToolExecution))
@pytest.mark.parametrize("domain", DOMAINS)
def test_a_clean_dialogue_is_accepted_with_no_failure(domain, execution):
    for mode in Mode:
        verdict = evaluate(clean_session(domain, execution=execution, mode=mode, seed=1))
        assert verdict.accepted, reasons(verdict)
        assert verdict.failures == []


def test_every_check_has_a_name_and_the_judge_comes_last():
    assert len(set(CHECK_NAMES)) == len(CHECK_NAMES) >= 12
    assert {"write_confirmed", "feedback", "effects", "text_consistent", "stale_read", "identity"} <= set(CHECK_NAMES)


def test_a_dialogue_stopped_by_the_message_cap_is_rejected_at_its_last_message():
    session = clean_session("retail", seed=2)
    session.finish_reason = FinishReason.MAX_MESSAGES
    verdict = evaluate(session)
    assert failed_checks(verdict) == ["finish"]
    (failure,) = verdict.failures
    assert failure.messages == [len(session.messages) - 1] and "max_messages" in failure.reason


def test_a_value_no_tool_returned_is_ungrounded():
    session = clean_session("retail", seed=2)
    last = session.messages[-2]
    session.messages[-2] = last.model_copy(update={"content": last.text + " Your refund of 98765.43 is on its way."})
    verdict = evaluate(session)
    assert failed_checks(verdict) == ["grounding"]
    assert verdict.failures[0].messages == [len(session.messages) - 2] and "98765.43" in verdict.failures[0].reason


def _with_tool_error(reply: str):
    session = clean_session("airline", seed=1)
    call_at = next(i for i, m in enumerate(session.messages) if m.role is Role.ASSISTANT and m.tool_calls)
    result = session.messages[call_at + 1]
    meta = result.meta.model_copy(update={"tool_error": True})
    session.messages[call_at + 1] = result.model_copy(update={"content": '{"error": "no such row"}', "meta": meta})
    session.messages[call_at + 2] = ChatMessage(role=Role.ASSISTANT, content=reply)
    return session


def test_a_tool_error_the_assistant_glosses_over_is_rejected():
    verdict = evaluate(_with_tool_error("All done, everything looks great."))
    assert "tool_errors" in failed_checks(verdict)


def test_a_tool_error_the_assistant_reports_is_not_a_tool_errors_failure():
    assert "tool_errors" not in failed_checks(evaluate(_with_tool_error("Sorry, I couldn't find that record.")))


def _user_turn_saying(session, text: str, verdicts: list[RuleVerdict]) -> int:
    at = next(i for i, m in enumerate(session.messages) if m.role is Role.USER and i > 0)
    message = session.messages[at]
    meta = message.meta.model_copy(update={"verdicts": verdicts})
    session.messages[at] = message.model_copy(update={"content": message.text + " " + text, "meta": meta})
    return at


def test_a_rule_violation_nobody_flagged_is_rejected_and_points_at_the_turn():
    session = finished()
    at = _user_turn_saying(session, "This is for my dataset, by the way.", [])
    verdict = evaluate(session)
    rules = [f for f in verdict.failures if f.check == "rules"]
    assert rules and rules[0].messages == [at] and "natural_style" in rules[0].reason


def test_a_flagged_rule_violation_is_not_a_rules_failure():
    session = finished()
    flagged = [RuleVerdict(rule_id="natural_style", passed=False, detail="meta talk")]
    _user_turn_saying(session, "This is for my dataset, by the way.", flagged)
    assert "rules" not in failed_checks(evaluate(session))


def test_a_repeated_read_is_a_warning_not_a_rejection():
    session = clean_session("telecom", seed=3)
    first = next(i for i, m in enumerate(session.messages) if m.tool_calls)
    again = [
        session.messages[first].model_copy(
            update={"tool_calls": [session.messages[first].tool_calls[0].model_copy(update={"id": "again"})]}
        ),
        session.messages[first + 1].model_copy(update={"tool_call_id": "again"}),
    ]
    session.messages[first + 2 : first + 2] = again
    session.write_log = [w.model_copy(update={"message_index": w.message_index + 2}) for w in session.write_log]
    verdict = evaluate(session)
    assert verdict.accepted, reasons(verdict)
    assert [w.check for w in verdict.warnings] == ["repeated_read"] and verdict.warnings[0].messages == [
        first,
        first + 2,
    ]


def test_the_verdict_is_stored_with_a_digest_and_read_back_while_current(tmp_path):
    session = clean_session("clinic", seed=4)
    verdict = verdict_for(session)
    assert session.verdict is verdict and verdict.digest == session_digest(session)
    for name in ("s.session.json", "s.session.toml"):
        save_session(session, tmp_path / name)
        loaded = load_session(tmp_path / name)
        assert loaded.verdict == verdict and current_verdict(loaded) == verdict


@pytest.mark.parametrize("change", ["edit", "fork", "by hand"])
def test_a_session_changed_since_its_verdict_is_judged_again(change, tmp_path):
    session = clean_session("retail", seed=5)
    assert verdict_for(session).accepted
    if change == "edit":  # as the TUI edits a reply
        at = len(session.messages) - 2
        session.messages[at] = session.messages[at].model_copy(update={"content": "Total 424242.42, all set."})
    elif change == "fork":
        session.cut(len(session.messages) - 1)
    else:
        path = tmp_path / "s.session.json"
        save_session(session, path)
        data = json.loads(path.read_text())
        data["finish_reason"] = "max_messages"
        path.write_text(json.dumps(data))
        session = load_session(path)
    assert current_verdict(session) is None and needs_judge(session)
    again = verdict_for(session)
    assert not again.accepted and again.digest == session_digest(session)


class _ScriptedJudge:
    """A judge object with the `RubricJudge.judge` signature, answering from a script (the real
    judge against the tests' HTTP server is tested in tests/backends)."""

    def __init__(self, valid_for: set[int]) -> None:
        self.valid_for = valid_for
        self.asked: list[int] = []

    async def judge(self, session, task_index):
        self.asked.append(task_index)
        spend = Spend(usage=Usage(prompt_tokens=100, completion_tokens=20), requests=1, model="judge-model")
        return Judgment(task_index, task_index in self.valid_for, f"reasoning for task {task_index}", spend)


def test_the_rubric_judge_adds_its_ruling_tokens_and_failures_and_is_asked_once():
    session = clean_session("airline", seed=2)
    assert verdict_for(session).accepted
    session.tasks = [session.tasks[0], session.tasks[0].model_copy(update={"introduced_at": len(session.messages) - 1})]
    judge = _ScriptedJudge(valid_for={0})
    verdict = asyncio.run(judged_verdict(session, judge, "gpt"))
    assert judge.asked == [0, 1]
    assert not verdict.accepted and failed_checks(verdict)[-1] == "judge"
    (ruling,) = [f for f in verdict.failures if f.check == "judge"]
    assert ruling.messages == [len(session.messages) - 1] and "reasoning for task 1" in ruling.reason
    assert verdict.judge is not None and verdict.judge.usage.total == 240 and verdict.judge.requests == 2
    assert session.usage.total == 240 and session.verdict == verdict
    asyncio.run(judged_verdict(session, judge, "gpt"))
    assert judge.asked == [0, 1]  # a current verdict the judge ruled on is not asked again


def test_quality_judges_from_the_session_not_the_offline_players_internals():
    quality = Path(__file__).parents[2] / "core" / "quality"
    for source in quality.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert "players.offline" not in name, f"{source.name} imports {name}"
                assert not name.startswith(("turnloom.core.batch", "turnloom.core.cli")), (
                    f"{source.name} imports {name}"
                )


def test_right_after_the_engine_the_rules_check_reads_the_recorded_verdicts_and_agrees_with_checking_again():
    for seed in range(4):
        session = finished(seed=seed)
        audited = [f for f in evaluate(session).failures if f.check == "rules"]
        live = [f for f in evaluate(session, live=True).failures if f.check == "rules"]
        assert live == audited
    # a turn without a recorded verdict for every rule is checked again, even live
    session = finished()
    at = _user_turn_saying(session, "This is for my dataset, by the way.", [])
    live = [f for f in evaluate(session, live=True).failures if f.check == "rules"]
    assert live and live[0].messages == [at]


def test_a_transcript_over_the_length_limit_is_rejected_as_not_judged_and_the_limit_is_in_the_digest():
    session = clean_session("retail", seed=2)
    assert evaluate(session).accepted
    short = len(session.messages) - 1
    verdict = evaluate(session, max_messages=short)
    assert not verdict.accepted and failed_checks(verdict) == ["length"]
    assert "quality_max_messages" in verdict.failures[0].reason and verdict.failures[0].messages == [short]
    verdict_for(session)
    assert current_verdict(session) is not None and current_verdict(session, short) is None


def test_the_length_limit_is_a_setting_that_stats_and_export_read(tmp_path, capsys):
    from turnloom.core.cli import main

    session = clean_session("retail", seed=2)
    save_session(session, tmp_path / "s.session.json")
    config = tmp_path / "turnloom.toml"
    config.write_text(f"quality_max_messages = {len(session.messages) - 1}\n")
    assert main(["--config", str(config), "stats", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["acceptance"]["failed_checks"] == {"length": 1}
    assert (
        main(
            [
                "--config",
                str(config),
                "export",
                str(tmp_path),
                "--format",
                "openai",
                "--only-valid",
                "--out",
                str(tmp_path / "o.jsonl"),
            ]
        )
        == 0
    )
    assert "length: the transcript has" in capsys.readouterr().out
    assert main(["stats", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["acceptance"]["accepted"] == 1
    config.write_text("quality_max_messages = 0\n")
    assert main(["--config", str(config), "stats", str(tmp_path)]) != 0
    assert "key 'quality_max_messages'" in capsys.readouterr().err
