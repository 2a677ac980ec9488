"""Checks of a user turn against the rules in force, one per rule kind.

Every user turn the engine proposes is checked (`build_rule_checker` gives the
engine its `rule_checker`); the verdicts go into the message's meta, where the
stats count them and the TUI shows them. A check sees the transcript before the
turn, the turn itself and, when the caller gives it, what is known of the domain
(its intents and how users phrase them, `DomainReading`: the offline players'
knowledge is one), from which the task's progress is derived (`domains.progress`),
so it holds an LLM's or an operator's turn to the same rules as the offline
simulator's.

What each kind flags:

    incremental_requests  more new subtasks in one turn than `max_subtasks`
    turn_feedback         a new request with no reaction to the answer before it
    confirm_before_ending moving on or ending while a change is unconfirmed
    end_when_all_done     a completion claim while subtasks remain open
    natural_style         meta talk: datasets, simulation, the assistant, task definitions
    stay_in_role          the user writing the assistant's part
    clean_output          reasoning, notes, JSON or tags leaking into the message
    no_restart            a repeated opener, greeting, message or goodbye
    terse                 a message longer than `max_words`
    casual                formal letter-writing language
    withhold_details      an email volunteered before anyone asked
    change_mind           more revisions than `max_revisions`
    digression            more digressions than `max_digressions`

What the policy does with a violation (regenerate, pause, flag) is the engine's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from turnloom.core.domains.base import Intent
from turnloom.core.domains.progress import TaskProgress, derive_progress
from turnloom.core.models import ChatMessage, Provenance, Role, Rule, RuleVerdict, Session, SimulatorNotes, Task
from turnloom.core.rules.rule_files import param


class ReadRequest(Protocol):
    """A request recognised in a user message: which intent, with which slot values."""

    @property
    def intent(self) -> Intent: ...

    @property
    def slots(self) -> Mapping[str, object]: ...


class RequestReader(Protocol):
    def parse(self, text: str) -> Sequence[ReadRequest]: ...


class DomainReading(Protocol):
    """What the checks that need the task's progress know of a domain.

    The offline players' `DomainKnowledge` is one; `lifecycle` hands it over (this layer
    cannot name the players).
    """

    @property
    def parser(self) -> RequestReader: ...

    def intent(self, name: str) -> Intent: ...


# how a checker comes to know the domain of a session (in its environment), or None when it cannot
KnowledgeSource = Callable[[Session, Any], "DomainReading | None"]

_I = re.IGNORECASE
FEEDBACK = re.compile(
    r"\b(thanks?|thank you|thx|ty|great|perfect|got it|ok(ay)?|good|fine|right|sure|nice|cool|alright|"
    r"understood|hmm|not (quite|what|it)|still|never ?mind|forget|that's|that helps|useful|appreciate|"
    r"so it's|wait|actually|no|yes|hm+|noted|i see|cheers|ta|lovely|brilliant|excellent|certainly|obliged|"
    r"grateful|phew|relief|fair enough|very well|fantastic|amazing|blimey|crikey|ugh|yay|oh|ah|"
    r"doesn't really answer|don't think that|sorted)\b",
    _I,
)
CLOSING = re.compile(r"\b(that solves it|that's (all|everything|it)|all set|nothing else|goodbye|bye)\b", _I)
META = re.compile(
    r"\b(data ?sets?|simulat(?:ion|ions|or|ed|ing)|task definitions?|subtasks?|is_task_complete|"
    r"system prompt|language model|as an ai|the assistant|role-?play(?:ing)?|rubrics?|training data|"
    r"hidden (?:task|goal))\b",
    _I,
)
ASSISTANT_TALK = re.compile(
    r"\bhow (can|may) i (help|assist)\b|\bis there anything else i can\b|\bhere(?: are|'s| is) (?:the|your) "
    r"(?:details|results?)\b|\bhere's what i found\b|\blet me (?:check|look) (?:that|this|it) up\b|"
    r"\bi(?:'ll| will) (?:check|look into) (?:that|this) for you\b|\bhappy to help\b|\byou're welcome\b|"
    r"\bi(?:'ve| have) (?:updated|created|cancelled) (?:the|your)\b|^\s*(?:assistant|agent)\s*:|→\s*\w+\(",
    _I,
)
LEAK = re.compile(
    r"^\s*[{\[]|\"(?:user_message|is_task_complete)\"|```|</?think>|\b(?:reasoning|thoughts?|analysis|"
    r"internal note)\s*:|\bas the user\b|\bthe user (?:wants|needs|should|is)\b|\bmy (?:next step|goal) is to\b|"
    r"\bi (?:should|will) now (?:ask|reveal|request|mention)\b",
    _I,
)
GREETING = re.compile(r"^\W*(hi|hello|hey|good (morning|afternoon|evening)|greetings)\b", _I)
OPENER = re.compile(
    r"\b(i need some help with a few things|could you help me with something|i was hoping you could help "
    r"me out|i have a couple of things to sort out|my name is)\b",
    _I,
)
FORMAL = re.compile(
    r"\b(dear (sir|madam|team|support)|kind regards|best regards|sincerely|yours faithfully|furthermore|"
    r"moreover|i would be most grateful|would you be so kind|hereby|to whom it may concern)\b",
    _I,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REVISION = re.compile(r"\b(on second thought|(i've |i )?changed my mind|actually, make (it|that))\b", _I)
DIGRESSION = re.compile(r"\b(by the way|side note|off topic|unrelated,|random question)\b", _I)


@dataclass
class TurnView:
    """One proposed user turn and what a check may know about its context."""

    session: Session
    message: ChatMessage
    knowledge: DomainReading | None

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def notes(self) -> SimulatorNotes:
        return self.message.meta.notes or SimulatorNotes()

    @cached_property
    def last_user(self) -> ChatMessage | None:
        """The latest user message before this turn (found from the end: turns stay cheap in long dialogues)."""
        return next((m for m in reversed(self.session.messages) if m.role is Role.USER), None)

    def earlier_users(self) -> list[ChatMessage]:
        return [m for m in self.session.messages if m.role is Role.USER]

    @property
    def previous(self) -> ChatMessage | None:
        return self.session.messages[-1] if self.session.messages else None

    @property
    def answers_a_question(self) -> bool:
        previous = self.previous
        return previous is not None and previous.role is Role.ASSISTANT and previous.text.rstrip().endswith("?")

    @cached_property
    def tasks(self) -> list[Task]:
        tasks, length = self.session.tasks, len(self.session.messages)
        if not tasks or tasks[-1].introduced_at <= length:
            return tasks
        return [t for t in tasks if t.introduced_at <= length]

    @cached_property
    def progress(self) -> TaskProgress | None:
        """The task in progress before this turn, as the offline simulator sees it."""
        if self.knowledge is None or not self.tasks or self.last_user is None:
            return None
        try:
            return derive_progress(self.knowledge, self.session.messages, self.tasks)
        except KeyError:  # a task whose intents the domain does not know
            return None

    @property
    def from_offline_simulator(self) -> bool:
        """The offline simulator states what a turn asks for in its meta; other turns are read from their text."""
        meta = self.message.meta
        return meta.provenance is Provenance.SIMULATOR and meta.backend == "offline" and meta.producer == "user"

    @cached_property
    def requests(self) -> Sequence[ReadRequest]:
        return self.knowledge.parser.parse(self.text) if self.knowledge is not None else []

    @cached_property
    def claims_completion(self) -> bool:
        meta = self.message.meta
        if meta.task_done or meta.goal_done:
            return True
        if meta.provenance is Provenance.SIMULATOR and meta.producer == "user":
            return False  # a simulator says so through its flags
        return bool(CLOSING.search(self.text)) and not self.requests

    def new_subtasks(self) -> set[int]:
        """Subtasks of the turn's task asked for here for the first time (from meta and text)."""
        index = self.message.meta.task_index
        revealed = set(self.message.meta.subtasks)
        task = self.tasks[index] if index is not None and index < len(self.tasks) else None
        if task is not None and not self.from_offline_simulator:
            for request in self.requests:
                for j, subtask in enumerate(task.subtasks):
                    if subtask.intent == request.intent.name and _same(subtask.slots, request.slots):
                        revealed.add(j)
        progress = self.progress
        if progress is not None and progress.task_index == index:
            revealed -= {i for i, s in enumerate(progress.states) if s.requested}
        return revealed


