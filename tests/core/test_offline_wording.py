"""The curator's wording notes on offline dialogues, held as specifications.

- a status is said in words, never as stored: "a no-show", "checked in", not "no_show", "checked_in",
  by the assistant and by the user; the quality gate's text check reads the words as the stored value
  and still catches a reply that states another status;
- the user never says again a sentence of small talk they said in the turn before ("Ah good, that's
  that one ticked off." after two answers in a row).
"""

from __future__ import annotations

import itertools
import random
import re

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, Role, Session, ToolExecution
from turnloom.core.players.offline.language import said_status
from turnloom.core.players.offline.tasks import task_count
from turnloom.core.players.offline.voice import Persona, Voice, sentence_keys
from turnloom.core.quality.checks.text import check_text_consistent
from turnloom.core.quality.checks.view import SessionView

_STORED = re.compile(r"\b(?:no_show|checked_in)\b")


def _dialogues(domain: str, seeds: range, mode: Mode = Mode.USER_ORIENTED) -> list[Session]:
    return [
        run_to_end(create_session(domain, mode=mode, execution=ToolExecution.SQL, seed=seed, tasks=3)) for seed in seeds
    ]


def test_a_status_is_said_in_words():
    assert said_status("no_show") == "no-show"
    assert said_status("no_show", article=True) == "a no-show"
    assert said_status("no_show", plural=True) == "no-shows"
    assert said_status("checked_in", article=True) == "checked in"
    assert said_status("cancelled", article=True) == "cancelled"


def test_no_reply_or_user_turn_says_a_status_as_stored():
    sessions = _dialogues("clinic", range(12)) + _dialogues("airline", range(12))
    said = [m for s in sessions for m in s.messages if m.role in (Role.USER, Role.ASSISTANT) and m.text]
    assert not [m.text for m in said if _STORED.search(m.text)]
    replies = " ".join(m.text for m in said if m.role is Role.ASSISTANT)
    assert "no-show" in replies and "checked in" in replies  # the statuses are still told


def _reply_saying(sessions: list[Session], words: str) -> tuple[Session, int]:
    for session in sessions:
        for i, message in enumerate(session.messages):
            if message.role is Role.ASSISTANT and words in message.text:
                return session, i
    raise AssertionError(f"no reply says {words!r}")


def test_the_text_check_reads_a_no_show_in_words_and_catches_another_status_said_for_it():
    sessions = _dialogues("clinic", range(20))
    session, index = _reply_saying(sessions, "no-show")
    assert not [f for f in check_text_consistent(SessionView(session)) if index in f.messages]
    # the same reply saying "checked in" for the row whose status is no_show: a contradiction
    wrong = session.model_copy(deep=True)
    text = re.sub(r"\ba no-show\b|\bno-show\b", "checked in", wrong.messages[index].text)
    wrong.messages[index] = wrong.messages[index].model_copy(update={"content": text})
    findings = [f for f in check_text_consistent(SessionView(wrong)) if index in f.messages]
    assert findings, text
    assert any("no_show" in f.reason or "status" in f.reason for f in findings)


def test_the_text_check_reads_checked_in_in_words_and_catches_a_contradiction():
    sessions = _dialogues("airline", range(20))
    session, index = _reply_saying(sessions, "checked in")
    assert not [f for f in check_text_consistent(SessionView(session)) if index in f.messages]
    wrong = session.model_copy(deep=True)
    text = wrong.messages[index].text.replace("checked in", "cancelled")
    wrong.messages[index] = wrong.messages[index].model_copy(update={"content": text})
    assert [f for f in check_text_consistent(SessionView(wrong)) if index in f.messages], text


def _sentences(text: str) -> set[str]:
    """The sentences of a turn over two words, by their lower-cased words."""
    found = (re.findall(r"[a-z0-9]+(?:['-][a-z0-9]+)*", s.lower()) for s in re.split(r"(?<=[.!?])\s+", text))
    return {" ".join(words) for words in found if len(words) > 2}


def test_no_user_turn_says_again_a_sentence_of_the_users_latest_turns():
    # the corpus of bench/user_turns.py, its first 60 dialogues: on main four of them had a reaction
    # said twice in a row ("Great stuff, that's done.", "Oh good, that's seen to, thank you.")
    combos = list(itertools.product(pack_names(), ToolExecution, Mode))
    for seed in range(60):
        domain, execution, mode = combos[seed % len(combos)]
        session = run_to_end(create_session(domain, mode=mode, execution=execution, seed=seed, tasks=task_count(seed)))
        users = [m.text for m in session.messages if m.role is Role.USER]
        for i, text in enumerate(users):
            earlier = set().union(*(_sentences(t) for t in users[max(0, i - 12) : i]))
            assert not _sentences(text) & earlier, (seed, text, _sentences(text) & earlier)


def test_a_reaction_is_never_one_the_user_just_gave():
    said = "Ah good, that's that one ticked off."
    persona = Persona(politeness=1, verbosity=1, register="chatty")
    for seed in range(200):
        voice = Voice([], random.Random(seed), persona)
        voice.said = frozenset(sentence_keys(said))
        assert voice.task_done() != said
        assert "that one ticked off" not in voice.acknowledgement(None)


def test_the_text_check_reads_several_no_shows_as_their_status():
    # clinic task-oriented simulated seed 6: "Two appointments match, both no-shows."
    session = run_to_end(
        create_session(
            "clinic", mode=Mode.TASK_ORIENTED, execution=ToolExecution.SIMULATED, seed=6, tasks=task_count(6)
        )
    )
    index = next(i for i, m in enumerate(session.messages) if m.role is Role.ASSISTANT and "no-shows" in m.text)
    assert not [f for f in check_text_consistent(SessionView(session)) if index in f.messages]
    wrong = session.model_copy(deep=True)
    text = wrong.messages[index].text.replace("both no-shows", "both completed")
    wrong.messages[index] = wrong.messages[index].model_copy(update={"content": text})
    assert [f for f in check_text_consistent(SessionView(wrong)) if index in f.messages], text
