"""Identity: one coherent user, and created records whose fields belong together.

`identity`:
- the user is one person: the person records (rows with a name and an email) that lookups by
  an email or name the user gave returned, and the ids the task's goal gives the user ("You
  (ana@example.com, customer 16)", "You are patient 6"), name one record per table;
- the records the user calls "my ..." belong to that user: a row answering such a turn that
  carries the owner column (`customer_id` for customers) carries the user's id;
- a created record's fields belong together: a new record's name and email are one person's
  (the email is no earlier result's other person's, and an email made of name parts shares
  one with the name).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import Any

from turnloom.core.models import Role
from turnloom.core.quality.checks.finding import Finding
from turnloom.core.quality.checks.view import CallView, SessionView, contains_value, same_value, shown, singular

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MINE = re.compile(r"\b(my|mine|I have|I booked|I ordered)\b", re.IGNORECASE)
_SELF = re.compile(
    r"\b(?:I'm|I am|my name is|I manage|I run|I own|I represent)\s+([A-Z][\w'-]*(?:[ \t]+(?:[A-Z][\w'-]*|\d+\b))*)"
)
_SELF_OPENINGS = ("I'm", "I am", "my name is", "I manage", "I run", "I own", "I represent")
# who the goal says the user is: "You are Ana Lopez (ana@x.com)", "You (555-0101, subscriber 4)",
# "You are passenger 7 and want ...", "You manage Faro Mariners (club 3)": the name and its parentheses only
_YOU = re.compile(
    r"\bYou(?:\s+(?:are|manage|run|own|represent)\s+(?:[\w'-]+[ \t]+){0,3}?(?:\([^)]*\)|[\w'-]+\s*#?\d+)|\s*\([^)]*\))",
    re.IGNORECASE,
)
# "my name is", "off my list", "my mind": a "my" that claims no record
_NOT_MINE = re.compile(
    r"\b(?:for|in|on) my (?:records|files|notes|calendar)\b|\bmy\s+(?:name|list|mind|question|request|thanks|day|end|bad|apologies|understanding)\b",
    re.I,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def check_identity(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    people = _person_tables(view)
    ids = _user_ids(view, people)
    for table, seen in ids.items():
        distinct: dict[str, int] = {}
        for value, where in seen:
            distinct.setdefault(shown(value), where)
        if len(distinct) > 1:
            findings.append(
                Finding(
                    "identity",
                    tuple(sorted(set(distinct.values()))),
                    f"the user is {table} " + " and also ".join(distinct) + " in one dialogue",
                )
            )
    mine = {table: {shown(v) for v, _ in seen} for table, seen in ids.items()}
    for turn in view.user_turns():
        sentences, claims = _claims(view.messages[turn].text)
        if not claims:
            continue
        start, end = view.exchange(turn)
        others = [t for t in sentences if t not in claims]
        derived: set[str] = set()  # values found through a request another sentence made (a doctor's id by name)
        for call in view.calls_between(start, end):
            if not call.ok or call.writes:
                continue
            if not _answers(call, claims, others, derived):
                if _for_others(call, others, derived):
                    derived.update(
                        shown(v).lower()
                        for row in call.records()
                        for v in row.values()
                        if isinstance(v, (str, int, float)) and not isinstance(v, bool)
                    )
                continue
            for row in call.records():
                for table, owners in mine.items():
                    owner = row.get(f"{table}_id")
                    if owner is not None and call.table != table and shown(owner) not in owners:
                        findings.append(
                            Finding(
                                "identity",
                                (turn, call.result_index),
                                f"message {turn} asks about the user's own records, but the {call.table} "
                                f"{shown(row.get('id', '?'))} at message {call.result_index} belongs to {table} "
                                f"{shown(owner)}, not {' / '.join(sorted(owners))}",
                            )
                        )
    findings += _created_records(view)
    return findings


@functools.lru_cache(maxsize=4096)
def _claims(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A user turn's sentences, and those that claim something as the user's ("my bookings")
    (turns repeat from dialogue to dialogue: each is read once)."""
    sentences = tuple(_SENTENCE.split(text))
    return sentences, tuple(sentence for sentence in sentences if _MINE.search(_not_mine_removed(sentence)))


def _not_mine_removed(sentence: str) -> str:
    """`_NOT_MINE.sub("", sentence)`: an ASCII sentence without "my" in any case has nothing to remove."""
    if sentence.isascii() and "my" not in sentence.lower():
        return sentence
    return _NOT_MINE.sub("", sentence)


def _answers(call: CallView, claims: tuple[str, ...], others: list[str], derived: set[str]) -> bool:
    """Whether the call serves one of the "my ..." sentences: it uses a value the sentence names,
    or a claim names no value and the call is not for a value another sentence names, or found
    through one. In "I've got something to sort out with an account of mine. Which appointments
    has doctor 8?" the doctor's schedule is not claimed, nor in "... let me see the calendar of
    Owen Price" (the doctor found by name); in "What have I got booked? My email is ana@x.com."
    the bookings found through the email are."""
    values = _argument_values(call)
    if any(contains_value(sentence, v) for sentence in claims for v in values):
        return True
    if _for_others(call, others, derived):
        return False
    return any(not _NAMED.findall(sentence) for sentence in claims)