Check = Callable[[TurnView, Rule], "str | None"]


def _same(expected: dict, found: Mapping[str, object]) -> bool:
    return all(str(found.get(k, "")).lower() == str(v).lower() for k, v in expected.items() if k in found) and bool(
        found
    )


def check_incremental(view: TurnView, rule: Rule) -> str | None:
    limit = int(param(rule, "max_subtasks"))
    new = view.new_subtasks()
    if len(new) > limit:
        return f"asks for {len(new)} new subtasks in one turn (limit {limit})"
    return None


def check_feedback(view: TurnView, rule: Rule) -> str | None:
    previous = view.previous
    if view.last_user is None or previous is None or previous.role is not Role.ASSISTANT or view.answers_a_question:
        return None
    if FEEDBACK.search(view.text):
        return None
    return "moves on without reacting to the assistant's last answer"


def _unconfirmed(view: TurnView) -> list[int]:
    progress, knowledge = view.progress, view.knowledge
    if progress is None or knowledge is None:
        return []
    task = view.tasks[progress.task_index]
    return [
        i
        for i, state in enumerate(progress.states)
        if state.done
        and not state.verified
        and not state.verify_asked
        and knowledge.intent(task.subtasks[i].intent).verify
        and i not in view.notes.verify
    ]


def check_confirm(view: TurnView, rule: Rule) -> str | None:
    pending = _unconfirmed(view)
    if not pending:
        return None
    moving_on = view.claims_completion or bool(view.new_subtasks())
    if moving_on and not view.notes.revise:
        which = ", ".join(str(i + 1) for i in pending)
        return f"moves on without confirming the change made for subtask {which}"
    return None


