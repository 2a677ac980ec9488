"""Feedback: what the user says about a result fits the result.

`feedback`: a user turn that opens with thanks or praise must not follow a failed, empty or
unpersisted outcome (a tool error never recovered, a read that found nothing, a write that
changed no row, a read showing that an earlier write did not stick), and a user
turn that complains ("That's not quite what I asked") must not follow a request that was served
(every value the user named was used by a successful call, data came back, the assistant replied).
"""

from __future__ import annotations

import functools
import re

from turnloom.core.quality.checks.finding import Finding
from turnloom.core.quality.checks.view import CallView, SessionView
from turnloom.core.quality.checks.writes import check_write_confirmed
from turnloom.core.quality.grounding import stated_values

THANKS = re.compile(
    r"^\W*(?:\w+,?\s+){0,2}?(thanks?\b|thank you|great\b|perfect\b|excellent\b|wonderful\b|awesome\b|"
    r"that helps|that's useful|that solves|that's everything|that takes care|that part is sorted)",
    re.IGNORECASE,
)
COMPLAINT = re.compile(
    r"(not (?:quite )?what I (?:asked|meant|wanted)|don'?t think that covered|I still need that|"
    r"that'?s (?:not right|wrong|incorrect)|you didn'?t (?:answer|do)|that isn'?t what)",
    re.IGNORECASE,
)
_CODE = re.compile(r"\b[A-Z]{2,}-?\d+\b")


def opening(text: str) -> str:
    """The first sentence of a message."""
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]


def requested_values(text: str) -> list[str]:
    """The values a request names: numbers, dates, emails and codes like TL113."""
    return stated_values(text) + _CODE.findall(text)


def check_feedback(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    # a stale read inside one parallel step is `stale_read`'s finding: the user cannot see it, so thanks after it are fine
    unpersisted = {f.messages[-1] for f in check_write_confirmed(view)}
    turns = view.user_turns()
    for previous, current in zip(turns, turns[1:], strict=False):
        start, end = view.exchange(previous)
        calls = view.calls_between(start, end)
        text = view.messages[current].text
        bad = _bad_outcome(calls, unpersisted)
        if bad and _thanks(text):
            findings.append(
                Finding("feedback", (bad[0], current), f"message {current} thanks the assistant after {bad[1]}")
            )
        elif not bad and _opens_with_complaint(text) and _served(view, previous, calls, start, end):
            first = _opening(text)
            findings.append(
                Finding(
                    "feedback",
                    (previous, current),
                    f"message {current} complains ({first!r}) right after message {previous}'s request was served",
                )
            )
    return findings


# a user turn is read for thanks only after a bad outcome and for a complaint only after a good one;
# turns repeat from dialogue to dialogue: each is read once
_opening = functools.lru_cache(maxsize=4096)(opening)


@functools.lru_cache(maxsize=4096)
def _thanks(text: str) -> bool:
    """The turn opens with thanks or praise and complains nowhere."""
    return THANKS.search(_opening(text)) is not None and not _complains(text)


@functools.lru_cache(maxsize=4096)
def _opens_with_complaint(text: str) -> bool:
    return COMPLAINT.search(_opening(text)) is not None


@functools.lru_cache(maxsize=4096)
def _complains(text: str) -> bool:
    return COMPLAINT.search(text) is not None


def _bad_outcome(calls: list[CallView], broken: set[int]) -> tuple[int, str] | None:
    """(the message showing it, what went wrong) for the first failed, empty or unpersisted result."""
    for index, call in enumerate(calls):
        if call.result_index < 0:
            continue
        if call.error and not any(later.ok and later.name == call.name for later in calls[index + 1 :]):
            return call.result_index, f"{call.name} failed at message {call.result_index}"
        if (
            call.ok
            and call.empty
            and not any(later.ok and not later.empty and later.name == call.name for later in calls[index + 1 :])
        ):
            what = "changed no row" if call.writes else "found nothing"
            return call.result_index, f"{call.name} {what} at message {call.result_index}"
        if call.result_index in broken:
            return call.result_index, f"message {call.result_index} shows an earlier write did not persist"
    return None


def _served(view: SessionView, request: int, calls: list[CallView], start: int, end: int) -> bool:
    if not calls or not any(c.ok and not c.empty for c in calls) or not view.replies_between(start, end):
        return False
    used = " ".join(str(c.arguments) + " " + c.content for c in calls if c.ok)
    wanted = requested_values(view.messages[request].text)
    return all(re.search(rf"(?<![\w.]){re.escape(v)}(?![\w])", used) for v in wanted)


def check_reask(view: SessionView) -> list[Finding]:
    """`reask`: a user turn asks again for what the dialogue just fully answered.

    Every read that answers the turn (and it makes no write) repeats, with the same arguments,
    a successful read that returned data an earlier reply stated, with no write to that table in
    between: the user asked for something already on the page. A turn after a complaint is a
    fair re-ask, and so is one after a failed or empty answer.
    """
    findings: list[Finding] = []
    turns = view.user_turns()
    answered: dict[str, CallView] = {}  # read signature -> the call that answered it, stated in a reply
    for number, turn in enumerate(turns):
        start, end = view.exchange(turn)
        calls = view.calls_between(start, end)
        reads = [c for c in calls if c.ok and not c.writes]
        earlier = [answered.get(c.signature) for c in reads]
        complained = number > 0 and _complains(view.messages[turns[number - 1]].text)
        if (
            reads
            and not complained
            and not any(c.writes for c in calls)
            and all(e is not None for e in earlier)
            and len(calls) == len(reads)
        ):
            first = earlier[0]
            assert first is not None
            findings.append(
                Finding(
                    "reask",
                    (turn, first.result_index),
                    f"message {turn} asks again for what message {first.result_index} ({first.name}) already "
                    f"answered, with no change in between",
                )
            )
        for call in calls:  # in order: a read made before a write to its table in this exchange is stale
            if call.ok and call.writes:
                for signature in [s for s, c in answered.items() if c.table == call.table]:
                    del answered[signature]
            elif call.ok and not call.empty and call.signature not in answered and _stated_after(view, call, end):
                answered[call.signature] = call  # the first answer stays: a repeat of it is the re-ask
    return findings


def _stated_after(view: SessionView, call: CallView, end: int) -> bool:
    """Some value of the call's result appears in an assistant reply before `end`."""
    return bool(call.records()) and view.stated_after(call, end)
