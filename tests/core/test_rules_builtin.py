"""Every built-in rule: what it makes the offline simulator do, and its check catching a violation."""

from __future__ import annotations

import json
import random

import pytest
from _rule_helpers import (
    DOMAINS,
    PAPER,
    builtin,
    engine_under,
    isolated_rule_folders,  # noqa: F401  (autouse fixture)
    run_under,
    until_user_turns,
    user_turns,
    verdict,
)

from turnloom.core.models import Role
from turnloom.core.players.offline.knowledge import knowledge_for
from turnloom.core.players.offline.language import render_request
from turnloom.core.rules.catalog import load_catalog
from turnloom.core.rules.check import CHECKS, GREETING, audit_session
from turnloom.core.rules.rule_files import RULE_KINDS


def paper(**params) -> list:
    return [builtin(rule_id, **params.get(rule_id, {})) for rule_id in PAPER]


def test_the_library_has_at_least_ten_rules_each_with_a_kind_that_has_a_check():
    rules = load_catalog([]).rules
    assert len(rules) >= 10
    for rule in rules.values():
        assert rule.kind in RULE_KINDS, rule.id
        assert rule.kind in CHECKS, rule.id
        assert rule.rendered_prompt() and "{" not in rule.rendered_prompt(), rule.id
    assert set(RULE_KINDS) == set(CHECKS)


@pytest.mark.parametrize("domain", DOMAINS)
async def test_paper_dialogues_finish_with_user_done_and_break_no_rule(domain):
    for seed in range(4):
        engine = await run_under(paper(), domain, seed)
        assert engine.session.finish_reason == "user_done"
        for message in user_turns(engine):
            assert len(message.meta.verdicts) == len(PAPER)
            assert not message.meta.violations, (seed, message.content, message.meta.violations)


# ---------------------------------------------------------------- incremental_requests


async def test_incremental_requests_reveals_at_most_the_limit_and_the_check_catches_more():
    for limit in (1, 2):
        for seed in range(6):
            engine = await run_under(paper(incremental_requests={"max_subtasks": limit}), "retail", seed)
            assert all(len(m.meta.subtasks) <= limit for m in user_turns(engine))
    unruled = await run_under([], "retail", 2)
    first = user_turns(unruled)[0]
    assert len(first.meta.subtasks) == len(unruled.session.tasks[0].subtasks) >= 2

    engine = await until_user_turns(engine_under(paper(), "retail", 19), 1)  # a first task of four subtasks
    task = engine.session.tasks[0]
    knowledge = knowledge_for(engine.session)
    rng = random.Random(0)
    unasked = [s for i, s in enumerate(task.subtasks) if i not in user_turns(engine)[0].meta.subtasks]
    text = " ".join(render_request(knowledge.intent(s.intent), s.slots, rng) for s in unasked)
    rule = builtin("incremental_requests", max_subtasks=1)
    assert len(unasked) == 3
    result = verdict(engine, rule, f"Thanks. {text}")
    assert not result.passed and "3 new subtasks" in result.detail
    assert verdict(
        engine, rule, f"Thanks. {render_request(knowledge.intent(unasked[0].intent), unasked[0].slots, rng)}"
    ).passed
    audited = audit_session(unruled.session, [builtin("incremental_requests")], knowledge_for(unruled.session))
    assert not audited[0][0].passed


# ---------------------------------------------------------------- turn_feedback


async def test_turn_feedback_reacts_to_every_answer_and_the_check_catches_a_bare_next_request():
    engine = await run_under(paper(), "retail", 2)
    assert all(v.passed for m in user_turns(engine) for v in m.meta.verdicts if v.rule_id == "turn_feedback")
    without = await run_under([r for r in paper() if r.id != "turn_feedback"], "retail", 2)
    audited = audit_session(without.session, [builtin("turn_feedback")], knowledge_for(without.session))
    assert any(not v.passed for vs in audited.values() for v in vs)

    engine = await until_user_turns(engine_under(paper()), 1)
    assert not verdict(engine, builtin("turn_feedback"), "What items are in order 19?").passed
    assert verdict(engine, builtin("turn_feedback"), "Thanks! What items are in order 19?").passed


