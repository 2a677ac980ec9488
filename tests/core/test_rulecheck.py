"""Checks on every user turn in a real engine: verdicts in meta, counted in stats, the violation policy, and the preview."""

from __future__ import annotations

import pytest
from _rule_helpers import (
    PAPER,
    builtin,
    engine_under,
    isolated_rule_folders,  # noqa: F401  (autouse fixture)
    until_user_turns,
    user_turns,
)

from turnloom.core.engine.engine import MessageCommitted
from turnloom.core.engine.preview import preview_pair, preview_user_turn
from turnloom.core.errors import TurnloomError
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import ChatMessage, MessageMeta, Role
from turnloom.core.quality.metrics import dialogue_stats
from turnloom.core.rules.check import build_rule_checker, check_turn


async def test_every_proposed_user_turn_carries_a_verdict_per_rule_in_force():
    session = create_session("football", seed=2, rule_set="paper")
    engine = open_engine(session)
    await engine.run()
    for message in user_turns(engine):
        assert [v.rule_id for v in message.meta.verdicts] == PAPER
    assert all(not m.meta.verdicts for m in session.messages if m.role is not Role.USER)


async def test_without_rules_nothing_is_checked():
    engine = open_engine(create_session("retail", seed=2, rule_set="none"))
    await engine.run()
    assert all(not m.meta.verdicts for m in engine.session.messages)


async def test_violations_are_flagged_kept_and_counted_in_stats():
    engine = engine_under([builtin("incremental_requests"), builtin("terse", max_words=4)], "retail", 1)
    await engine.run()
    flagged = [m for m in user_turns(engine) if m.meta.violations]
    assert flagged and all(v.rule_id == "terse" for m in flagged for v in m.meta.violations)
    assert dialogue_stats(engine.session)["violations"] == sum(len(m.meta.violations) for m in flagged)
    assert engine.session.finish_reason == "user_done"


async def test_regenerate_policy_proposes_again_with_other_draws_until_a_turn_passes():
    # the simulator follows the first incremental rule (it may combine two reads);
    # a stricter second rule of the same kind flags the combined turns
    strict = builtin("incremental_requests", max_subtasks=1).model_copy(update={"id": "strict"})
    rules = [builtin("incremental_requests"), strict]
    for seed in range(60):  # a dialogue whose first turn combines two reads
        kept = engine_under(rules, "retail", seed)
        await kept.step(apply_policy=True)
        first = user_turns(kept)[0]
        if len(first.meta.subtasks) == 2:
            break
    assert first.meta.subtasks == [0, 1] and [v.rule_id for v in first.meta.violations] == ["strict"]

    regen = engine_under(rules, "retail", seed, violation_policy="regenerate", violation_retries=3)
    await regen.step(apply_policy=True)
    again = user_turns(regen)[0]
    assert len(again.meta.subtasks) == 1 and not again.meta.violations
    await regen.run()
    await kept.run()
    assert regen.session.finish_reason == kept.session.finish_reason == "user_done"
    assert dialogue_stats(regen.session)["violations"] < dialogue_stats(kept.session)["violations"]


async def test_pause_policy_holds_the_violating_turn_for_the_operator():
    rules = [builtin("terse", max_words=3)]
    engine = engine_under(rules, "retail", 1, violation_policy="pause")
    reason = await engine.run()
    assert reason is None and engine.session.messages == []
    assert engine.pending_violation is not None
    assert engine.pending_violation.message.meta.violations[0].rule_id == "terse"


def test_check_turn_only_judges_user_turns_and_skips_disabled_rules():
    session = create_session("retail", rule_set="paper")
    assistant = ChatMessage(role=Role.ASSISTANT, content="Here are the details: it shipped.")
    assert check_turn(session, assistant, session.config.rules) == []
    off = builtin("stay_in_role").model_copy(update={"enabled": False})
    user = ChatMessage(role=Role.USER, content="How can I help you?", meta=MessageMeta(task_index=0))
    assert check_turn(session, user, [off]) == []
    (verdict,) = check_turn(session, user, [builtin("stay_in_role")])
    assert not verdict.passed and "how can i help" in verdict.detail.lower()


def test_checks_work_without_domain_knowledge():
    session = create_session("retail", rule_set="paper")
    checker = build_rule_checker(session)
    message = ChatMessage(role=Role.USER, content="Thanks! Is this for a dataset?", meta=MessageMeta(task_index=0))
    verdicts = checker(session, message)
    assert [v.rule_id for v in verdicts if not v.passed] == ["natural_style"]
    for verdict in check_turn(session, message, session.config.rules, knowledge=None):
        assert verdict.rule_id in PAPER


# ---------------------------------------------------------------- preview


async def test_preview_under_the_current_rules_is_the_turn_step_commits_and_changes_nothing():
    engine = await until_user_turns(engine_under([builtin(r) for r in PAPER], "retail", 1), 2)
    before = engine.session.model_dump()
    events: list = []
    engine.subscribe(events.append)
    preview = await preview_user_turn(engine, engine.session.config.rules)
    assert engine.session.model_dump() == before and events == []
    committed = await engine.step()
    assert committed.content == preview.content and committed.meta.subtasks == preview.meta.subtasks
    assert any(isinstance(e, MessageCommitted) for e in events)


async def test_preview_under_changed_rules_shows_a_different_turn_with_its_own_verdicts():
    engine = await until_user_turns(engine_under([builtin(r) for r in PAPER], "retail", 1), 1)
    before = engine.session.model_dump()
    changed_rules = [builtin(r) for r in PAPER if r != "turn_feedback"] + [builtin("terse")]
    current, changed = await preview_pair(engine, changed_rules)
    assert current.content != changed.content
    assert "terse" in [v.rule_id for v in changed.meta.verdicts]
    assert "terse" not in [v.rule_id for v in current.meta.verdicts]
    assert engine.session.model_dump() == before


async def test_preview_at_a_task_boundary_does_not_add_the_next_task():
    engine = await until_user_turns(engine_under([builtin(r) for r in PAPER], "retail", 1), 1)
    while not (await preview_user_turn(engine, engine.session.config.rules)).meta.task_done:
        await engine.step()
        await until_user_turns(engine, 1)
    tasks = len(engine.session.tasks)
    preview = await preview_user_turn(engine, engine.session.config.rules)
    assert preview.meta.task_index == tasks and len(engine.session.tasks) == tasks


async def test_preview_refuses_when_it_is_not_the_users_turn():
    engine = engine_under([builtin(r) for r in PAPER])
    await engine.step()
    with pytest.raises(TurnloomError, match="assistant's turn"):
        await preview_user_turn(engine, [])
