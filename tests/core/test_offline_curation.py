"""What a curator reading offline dialogues caught, held as specifications.

- the user never takes in their own name or their own details as news ("Thank you, Simon Ekman, understood.");
- nobody asks to see again what the conversation shows as it stands, and a change to a record just
  shown does not read it again first;
- a cancelled booking's bags went back to their owner, and a bag is loaded only once its flight left;
- a link to another record reads as "plan 3", never as a field name ("plan ID").
"""

from __future__ import annotations

import json
import random
import re
import sqlite3

from turnloom.core.domains import get_pack
from turnloom.core.lifecycle.dialogue import create_session, open_engine, run_to_end
from turnloom.core.models import Mode, Role, Session, ToolExecution
from turnloom.core.players.offline.identity import draw_identity
from turnloom.core.players.offline.voice import echo_of

SIMON = {
    "id": 2,
    "name": "Simon Ekman",
    "email": "simon.ekman@example.com",
    "phone": "21-555-7851",
    "birth_date": "2001-03-21",
    "city": "Braga",
}
SAID = "Sure. For Simon Ekman (patient 2), they were born on 2001-03-21 and their city is Braga."


def _dialogues(domains, seeds, execution=ToolExecution.SQL, mode=Mode.USER_ORIENTED) -> list[Session]:
    return [
        run_to_end(create_session(domain, mode=mode, execution=execution, seed=seed, tasks=3))
        for domain in domains
        for seed in seeds
    ]


def test_an_echo_of_the_users_own_record_never_repeats_their_name_or_details():
    own = frozenset({"simon ekman", "simon.ekman@example.com", "21-555-7851"})
    for seed in range(30):
        assert echo_of(SIMON, SAID, random.Random(seed), own) is None
    # someone else's record may be echoed: its name, city or date
    assert any(echo_of(SIMON, SAID, random.Random(seed)) == ("value", "Simon Ekman") for seed in range(30))
    # of their own record, news is still news
    assert echo_of({**SIMON, "status": "suspended"}, SAID + " They're suspended.", random.Random(0), own) == (
        "status",
        "suspended",
    )


def test_no_user_turn_says_the_users_own_name_after_they_introduced_themselves():
    for session in _dialogues(("clinic", "telecom", "airline", "retail"), range(12)):
        name = session.tasks[0].goal.removeprefix("You are ").split(" (")[0]
        later = [m.text for m in session.messages if m.role is Role.USER][1:]
        assert not any(name in text for text in later), (session.config.seed, name, later)


def test_clinic_seed_5_neither_asks_for_nor_reads_again_the_file_it_just_showed():
    (session,) = _dialogues(("clinic",), (5,))
    _assert_no_standing_record_is_asked_again(session)


def test_no_request_opens_a_task_by_asking_for_a_record_the_conversation_shows_as_it_stands():
    for session in _dialogues(("clinic", "airline", "retail", "telecom", "football"), range(10)):
        _assert_no_standing_record_is_asked_again(session)


def _assert_no_standing_record_is_asked_again(session: Session) -> None:
    """No user turn asks only to see a record the page shows as it stands, and a change made by a
    record's id does not read that record again first when the page shows it as it stands."""
    specs = {t.name: t for t in session.tools}
    standing: list[dict] = []
    before_turn: list[dict] = []  # what stood when the latest user turn was said
    reads_of_turn: list[dict | None] = []  # the one-record reads the latest user turn led to
    calls = {}
    for message in session.messages:
        if message.role is Role.USER:
            _assert_not_only_shown_again(session, reads_of_turn, before_turn)
            before_turn, reads_of_turn = list(standing), []
        for call in message.tool_calls:
            calls[call.id] = call
        if message.role is not Role.TOOL:
            continue
        call = calls[message.tool_call_id]
        result = json.loads(message.content or "null")
        if specs[call.name].writes:
            standing = [] if result.get("rowcount") else standing
            reads_of_turn.append(None)  # a turn that changes something asks for more than a look
            continue
        one = specs[call.name].returns == "one" and isinstance(result, dict) and "id" in result
        reads_of_turn.append(result if one else None)
        if one:
            arguments = call.parsed_arguments()
            if set(arguments) == {"id"} and result in standing:
                assert not _turn_writes_by_id(session, message, arguments["id"]), (session.config.seed, call.name)
            standing.append(result)
    _assert_not_only_shown_again(session, reads_of_turn, before_turn)


