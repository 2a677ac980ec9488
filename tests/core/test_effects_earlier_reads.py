"""`effects` follows a request through a record an earlier task found: "my orders" answered with
customer_id 15 after task 1 looked customer 15 up by email, and only with that id."""

from __future__ import annotations

import asyncio
import json

from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import Role
from turnloom.core.quality.checks.effects import check_effects
from turnloom.core.quality.checks.view import SessionView


def _finished(domain: str, seed: int):
    session = create_session(domain, seed=seed, tasks=3)
    engine = open_engine(session)
    asyncio.run(engine.run())
    engine.environment.close()
    return session


def _served_through_an_earlier_task(session) -> list[tuple[int, str, int]]:
    """(message, argument, person id) of the calls of a task of reads about a person by email that never
    looks the email up itself: the person was found by an earlier task. (A change can also be tied to
    the person through records an earlier task listed; reads about them only through their id. A call
    that also carries another value the task names (an order's date) or another record's id (a doctor
    the task found by name) is tied by that too, so it is left out.)"""
    writes = {spec.name for spec in session.tools if spec.writes}
    view = SessionView(session)
    hits = []
    for t, task in enumerate(session.tasks):
        start, end = view.task_window(t)
        emails = {v for s in task.subtasks for v in s.slots.values() if isinstance(v, str) and "@" in v}
        found: dict[object, str] = {}
        for message in session.messages[:start]:
            if message.role is Role.TOOL and (message.name or "").endswith("_by_email"):
                row = json.loads(message.content)
                if isinstance(row, dict) and row.get("email") in emails:
                    found[row["id"]] = row["email"]
        window = session.messages[start:end]
        called = [c for m in window for c in m.tool_calls]
        if not found or any(c.name in writes for c in called):
            continue
        if any(e in (c.arguments or "") for c in called for e in found.values()):
            continue
        named = {v for s in task.subtasks for v in s.slots.values()}
        for offset, message in enumerate(window):
            for call in message.tool_calls:
                arguments = call.parsed_arguments()
                if any(v in named if not n.endswith("_id") else v not in found for n, v in arguments.items()):
                    continue  # also tied to the task by another value (an order's date, a doctor it found by name)
                for name, value in arguments.items():
                    if name.endswith("_id") and value in found:
                        hits.append((start + offset, name, value))
    return hits


def test_a_request_answered_with_the_id_an_earlier_task_found_is_accepted_and_a_wrong_id_is_not():
    checked = 0
    for domain in ("retail", "clinic", "airline", "telecom"):
        for seed in range(30):
            session = _finished(domain, seed)
            hits = _served_through_an_earlier_task(session)
            if not hits:
                continue
            assert check_effects(SessionView(session)) == [], (domain, seed)
            # the same dialogue with those calls asking about someone else (their results unchanged):
            # nothing ties the answers to the person the task named any more
            for index, name, _ in hits:
                for call in session.messages[index].tool_calls:
                    arguments = call.parsed_arguments()
                    if name in arguments:
                        arguments[name] = 987654
                        call.arguments = json.dumps(arguments)
            findings = check_effects(SessionView(session))
            assert any("no read with" in f.reason or "no successful write" in f.reason for f in findings), (
                domain,
                seed,
            )
            checked += 1
    assert checked >= 3