# ---------------------------------------------------------------- confirm_before_ending


async def test_confirm_before_ending_asks_to_check_each_change_and_the_check_catches_moving_on():
    engine = await run_under(paper(), "retail", 2)
    verify_turns = [m for m in user_turns(engine) if m.meta.notes and m.meta.notes.verify]
    assert verify_turns and engine.session.write_log
    without = await run_under([r for r in paper() if r.id != "confirm_before_ending"], "retail", 2)
    assert not any(m.meta.notes and m.meta.notes.verify for m in user_turns(without))
    audited = audit_session(without.session, [builtin("confirm_before_ending")], knowledge_for(without.session))
    failures = [v for vs in audited.values() for v in vs if not v.passed]
    assert failures and "without confirming" in failures[0].detail


# ---------------------------------------------------------------- end_when_all_done


async def test_end_when_all_done_ends_only_when_settled_and_the_check_catches_an_early_goodbye():
    engine = await run_under(paper(), "clinic", 5)
    last = user_turns(engine)[-1]
    assert last.meta.goal_done and len(engine.session.tasks) == 3
    early = await until_user_turns(engine_under(paper(), "retail", 2), 1)
    result = verdict(early, builtin("end_when_all_done"), "That solves it, thanks!")
    assert not result.passed and "still open" in result.detail


# ---------------------------------------------------------------- natural_style, stay_in_role, clean_output


async def test_style_rules_hold_offline_and_their_checks_catch_meta_talk_role_swaps_and_leaks():
    engine = await until_user_turns(engine_under(paper(), "airline", 4), 2)
    assert not verdict(engine, builtin("natural_style"), "Thanks. Is this for a dataset or a simulation?").passed
    assert not verdict(engine, builtin("natural_style"), "Could the assistant check my task definition?").passed
    assert verdict(engine, builtin("natural_style"), "Thanks, that helps a lot.").passed
    assert not verdict(
        engine, builtin("stay_in_role"), "Here are the details: it has shipped. How can I help you?"
    ).passed
    assert not verdict(engine, builtin("stay_in_role"), "Assistant: I have updated the booking.").passed
    assert verdict(engine, builtin("stay_in_role"), "Great. Can you check booking 4?").passed
    leak = json.dumps({"user_message": "Check booking 4", "is_task_complete": False})
    assert not verdict(engine, builtin("clean_output"), leak).passed
    assert not verdict(
        engine, builtin("clean_output"), "<think>the user wants booking 4</think> Check booking 4"
    ).passed
    assert not verdict(engine, builtin("clean_output"), "Reasoning: I should ask next. Check booking 4.").passed
    assert verdict(engine, builtin("clean_output"), "OK, can you check booking 4?").passed


# ---------------------------------------------------------------- no_restart


async def test_no_restart_greets_once_and_the_check_catches_reopeners_repeats_and_goodbye_loops():
    engine = await run_under(paper(), "telecom", 3)
    turns = user_turns(engine)
    greeted = [m for m in turns if GREETING.search(m.content)]
    assert all(m is turns[0] for m in greeted)  # a greeting, if any, only opens the dialogue
    mid = await until_user_turns(engine_under(paper(), "telecom", 3), 2)
    rule = builtin("no_restart")
    assert not verdict(mid, rule, "Hi there! I need some help with a few things.").passed
    previous = user_turns(mid)[-1].content
    assert "repeats" in verdict(mid, rule, previous).detail
    await mid.commit_user_text("Thanks, bye!")
    await mid.step()
    result = verdict(mid, rule, "Thanks again, goodbye!")
    assert not result.passed and "goodbye" in result.detail


# ---------------------------------------------------------------- terse


async def test_terse_writes_short_single_requests_and_the_check_catches_a_long_message():
    rules = [*paper(), builtin("terse")]
    for seed in range(5):
        engine = await run_under(rules, "retail", seed)
        turns = user_turns(engine)
        assert all(len(m.content.split()) <= 25 for m in turns)
        assert all(len(m.meta.subtasks) <= 1 for m in turns)
        assert not turns[0].content.startswith(("Hi", "Hello", "Hey", "Good"))
        assert not any(m.meta.violations for m in turns)
    engine = await until_user_turns(engine_under(rules), 1)
    result = verdict(
        engine,
        builtin("terse", max_words=8),
        "Thank you so much, that was really helpful, now could you also check order 3?",
    )
    assert not result.passed and "limit 8" in result.detail