def _for_others(call: CallView, others: list[str], derived: set[str]) -> bool:
    values = _argument_values(call)
    return any(v.lower() in derived for v in values) or any(
        contains_value(sentence, v) for sentence in others for v in values
    )


def _argument_values(call: CallView) -> list[str]:
    return [shown(v) for v in call.arguments.values() if isinstance(v, (str, int, float))]


def _emails_in(text: str) -> set[str]:
    """`_EMAIL.findall(text)` as a set, searching only the whitespace-separated pieces that hold an "@": the
    pattern has no lookaround and matches no space, so it finds the same in a piece as in the whole text
    (where it is tried at every character)."""
    if "@" not in text:
        return set()
    return {email for piece in text.split() if "@" in piece for email in _EMAIL.findall(piece)}


_NAMED = re.compile(r"[\w.@+-]*\d[\w.@+-]*|[\w.+-]+@[\w.-]+")


def _created(view: SessionView) -> tuple[set[str], set[tuple[str, str]]]:
    """The emails and (table, id) of the records the dialogue created: someone the user signs up is not the user."""
    emails: set[str] = set()
    records: set[tuple[str, str]] = set()
    for call in view.calls:
        intent = call.intent
        if not call.ok or intent is None or intent.kind != "insert":
            continue
        emails.update(v.lower() for v in intent.fields.values() if isinstance(v, str) and _EMAIL.fullmatch(v))
        key = call.record_key()
        if key is not None:
            records.add((call.table, shown(key[1])))
    return emails, records


def _person_tables(view: SessionView) -> set[str]:
    tables = {c.table for c in view.calls for row in c.records() if "email" in row and "name" in row}
    for spec in view.session.tools:
        props = spec.parameters.get("properties", {})
        if spec.writes and "email" in props and "name" in props and spec.sql:
            table = _inserted_table(spec.sql)
            if table is not None:
                tables.add(table)
    return tables


@functools.lru_cache(maxsize=1024)
def _inserted_table(sql: str) -> str | None:
    match = re.search(r'INTO\s+"?(\w+)"?', sql, re.IGNORECASE)
    return singular(match.group(1).lower()) if match else None


def _user_ids(view: SessionView, people: set[str]) -> dict[str, list[tuple[Any, int]]]:
    """Person table -> (the user's id there, the message that shows it) for every sign of who the user is."""
    said = " ".join(m.text for m in view.messages if m.role is Role.USER)
    # each pattern is tried at every character: a text without an "@" (or an "I'm ...") has no match to find
    emails = _emails_in(said)
    # names the user gives as their own ("I'm Ana Lopez", "I manage Faro Mariners") identify them too
    if any(opening in said for opening in _SELF_OPENINGS):
        emails.update(name.strip().rstrip(".") for name in _SELF.findall(said))
    ids: dict[str, list[tuple[Any, int]]] = defaultdict(list)
    new_emails, new_records = _created(view)
    for task in view.session.tasks:
        for clause in _YOU.findall(task.goal):
            emails.update(_EMAIL.findall(clause))
            for table in people:
                for number in _numbered(table).findall(clause):
                    ids[table].append((int(number), task.introduced_at))
    for call in view.calls:
        if not call.ok or call.writes:
            continue
        asked = [
            v for v in call.arguments.values() if isinstance(v, str) and v in emails and v.lower() not in new_emails
        ]
        if asked and isinstance(call.value, dict) and "id" in call.value:
            if (call.table, shown(call.value["id"])) not in new_records:
                ids[call.table].append((call.value["id"], call.result_index))
    return ids


@functools.lru_cache(maxsize=256)
def _numbered(table: str) -> re.Pattern[str]:
    """ "customer 16", "patient #6": the table's name and a number."""
    return re.compile(rf"\b{table}\s*#?(\d+)\b", re.IGNORECASE)


def _created_records(view: SessionView) -> list[Finding]:
    findings: list[Finding] = []
    known: list[tuple[CallView, dict]] = []
    for call in view.calls:
        if not call.ok:
            continue
        if not call.writes:
            known += [(call, row) for row in call.records() if "email" in row and "name" in row]
            continue
        intent = call.intent
        if intent is None or intent.kind != "insert":
            continue
        name, email = intent.fields.get("name"), intent.fields.get("email")
        if not isinstance(name, str) or not isinstance(email, str):
            continue
        other = next(
            ((c, row) for c, row in known if same_value(row["email"], email) and not same_value(row["name"], name)),
            None,
        )
        if other is not None:
            findings.append(
                Finding(
                    "identity",
                    (call.step, other[0].result_index),
                    f"{call.name} at message {call.step} creates {name!r} with {email}, the email of "
                    f"{other[1]['name']!r} (message {other[0].result_index})",
                )
            )
            continue
        local = [t for t in re.split(r"[._\-+\d]+", email.split("@")[0].lower()) if len(t) > 1]
        words = {w for w in re.split(r"\W+", name.lower()) if w}
        if len(local) >= 2 and all(t.isalpha() for t in local) and not words & set(local):
            findings.append(
                Finding(
                    "identity",
                    (call.step,),
                    f"{call.name} at message {call.step} creates {name!r} with the email {email}, "
                    "which names someone else",
                )
            )
    return findings
