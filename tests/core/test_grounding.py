"""Grounding finds the same values whether it searches the evidence or looks them up among its tokens."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import ChatMessage, Role, ToolExecution
from turnloom.core.quality import grounding
from turnloom.core.quality.grounding import stands_in, ungrounded_values

TEXT = st.text(alphabet="01239.-_aZ @x:/\n", max_size=40)


@settings(max_examples=400, deadline=None)
@given(haystack=TEXT, needle=st.text(alphabet="0129.-aZx@", min_size=1, max_size=5))
def test_stands_in_finds_what_the_boundary_pattern_finds(haystack: str, needle: str) -> None:
    pattern = rf"(?<![\w.]){re.escape(needle)}(?![\w])"
    if needle.isdigit():  # a number is not one inside a date, time or code (the 10 of 2025-10-21)
        pattern = rf"(?<![\w.])(?<!\d[-/:]){re.escape(needle)}(?![\w])(?![-/:]\d)"
    assert stands_in(haystack, needle) is (re.search(pattern, haystack) is not None)


def _reply_after(evidence: str, reply: str) -> list[ChatMessage]:
    return [
        ChatMessage(role=Role.USER, content="hi"),
        ChatMessage(role=Role.TOOL, content=evidence, tool_call_id="c1"),
        ChatMessage(role=Role.ASSISTANT, content=reply),
    ]


def test_a_value_a_result_states_inside_a_longer_token_is_still_grounded() -> None:
    # "ref2025-01-04" states the date 2025-01-04 (the date pattern has no left boundary) though the
    # date does not stand alone there: grounded, as it always was
    assert ungrounded_values(_reply_after('{"code": "ref2025-01-04"}', "It is due on 2025-01-04.")) == []
    assert ungrounded_values(_reply_after('{"code": "ref2025-01-04"}', "It is due on 2025-01-05.")) != []
    assert ungrounded_values(_reply_after('{"total": 12.5}', "That comes to 12.5, or 125 in cents.")) == [
        grounding.UngroundedValue(2, "125")
    ]


@pytest.mark.parametrize("execution", list(ToolExecution))
def test_searching_and_tokenising_the_evidence_agree_on_real_dialogues(monkeypatch, execution) -> None:
    for domain in ("retail", "airline", "telecom"):
        session = run_to_end(create_session(domain, seed=5, execution=execution, tasks=3))
        messages = session.messages
        # a reply with values no result holds, some of them digits found inside longer numbers
        messages = [*messages, ChatMessage(role=Role.ASSISTANT, content="Ids 9, 31, 2024-02-30 and x@y.org; 0.5 left.")]
        searched = ungrounded_values(messages)
        monkeypatch.setattr(grounding, "DIRECT_SEARCH_CHARS", 0)  # every transcript as long ones are judged
        tokenised = ungrounded_values(messages)
        monkeypatch.undo()
        assert searched == tokenised
        assert searched[-1].message_index == len(messages) - 1


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("cancel my appointment from 2025-10-21?", False),  # clinic seed 224: the date is not doctor 10
        ("at 10:30 tomorrow", False),
        ("on 3/10 or later", False),
        ("doctor 10, please", True),
        ("is it id 10.", True),
        ("-10 degrees", True),
    ],
)
def test_a_number_inside_a_date_time_or_decimal_does_not_stand_in_for_itself(text: str, found: bool) -> None:
    from turnloom.core.quality.grounding import stands_in

    assert stands_in(text, "10") is found
