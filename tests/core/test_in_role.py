"""`in_role`: each turn speaks in its own role — what a curator would reject and what must pass."""

from __future__ import annotations

import json

import pytest
from _clean_dialogues import clean_session
from _mutations import _set_content, _turns

from turnloom.core.models import Role
from turnloom.core.quality.checks import run_checks
from turnloom.core.quality.checks.roles import check_in_role
from turnloom.core.quality.checks.view import SessionView


@pytest.fixture(scope="module")
def clean():
    return clean_session("retail", seed=1)


def in_role(session) -> list[str]:
    return [f.reason for f in check_in_role(SessionView(session))]


def with_user_text(session, text: str):
    s = session.model_copy(deep=True)
    _set_content(s, _turns(s, Role.USER)[1], text)
    return s


def test_the_clean_dialogue_is_in_role(clean):
    assert in_role(clean) == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("How can I help you today?", "speaks as the assistant"),
        ("Great. I've updated your shipping address, anything else?", "speaks as the assistant"),
        ("Subtask 2 of 3: ask for the order total.", "simulator's own words"),
        ("Assistant: here is your order.\nUser: thanks", "simulator's own words"),
        ("As an AI, I cannot have orders.", "simulator's own words"),
        ('{"user_message": "Where is my order?", "subtasks": [1], "is_task_complete": false}', "own words"),
        ('{"message": "Where is my order?", "done": false}', "is a JSON object"),
        ("<|eot_id|>", "simulator's own words"),
        ('Thanks.\nResult of get_order_by_id: {"id": 3}', "simulator's own words"),
        ("  ", "says nothing"),
    ],
)
def test_a_user_turn_out_of_role_is_rejected_with_its_words(clean, text, said):
    reasons = in_role(with_user_text(clean, text))
    assert len(reasons) == 1 and said in reasons[0]


@pytest.mark.parametrize(
    "text",
    [
        "Which subtasks does task 3 have? The board is under ana@example.com.",  # a --db table named subtasks
        "My goal is to spend less on shipping; which orders cost the most?",
        "Can you help me with my order from 2025-05-23?",
        "I've changed my mind about the Gdansk address: make it Turin.",
        "Thanks, that's all I needed. Bye!",  # a user may say it
    ],
)
def test_what_a_person_says_passes(clean, text):
    assert in_role(with_user_text(clean, text)) == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('<tool_call>{"name": "get_order_by_id", "arguments": {"id": 3}}</tool_call>', "'<tool_call>'"),
        ('{"name": "get_order_by_id", "arguments": {"id": 3}}', "a tool call or template markup"),
        ("<think>they want the total</think> The total is 12.", "'<think>'"),
        ("Thanks, that's all I needed.", "speaks as the user"),
    ],
)
def test_a_reply_out_of_role_is_rejected(clean, text, said):
    s = clean.model_copy(deep=True)
    _set_content(s, _turns(s, Role.ASSISTANT)[0], text)
    reasons = in_role(s)
    assert reasons and said in reasons[0]


def test_a_bare_confirmation_may_repeat_but_a_reply_with_the_other_results_values_may_not(clean):
    s = clean.model_copy(deep=True)
    first, later = _turns(s, Role.ASSISTANT)[:2]
    _set_content(s, first, "Done, I've updated that order for you as you asked.")
    _set_content(s, later, "Done, I've updated that order for you as you asked.")
    assert in_role(s) == []
    _set_content(s, first, "Order 999 is pending, with a total of 123.45 in all.")
    _set_content(s, later, "Order 999 is pending, with a total of 123.45 in all.")
    assert any("repeats message" in r for r in in_role(s))


def test_a_user_who_says_a_turn_again_word_for_word_is_in_a_loop(clean):
    s = clean.model_copy(deep=True)
    turns = [i for i in _turns(s, Role.USER) if len(s.messages[i].text.split()) >= 6]
    _set_content(s, turns[-1], s.messages[turns[0]].text)
    (reason,) = in_role(s)
    assert f"repeats turn {turns[0]}" in reason
    short = clean.model_copy(deep=True)
    for i in _turns(short, Role.USER)[1:3]:
        _set_content(short, i, "Okay, thanks.")
    assert in_role(short) == []


def test_in_role_findings_reject_the_dialogue(clean):
    s = with_user_text(clean, json.dumps({"user_message": "hi", "subtasks": [], "is_task_complete": True}))
    assert any(f.check == "in_role" and f.severity == "reject" for f in run_checks(s))
