"""Named semantic checks over one dialogue, each pointing at the messages it blames, with a reason.

One module per family; every check reads only the session (transcript, tools, tasks, write log,
and the database image the write log replays onto), never a role player's internals, so it judges
built-in domains, `--db` databases, simulated execution and LLM-written tasks alike.

    dialogue    finish, tool_errors, grounding, rules
    writes      write_confirmed      a later read of the record agrees with the write
                closed_record        no change to a record shown cancelled, terminated, closed ...
    effects     effects              every subtask's read answered / write applied (in the DB state)
    feedback    feedback             no thanks after a failure, no complaint after a served request
                reask                no request again for what was just answered
    text        text_consistent      replies agree with results and keep their key fields
    reads       stale_read, repeated_read (a warning)
    identity    identity             one user; "my ..." records are theirs; created records cohere
    simulated   simulated_values     stable ids, no placeholders, aggregates that add up
    roles       in_role              each turn in its own role: no simulator scaffolding, no tool call
                                     written as text, no empty or word-for-word repeated turn

`run_checks` runs them all; turning findings into a stored verdict is `quality.verdict`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from turnloom.core.models import Session
from turnloom.core.quality.checks.dialogue import check_finish, check_grounding, check_rules, check_tool_errors
from turnloom.core.quality.checks.effects import check_effects
from turnloom.core.quality.checks.feedback import check_feedback, check_reask
from turnloom.core.quality.checks.finding import Finding, Severity
from turnloom.core.quality.checks.identity import check_identity
from turnloom.core.quality.checks.reads import check_repeated_read, check_stale_read
from turnloom.core.quality.checks.roles import check_in_role
from turnloom.core.quality.checks.simulated import check_simulated_values
from turnloom.core.quality.checks.text import check_text_consistent
from turnloom.core.quality.checks.view import SessionView
from turnloom.core.quality.checks.writes import check_closed_record, check_write_confirmed

__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "LENGTH_CHECK",
    "MAX_MESSAGES",
    "Check",
    "Finding",
    "Severity",
    "forget_texts",
    "run_checks",
]


@dataclass(frozen=True)
class Check:
    """A named check: what it asks, and the function that asks it."""

    name: str
    question: str
    run: Callable[[SessionView], list[Finding]]


CHECKS: tuple[Check, ...] = (
    Check("finish", "did the simulated user finish?", check_finish),
    Check("effects", "did every subtask have its effect (reads answered, writes applied)?", check_effects),
    Check("write_confirmed", "do later reads confirm every write?", check_write_confirmed),
    Check("closed_record", "no change to a record already cancelled or closed?", check_closed_record),
    Check("feedback", "does the user's feedback fit the outcome?", check_feedback),
    Check("reask", "does the user ask again for what was just answered?", check_reask),
    Check("text_consistent", "do replies agree with results and keep key fields?", check_text_consistent),
    Check("stale_read", "no stale read inside one parallel step?", check_stale_read),
    Check("repeated_read", "no identical read repeated with no write between? (warning)", check_repeated_read),
    Check("identity", "one user, whose records are theirs; created records coherent?", check_identity),
    Check("in_role", "does every turn speak in its own role, with words, without repeating itself?", check_in_role),
    Check("simulated_values", "stable ids, no placeholders, aggregates that add up?", check_simulated_values),
    Check("tool_errors", "no tool error ignored?", check_tool_errors),
    Check("grounding", "is every stated value grounded?", check_grounding),
    Check("rules", "no unflagged rule violation?", check_rules),
)
# a transcript longer than this is not checked but rejected as too long to judge (`quality_max_messages` in
# turnloom.toml changes it): every check is linear in the transcript, but a limit keeps one runaway file
# from holding up `stats` over a whole corpus
MAX_MESSAGES = 10_000
LENGTH_CHECK = "length"
# the finding of a transcript whose JSON the checks cannot parse (nested past the recursion limit)
READABLE_CHECK = "readable"
CHECK_NAMES: tuple[str, ...] = (*(check.name for check in CHECKS), LENGTH_CHECK, READABLE_CHECK)


def run_checks(session: Session, *, live: bool = False, max_messages: int = MAX_MESSAGES) -> list[Finding]:
    """Every finding of every check on `session`, in check order.

    Args:
        live: the dialogue just ended under the engine, whose rule checker recorded its verdict on
            every user turn as it was made: `rules` reads those instead of checking every turn again.
        max_messages: a longer transcript is not checked; its one finding says so.
    """
    if len(session.messages) > max_messages:
        return [
            Finding(
                LENGTH_CHECK,
                (len(session.messages) - 1,),
                f"the transcript has {len(session.messages)} messages, over the checks' limit of {max_messages} "
                "(quality_max_messages in turnloom.toml): not judged",
            )
        ]
    try:
        view = SessionView(session, live=live)
        return [finding for check in CHECKS for finding in check.run(view)]
    except RecursionError:  # JSON in a message nested deeper than Python parses: nothing can be checked
        return [Finding(READABLE_CHECK, (), "a message holds JSON nested too deeply to read: not judged")]


def forget_texts() -> None:
    """Empty the caches the checks keep of texts they have read (a reply's line, a result's values,
    a reference): dialogues repeat them, so a batch judges each once. For measuring the checks on
    dialogues as if none had been seen before; judging never needs it."""
    from turnloom.core.quality import grounding
    from turnloom.core.quality.checks import effects, feedback, identity, simulated, text, view

    for cached in (
        feedback._opening,
        feedback._thanks,
        feedback._opens_with_complaint,
        feedback._complains,
        identity._claims,
        grounding._stated_values,
        effects._text_key,
        simulated._is_placeholder,
        text._statements,
        text._refs,
        text._ids_named,
        text._lowered,
        view._numberless,
        view._signature,
    ):
        cached.cache_clear()
    text._NEEDLES.clear()
    view._SHOWN.clear()
    effects._TEXTS.clear()
    view._PARSED.clear()