def _assert_not_only_shown_again(session: Session, reads: list[dict | None], before: list[dict]) -> None:
    assert not (reads and all(r is not None and r in before for r in reads)), (session.config.seed, reads)


def _turn_writes_by_id(session: Session, read, record_id) -> bool:
    """Whether the user turn of `read` goes on to change a record by that id (read, then changed)."""
    k = session.messages.index(read)
    end = next((j for j in range(k, len(session.messages)) if session.messages[j].role is Role.USER), None)
    specs = {t.name: t for t in session.tools}
    return any(
        specs[c.name].writes and c.parsed_arguments().get("id") == record_id
        for m in session.messages[k:end]
        for c in m.tool_calls
    )


def test_a_cancelled_bookings_bags_went_back_and_a_bag_is_loaded_only_once_its_flight_left():
    pack = get_pack("airline")
    conn = sqlite3.connect(":memory:")
    conn.executescript(pack.schema_sql)
    pack.populate(conn, random.Random(pack.data_seed))
    rows = conn.execute(
        "SELECT b.status, k.status, f.status FROM bags b JOIN bookings k ON k.id = b.booking_id"
        " JOIN flights f ON f.id = k.flight_id"
    ).fetchall()
    assert rows
    assert all(bag == "delivered" for bag, booking, _ in rows if booking == "cancelled")  # back with their owner
    assert all(bag == "checked" for bag, booking, flight in rows if flight != "departed" and booking != "cancelled")
    assert all(bag in ("loaded", "delivered") for bag, _, flight in rows if flight == "departed")


def test_simulated_bags_fit_their_booking_and_flight():
    sessions = _dialogues(("airline",), range(20), execution=ToolExecution.SIMULATED)
    seen = 0
    for session in sessions:
        bookings: dict[int, dict] = {}
        cancelled_here: set[int] = set()  # cancelled in the dialogue: its bags were checked in before
        for message in session.messages:
            for call in message.tool_calls:
                if call.name == "update_booking_status":
                    cancelled_here.add(call.parsed_arguments().get("id"))
            if message.role is not Role.TOOL:
                continue
            result = json.loads(message.content or "null")
            rows = result if isinstance(result, list) else [result]
            for row in rows:
                if isinstance(row, dict) and "flight_id" in row and "cabin" in row:
                    bookings[row["id"]] = row
                if isinstance(row, dict) and "tag_number" in row and row.get("booking_id") in bookings:
                    seen += 1
                    booking = bookings[row["booking_id"]]
                    if booking["status"] == "cancelled" and booking["id"] not in cancelled_here:
                        # never loaded or checked in for a trip that was off before the dialogue began
                        assert row["status"] == "delivered", (session.config.seed, row)
    assert seen >= 5


def test_a_change_of_link_says_the_linked_record_not_a_field_name():
    texts = [
        m.text
        for session in _dialogues(("telecom", "football", "retail"), range(8))
        for m in session.messages
        if m.role is Role.ASSISTANT and m.text
    ]
    assert not [t for t in texts if " ID" in t], [t for t in texts if " ID" in t][:3]
    assert any(
        re.search(r"switched that subscriber to (?:the new plan|plan \d+)|has a new plan|is now plan", t) for t in texts
    )


def test_the_user_is_drawn_with_what_identifies_them():
    session = create_session("clinic", seed=5, tasks=1)
    person = draw_identity(open_engine(session).environment, 5)
    assert {person.name.lower(), person.email.lower(), str(person.row["phone"]).lower()} <= person.identifiers()


_NAMED_BY_ID = re.compile(r"\b(?:player|club|doctor|product|plan)\s*(?:#|no\.\s*|number\s+)?\d+\b", re.I)


def test_a_check_of_a_change_asked_by_name_names_the_record_by_name_too():
    checked = 0
    for session in _dialogues(("football", "telecom", "clinic"), range(20)):
        users = [m for m in session.messages if m.role is Role.USER]
        for k, turn in enumerate(users):
            if not (turn.meta.notes and turn.meta.notes.verify):
                continue
            subtask = turn.meta.notes.verify[0]
            asked = next(
                (
                    m
                    for m in reversed(users[:k])
                    if subtask in m.meta.subtasks and m.meta.task_index == turn.meta.task_index
                ),
                None,
            )
            if asked is None or _NAMED_BY_ID.search(asked.text):
                continue
            checked += 1
            assert not _NAMED_BY_ID.search(turn.text), (session.config.seed, asked.text, turn.text)
    assert checked >= 5