# ---------------------------------------------------------------- casual


async def test_casual_writes_informally_and_the_check_catches_formal_language():
    engine = await run_under([*paper(), builtin("casual", typo_rate=0.0)], "retail", 3)
    small_talk = " ".join(m.content for m in user_turns(engine)[1:])
    assert "thx" in small_talk and "Thanks" not in small_talk
    assert engine.session.finish_reason == "user_done"
    result = verdict(engine_under(paper()), builtin("casual"), "Dear Sir, could you check order 3? Kind regards.")
    assert not result.passed and "formal" in result.detail


# ---------------------------------------------------------------- withhold_details


async def test_withhold_details_asks_without_the_email_first_and_the_check_catches_volunteering():
    rules = [*paper(), builtin("withhold_details")]
    for seed in range(30):  # a dialogue whose first request is an email look-up
        engine = await run_under(rules, "retail", seed)
        first_intent = knowledge_for(engine.session).intent(engine.session.tasks[0].subtasks[0].intent)
        if "email" in first_intent.slots and first_intent.steps[-1].tool.startswith("get_"):
            break
    turns = user_turns(engine)
    first = turns[0]
    assert "@" not in first.content  # the task opens with an email look-up, asked for without the email
    asked = engine.session.messages[1]
    assert asked.role is Role.ASSISTANT and asked.content.endswith("?")
    assert "@" in turns[1].content  # given once asked
    assert not any(m.meta.violations for m in turns)
    plain = await run_under(paper(), "retail", seed)
    audited = audit_session(plain.session, [builtin("withhold_details")], knowledge_for(plain.session))
    assert not audited[0][0].passed and "volunteers" in audited[0][0].detail


# ---------------------------------------------------------------- change_mind


async def test_change_mind_revises_a_change_once_and_the_check_catches_a_second_revision():
    rules = [*paper(), builtin("change_mind", chance=1.0)]
    engine = await run_under(rules, "retail", 4)
    revisions = [m for m in user_turns(engine) if m.meta.notes and m.meta.notes.revise]
    assert len(revisions) == 1
    new_city = revisions[0].meta.notes.revised["new_city"]
    updates = [
        json.loads(c.arguments)
        for m in engine.session.messages
        for c in m.tool_calls
        if c.name == "update_order_shipping_city"
    ]
    assert any(u["shipping_city"] == new_city for u in updates)
    # the revised change is confirmed before moving on: the answer states it, or the user checks it
    messages = engine.session.messages
    revised_at = messages.index(revisions[0])
    answer = next(m for m in messages[revised_at + 1 :] if m.role is Role.ASSISTANT and m.content)
    after = user_turns(engine)[user_turns(engine).index(revisions[0]) + 1]
    assert new_city in answer.content or (after.meta.notes and after.meta.notes.verify)
    assert not any(m.meta.violations for m in user_turns(engine))
    mid = await until_user_turns(engine_under(rules), 3)
    rule = builtin("change_mind", max_revisions=0)
    result = verdict(mid, rule, "On second thought, can you ship order 19 to Turin instead?")
    assert not result.passed and "changes their mind" in result.detail


# ---------------------------------------------------------------- digression


async def test_digression_adds_one_off_topic_remark_at_most_and_the_check_catches_a_second():
    rules = [*paper(), builtin("digression", chance=1.0)]
    engine = await run_under(rules, "retail", 4)
    digressions = [m for m in user_turns(engine) if m.meta.notes and m.meta.notes.digression]
    assert len(digressions) == 1
    assert "By the way" in digressions[0].content or "Side note" in digressions[0].content
    assert engine.session.finish_reason == "user_done"
    result = verdict(engine, builtin("digression"), "By the way, lovely weather today.")
    assert not result.passed and "2 times" in result.detail