def check_end(view: TurnView, rule: Rule) -> str | None:
    progress = view.progress
    if not view.claims_completion or progress is None:
        return None
    gave_up = set(view.notes.gave_up)
    open_ = [i + 1 for i, s in enumerate(progress.states) if not s.settled and i not in gave_up]
    if open_:
        return f"claims the task is done while subtask {', '.join(map(str, open_))} is still open"
    return None


def _pattern_check(pattern: re.Pattern[str], what: str) -> Check:
    def check(view: TurnView, rule: Rule) -> str | None:
        match = pattern.search(view.text)
        return f"{what}: {match.group(0).strip()!r}" if match else None

    return check


def check_restart(view: TurnView, rule: Rule) -> str | None:
    if view.last_user is None:
        return None
    if (match := GREETING.search(view.text) or OPENER.search(view.text)) is not None:
        return f"opens the conversation again: {match.group(0).strip()!r}"
    last = view.last_user
    if _norm(last.text) == _norm(view.text):
        return "repeats the previous user message"
    if _goodbye(last.text) and _goodbye(view.text):
        return "says goodbye again (goodbye loop)"
    return None


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def _goodbye(text: str) -> bool:
    return (
        bool(CLOSING.search(text) or re.search(r"\b(thanks|thank you|thx)\b", text, _I))
        and "?" not in text
        and len(text.split()) <= 10
    )


def check_terse(view: TurnView, rule: Rule) -> str | None:
    limit = int(param(rule, "max_words"))
    words = len(view.text.split())
    return f"{words} words (limit {limit})" if words > limit else None


def check_withhold(view: TurnView, rule: Rule) -> str | None:
    if view.answers_a_question:
        return None
    seen = " ".join(m.text for m in view.session.messages).lower()
    new_values = {
        str(value).lower()
        for request in view.requests
        for name, value in request.slots.items()
        if name.startswith("new_") or request.intent.steps[-1].tool.startswith(("create_", "update_"))
    }
    for match in EMAIL.finditer(view.text):
        email = match.group(0).lower()
        setting = re.search(r"\b(to|is now|new email( address)?( is)?:?)\s*$", view.text[: match.start()], _I)
        if email not in seen and email not in new_values and not setting:
            return f"volunteers {match.group(0)} before being asked for it"
    return None


def _count_check(pattern: re.Pattern[str], note: str, limit_param: str, what: str) -> Check:
    def check(view: TurnView, rule: Rule) -> str | None:
        def marked(m: ChatMessage) -> bool:
            return bool((m.meta.notes and getattr(m.meta.notes, note)) or pattern.search(m.text))

        if not marked(view.message):
            return None
        count = 1 + sum(1 for m in view.earlier_users() if marked(m))
        limit = int(param(rule, limit_param))
        return f"{what} {count} times (limit {limit})" if count > limit else None

    return check


CHECKS: dict[str, Check] = {
    "incremental_requests": check_incremental,
    "turn_feedback": check_feedback,
    "confirm_before_ending": check_confirm,
    "end_when_all_done": check_end,
    "natural_style": _pattern_check(META, "meta talk"),
    "stay_in_role": _pattern_check(ASSISTANT_TALK, "writes as the assistant"),
    "clean_output": _pattern_check(LEAK, "reasoning or markup in the message"),
    "no_restart": check_restart,
    "terse": check_terse,
    "casual": _pattern_check(FORMAL, "formal wording"),
    "withhold_details": check_withhold,
    "change_mind": _count_check(REVISION, "revise", "max_revisions", "changes their mind"),
    "digression": _count_check(DIGRESSION, "digression", "max_digressions", "digresses"),
}


def check_turn(
    session: Session, message: ChatMessage, rules: list[Rule], knowledge: DomainReading | None = None
) -> list[RuleVerdict]:
    """Verdicts for a user turn about to follow `session`'s transcript, one per enabled rule with a check.

    Args:
        session: the session as it is before the turn (the turn is not in it).
        message: the proposed user turn.
        rules: the rules to check against.
        knowledge: what is known of the domain, for the checks that need the task's progress.
    """
    if message.role is not Role.USER:
        return []
    view = TurnView(session, message, knowledge)
    verdicts = []
    for rule in rules:
        check = CHECKS.get(rule.kind or "")
        if not rule.enabled or check is None:
            continue
        detail = check(view, rule)
        verdicts.append(RuleVerdict(rule_id=rule.id, passed=detail is None, detail=detail or ""))
    return verdicts


def build_rule_checker(
    session: Session, environment: Any = None, knowledge: KnowledgeSource | None = None
) -> Callable[[Session, ChatMessage], list[RuleVerdict]]:
    """The engine's `rule_checker` for `session`: checks each turn against the rules in force then.

    Args:
        session: the dialogue.
        environment: its tool environment, handed to `knowledge`.
        knowledge: how to know the session's domain (called on the first check, not before);
            None checks without it, from the text alone.
    """
    cache: dict[str, DomainReading | None] = {}

    def checker(current: Session, message: ChatMessage) -> list[RuleVerdict]:
        rules = current.config.rules
        if not rules:
            return []
        if "k" not in cache:
            cache["k"] = knowledge(session, environment) if knowledge is not None else None
        return check_turn(current, message, rules, cache["k"])

    return checker


def audit_session(
    session: Session, rules: list[Rule], knowledge: DomainReading | None = None
) -> dict[int, list[RuleVerdict]]:
    """Check every user turn of a finished transcript against `rules` (which need not be the ones it ran under).

    Returns:
        message index -> verdicts, for every user message.
    """
    out: dict[int, list[RuleVerdict]] = {}
    for index, message in enumerate(session.messages):
        if message.role is Role.USER:
            before = session.model_copy(update={"messages": session.messages[:index]})
            out[index] = check_turn(before, message, rules, knowledge)
    return out
