"""Defect injection: each mutator puts one known defect into a clean dialogue (`_clean_dialogues`).

A mutator takes a session and returns a changed deep copy, or None when the dialogue has nothing
to inject into (no create step in a domain without one, no write log in simulated execution).
`MUTATIONS` maps each defect class to its mutator and the check that must catch it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _clean_dialogues import render

from turnloom.core.lifecycle.dialogue import base_image
from turnloom.core.models import ChatMessage, MessageMeta, Role, Session, ToolCall, ToolSpec
from turnloom.core.quality.checks.view import CallView, SessionView, same_value, shown
from turnloom.core.tools.sqlenv import SqlEnvironment


@dataclass(frozen=True)
class Mutation:
    name: str
    expected: str  # the check that must catch it
    apply: Callable[[Session], Session | None]


def _copy(session: Session) -> Session:
    return session.model_copy(deep=True)


def _set_content(session: Session, index: int, text: str) -> None:
    session.messages[index] = session.messages[index].model_copy(update={"content": text})


def _reply_after(session: Session, index: int) -> int:
    return next(
        i
        for i in range(index + 1, len(session.messages))
        if session.messages[i].role is Role.ASSISTANT and session.messages[i].text
    )


def _swap_in_reply(session: Session, index: int, old: str, new: str) -> None:
    reply = _reply_after(session, index)
    _set_content(session, reply, session.messages[reply].text.replace(old, new))


def _calls(session: Session):
    return SessionView(session).calls


def _update_and_verify(session: Session):
    calls = _calls(session)
    write = next(c for c in calls if c.writes and c.intent and c.intent.kind == "update")
    key = write.record_key()
    verify = next(
        c
        for c in calls
        if not c.writes
        and c.result_index > write.result_index
        and c.value
        and isinstance(c.value, dict)
        and c.value.get("id") == key[1]
    )
    return write, verify


def unpersisted_write(session: Session) -> Session | None:
    """A later read of the written record shows the old value, and the reply quotes it."""
    s = _copy(session)
    write, verify = _update_and_verify(s)
    ((column, new),) = write.intent.fields.items()
    listing = next(
        c
        for c in _calls(s)
        if isinstance(c.value, list) and any(r.get("id") == verify.value["id"] for r in c.records())
    )
    old = next(r[column] for r in listing.records() if r.get("id") == verify.value["id"])
    row = dict(verify.value, **{column: old})
    _set_content(s, verify.result_index, json.dumps(row))
    _swap_in_reply(s, verify.result_index, render(verify.value), render(row))
    return s


def thanks_after_failure(session: Session) -> Session | None:
    """The account lookup finds nothing, the assistant says so, and the user thanks it anyway."""
    s = _copy(session)
    lookup = _calls(s)[0]
    _set_content(s, lookup.result_index, "null")
    reply = _reply_after(s, lookup.result_index)
    _set_content(s, reply, "I couldn't find an account with those details.")
    nxt = next(i for i in range(reply, len(s.messages)) if s.messages[i].role is Role.USER)
    if not re.match(r"\W*(thanks|great|perfect|that helps)", s.messages[nxt].text, re.I):
        _set_content(s, nxt, "Thanks. " + s.messages[nxt].text)
    return s


def complaint_after_served(session: Session) -> Session | None:
    """The user complains right after a request that was served."""
    s = _copy(session)
    turns = [i for i, m in enumerate(s.messages) if m.role is Role.USER]
    turn = turns[1]
    rest = re.sub(
        r"^\W*(Thanks|Great, thank you|Perfect, thanks|That helps, thanks|That solves it, thanks)[.!]?\s*",
        "",
        s.messages[turn].text,
    )
    _set_content(s, turn, "That's not quite what I asked. " + rest)
    return s


def contradicted_status(session: Session) -> Session | None:
    """A reply states a record's status (or another text field) other than the result's."""
    s = _copy(session)
    for call in _calls(s):
        for row in call.records():
            fields = [f for f in row if f == "status"] or [
                f for f in row if isinstance(row[f], str) and not f.endswith("_id") and "@" not in row[f]
            ]
            if not fields or "id" not in row:
                continue
            f = fields[0]
            reply = _reply_after(s, call.result_index)
            said = f"{f.replace('_', ' ')} {row[f]}"
            if said in s.messages[reply].text:
                other = "cancelled" if row[f] != "cancelled" else "active"
                line = next(
                    line
                    for line in s.messages[reply].text.splitlines()
                    if said in line and f"id {shown(row['id'])}" in line
                )
                _set_content(
                    s, reply, s.messages[reply].text.replace(line, line.replace(said, f"{f.replace('_', ' ')} {other}"))
                )
                return s
    return None


def swapped_email(session: Session) -> Session | None:
    """A new account is created with one person's name and another person's email."""
    s = _copy(session)
    create = next(
        (c for c in _calls(s) if c.writes and c.intent and c.intent.kind == "insert" and "email" in c.arguments), None
    )
    if create is None:
        return None
    lookup = _calls(s)[0]
    other = lookup.value["email"] if len(s.messages) % 2 else "omar.rossi@example.com"
    arguments = dict(create.arguments, email=other)
    step = s.messages[create.step]
    call = step.tool_calls[0].model_copy(update={"arguments": json.dumps(arguments)})
    s.messages[create.step] = step.model_copy(update={"tool_calls": [call]})
    for record in s.write_log:
        if record.tool_call_id == create.call_id:
            record.params["email"] = other
    return s


def foreign_record(session: Session) -> Session | None:
    """The user's "which ... do I have" is answered with another person's records."""
    s = _copy(session)
    listing = _calls(s)[1]
    owner_field = next(k for k in listing.arguments)
    mine = listing.arguments[owner_field]
    other = mine + 1
    rows = [dict(r, **{owner_field: other}) for r in listing.records()]
    step = s.messages[listing.step]
    call = step.tool_calls[0].model_copy(update={"arguments": json.dumps({owner_field: other})})
    s.messages[listing.step] = step.model_copy(update={"tool_calls": [call]})
    _set_content(s, listing.result_index, json.dumps(rows))
    reply = _reply_after(s, listing.result_index)
    text = s.messages[reply].text
    for before, after in zip(listing.records(), rows, strict=True):
        text = text.replace(render(before), render(after))
    _set_content(s, reply, text)
    return s


def placeholder(session: Session) -> Session | None:
    """A result holds a placeholder string (`cedar-19`), and the reply repeats it."""
    s = _copy(session)
    lookup = _calls(s)[0]
    row = dict(lookup.value)
    field = next(f for f in row if isinstance(row[f], str) and f not in ("email", "name"))
    changed = dict(row, **{field: "cedar-19"})
    _set_content(s, lookup.result_index, json.dumps(changed))
    _swap_in_reply(s, lookup.result_index, render(row), render(changed))
    return s


def stale_parallel(session: Session) -> Session | None:
    """The write and a read of the same record go out in one step; the read shows the old value."""
    s = _copy(session)
    write, verify = _update_and_verify(s)
    ((column, new),) = write.intent.fields.items()
    listing = next(
        c
        for c in _calls(s)
        if isinstance(c.value, list) and any(r.get("id") == verify.value["id"] for r in c.records())
    )
    old_row = next(r for r in listing.records() if r.get("id") == verify.value["id"])
    step = s.messages[write.step]
    read = ToolCall(id="call_stale", name=verify.name, arguments=json.dumps(verify.arguments))
    s.messages[write.step] = step.model_copy(update={"tool_calls": [*step.tool_calls, read]})
    result = ChatMessage(
        role=Role.TOOL,
        tool_call_id="call_stale",
        name=verify.name,
        content=json.dumps(old_row),
        meta=MessageMeta(task_index=0),
    )
    s.messages.insert(write.result_index + 1, result)
    for record in s.write_log:
        if record.message_index > write.result_index:
            record.message_index += 1
    for task in s.tasks:
        task.introduced_at += task.introduced_at > write.result_index
    reply = _reply_after(s, write.result_index + 1)
    _set_content(s, reply, s.messages[reply].text + f" Here it is now: {render(old_row)}.")
    return Session.model_validate(s.model_dump())


def dropped_key_field(session: Session) -> Session | None:
    """A reply about one record leaves out its status (or total, price, date)."""
    s = _copy(session)
    for call in _calls(s):
        if not isinstance(call.value, dict) or "id" not in call.value:
            continue
        row = call.value
        key = next(
            (
                f
                for f in row
                if re.search(r"status|total|price|fare|fee|amount|date|_on$", f)
                and row[f] is not None
                and not f.endswith("_id")
            ),
            None,
        )
        if key is None:
            continue
        reply = _reply_after(s, call.result_index)
        piece = f", {key.replace('_', ' ')} {shown(row[key])}"
        if render(row) in s.messages[reply].text:
            _set_content(s, reply, s.messages[reply].text.replace(render(row), render(row).replace(piece, "")))
            return s
    return None


def unstable_record(session: Session) -> Session | None:
    """The read-back of a record changes a field no write touched."""
    s = _copy(session)
    write, verify = _update_and_verify(s)
    field = next(
        f
        for f in verify.value
        if f not in write.intent.fields and f != "id" and not f.endswith("_id") and verify.value[f] is not None
    )
    value = verify.value[field]
    changed = dict(verify.value, **{field: value + 7 if isinstance(value, (int, float)) else f"{value} B"})
    _set_content(s, verify.result_index, json.dumps(changed))
    _swap_in_reply(s, verify.result_index, render(verify.value), render(changed))
    return s


def broken_aggregate(session: Session) -> Session | None:
    """A summary's average times its count is not its total."""
    s = _copy(session)
    summary = next((c for c in _calls(s) if c.name.endswith("_summary")), None)
    if summary is None or not isinstance(summary.value, dict):
        return None
    row = dict(summary.value)
    avg = next((f for f in row if f.startswith("avg_") and row[f] is not None), None)
    if avg is None:
        return None
    changed = dict(row, **{avg: round(row[avg] * 1.5 + 3.1, 2)})
    _set_content(s, summary.result_index, json.dumps(changed))
    _swap_in_reply(s, summary.result_index, render(row), render(changed))
    return s


def unapplied_write(session: Session) -> Session | None:
    """The write a subtask needs never reached the database (missing from, or altered in, the write log)."""
    if not session.write_log:
        return None
    s = _copy(session)
    write, _verify = _update_and_verify(s)
    record = next(r for r in s.write_log if r.tool_call_id == write.call_id)
    if len(s.messages) % 2:
        s.write_log.remove(record)
    else:
        ((column, _new),) = write.intent.fields.items()
        listing = next(
            c
            for c in _calls(s)
            if isinstance(c.value, list) and any(r.get("id") == write.record_key()[1] for r in c.records())
        )
        old = next(r[column] for r in listing.records() if r.get("id") == write.record_key()[1])
        record.params[column] = old
    return s


def change_after_cancel(session: Session) -> Session | None:
    """A record the listing showed cancelled is changed anyway: the status update becomes an update of
    another field of the same record (its seat, its shipping city), and the listing shows it cancelled."""
    s = _copy(session)
    calls = _calls(s)
    write = next((c for c in calls if c.writes and c.intent and c.intent.kind == "update"), None)
    if write is None:
        return None
    key = write.record_key()
    entity = write.name.removeprefix("update_").removesuffix("_status")
    listing = next(
        (
            c
            for c in calls
            if not c.writes and c.result_index < write.result_index and any(r.get("id") == key[1] for r in c.records())
        ),
        None,
    )
    if listing is None:
        return None
    row = next(r for r in listing.records() if r.get("id") == key[1])
    other = next(
        (t for t in s.tools if t.writes and t.name in {f"update_{entity}_{f}" for f in row if f != "status"}), None
    )
    if other is None:
        return None
    field = other.name.removeprefix(f"update_{entity}_")
    step = s.messages[write.step]
    changed = [
        c.model_copy(update={"name": other.name, "arguments": json.dumps({"id": key[1], field: "X1"})})
        if c.id == write.call_id
        else c
        for c in step.tool_calls
    ]
    s.messages[write.step] = step.model_copy(update={"tool_calls": changed})
    rows = [dict(r, status="cancelled") if r.get("id") == key[1] else r for r in listing.records()]
    _set_content(s, listing.result_index, json.dumps(rows if isinstance(listing.value, list) else rows[0]))
    return s


def repeated_read(session: Session) -> Session | None:
    """The account lookup is made a second time, in a step of its own, with no write in between (a warning)."""
    s = _copy(session)
    lookup = _calls(s)[0]
    at = lookup.result_index + 1
    again = [
        ChatMessage(
            role=Role.ASSISTANT,
            tool_calls=[ToolCall(id="call_again", name=lookup.name, arguments=json.dumps(lookup.arguments))],
        ),
        ChatMessage(
            role=Role.TOOL,
            tool_call_id="call_again",
            name=lookup.name,
            content=lookup.content,
            meta=MessageMeta(task_index=0),
        ),
    ]
    s.messages[at:at] = again
    for record in s.write_log:
        record.message_index += len(again) * (record.message_index >= at)
    return Session.model_validate(s.model_dump())


def same_record_again(session: Session) -> Session | None:
    """The account the first lookup showed is looked up again, in a step of its own, under another key
    (by id after by email) with no write in between: the tool really runs, and returns the same record."""
    view = SessionView(session)
    lookup = view.calls[0]
    rows = lookup.records()
    if not isinstance(lookup.value, dict) or len(rows) != 1:
        return None
    row = rows[0]
    other = next(
        (
            spec
            for spec in session.tools
            if not spec.writes
            and spec.name != lookup.name
            and "_by_" in spec.name
            and spec.parameters.get("required")
            and set(spec.parameters["required"]) <= set(row)
            and _table_of_spec(spec) == lookup.table
        ),
        None,
    )
    if other is None:
        return None
    arguments = {name: row[name] for name in other.parameters["required"]}
    with SqlEnvironment(base_image(session)) as db:  # the first lookup comes before any write
        result = db.execute(other, arguments)
    at = lookup.result_index + 1
    again = [
        ChatMessage(
            role=Role.ASSISTANT,
            tool_calls=[ToolCall(id="call_other_key", name=other.name, arguments=json.dumps(arguments))],
        ),
        ChatMessage(
            role=Role.TOOL,
            tool_call_id="call_other_key",
            name=other.name,
            content=result.content,
            meta=MessageMeta(task_index=0),
        ),
    ]
    return _insert(_copy(session), at, again)


def _table_of_spec(spec: ToolSpec) -> str:
    """The table a call of the tool touches, as the checks read it."""
    return CallView(0, -1, "", spec.name, {}, spec).table


def _insert(s: Session, at: int, messages: list[ChatMessage]) -> Session:
    """`messages` put in at index `at`; the write log and the tasks' starts move with what follows."""
    s.messages[at:at] = messages
    for record in s.write_log:
        record.message_index += len(messages) * (record.message_index >= at)
    for task in s.tasks:
        task.introduced_at += len(messages) * (task.introduced_at >= at)
    return Session.model_validate(s.model_dump())


def reasked_request(session: Session) -> Session | None:
    """The user asks again for a record the assistant just showed, and gets the same answer again."""
    s = _copy(session)
    view = SessionView(s)
    calls = view.calls
    candidates = [
        c
        for c in calls
        if c.ok
        and not c.writes
        and isinstance(c.value, dict)
        and not any(w.writes and w.table == c.table and w.step > c.step for w in calls)
    ]
    if not candidates:
        return None
    read = candidates[-1]
    reply = _reply_after(s, read.result_index)
    at = next((i for i in range(reply, len(s.messages)) if s.messages[i].role is Role.USER), len(s.messages))
    again = [
        ChatMessage(role=Role.USER, content="Sorry, one more time: could you show me that record again?"),
        ChatMessage(
            role=Role.ASSISTANT,
            tool_calls=[ToolCall(id="call_reask", name=read.name, arguments=json.dumps(read.arguments))],
        ),
        ChatMessage(role=Role.TOOL, tool_call_id="call_reask", name=read.name, content=read.content),
        ChatMessage(role=Role.ASSISTANT, content=f"Here it is: {render(read.value)}."),
    ]
    return _insert(s, at, again)


def thanks_after_failed_write(session: Session) -> Session | None:
    """The update fails, the assistant says so, and the user thanks it as if it had worked."""
    s = _copy(session)
    write = next((c for c in _calls(s) if c.writes and c.intent and c.intent.kind == "update"), None)
    if write is None:
        return None
    s.messages[write.result_index] = s.messages[write.result_index].model_copy(
        update={
            "content": json.dumps({"error": "database is locked", "type": "sql_error"}),
            "meta": s.messages[write.result_index].meta.model_copy(update={"tool_error": True}),
        }
    )
    s.write_log = [r for r in s.write_log if r.tool_call_id != write.call_id]
    reply = _reply_after(s, write.result_index)
    _set_content(s, reply, re.sub(r"Done: [^\n]*", "That didn't work: the database is locked.", s.messages[reply].text))
    nxt = next(i for i in range(reply, len(s.messages)) if s.messages[i].role is Role.USER)
    if not re.match(r"\W*(thanks|great|perfect|that helps|that solves)", s.messages[nxt].text, re.I):
        _set_content(s, nxt, "Thanks. " + s.messages[nxt].text)
    return s


def _changes_of_a_read_record(s: Session, view: SessionView, same_exchange: bool):
    """(write, column, new value, the row a read before the write showed) for each one-field update whose
    record a read showed with another value (`same_exchange`: a read since the user's last turn)."""
    for write in view.calls:
        if not (write.writes and write.intent and write.intent.kind == "update" and len(write.intent.fields) == 1):
            continue
        ((column, new),) = write.intent.fields.items()
        key = write.record_key()
        since = max((i for i in range(write.step) if s.messages[i].role is Role.USER), default=0)
        before = next(
            (
                row
                for c in view.calls
                if not c.writes and (since if same_exchange else -1) < c.step < write.step
                for row in c.records()
                if key is not None and same_value(row.get(key[0]), key[1]) and column in row
            ),
            None,
        )
        if before is not None and not same_value(before[column], new):
            yield write, column, new, before


def stale_after_change(session: Session) -> Session | None:
    """After saying it changed a field, the reply reports the record with the value the write replaced."""
    s = _copy(session)
    for write, column, _, before in _changes_of_a_read_record(s, SessionView(s), same_exchange=False):
        reply = _reply_after(s, write.result_index)
        _set_content(
            s,
            reply,
            s.messages[reply].text + f"\n\nThe {column.replace('_', ' ')} of that record is {shown(before[column])}.",
        )
        return s
    return None


def old_value_reported(session: Session) -> Session | None:
    """A reply after a read and a change of one record reports the value the change replaced, never the new one."""
    s = _copy(session)
    for write, column, new, before in _changes_of_a_read_record(s, SessionView(s), same_exchange=True):
        reply = _reply_after(s, write.result_index)
        text = s.messages[reply].text.replace(shown(new), shown(before[column]))
        _set_content(s, reply, text + f"\n\nThe {column.replace('_', ' ')} of that record is {shown(before[column])}.")
        return s
    return None


# what a real model does when a role slips: caught by `in_role`


def _turns(session: Session, role: Role) -> list[int]:
    """The indices of `role`'s messages with text (the assistant's replies, not its calls)."""
    return [i for i, m in enumerate(session.messages) if m.role is role and m.text and not m.tool_calls]


def _later_user_turn(session: Session) -> int | None:
    turns = _turns(session, Role.USER)
    return turns[1] if len(turns) > 1 else None


def _with_user_text(session: Session, make: Callable[[str], str]) -> Session | None:
    s = _copy(session)
    at = _later_user_turn(s)
    if at is None:
        return None
    _set_content(s, at, make(s.messages[at].text))
    return s


def user_as_assistant(session: Session) -> Session | None:
    """A user turn in the agent's voice: the simulator answered as the assistant."""
    return _with_user_text(session, lambda _: "Is there anything else I can help you with today?")


def simulator_json(session: Session) -> Session | None:
    """The user simulator's structured reply was taken as the user's words, unpacked by nobody."""
    return _with_user_text(
        session, lambda text: json.dumps({"user_message": text, "subtasks": [2], "is_task_complete": False})
    )


def subtask_leak(session: Session) -> Session | None:
    """The user turn reads out its hidden task's step."""
    return _with_user_text(session, lambda text: f"Subtask 2: {text}")


def _with_reply_text(session: Session, make: Callable[[Session, int], str]) -> Session | None:
    s = _copy(session)
    replies = _turns(s, Role.ASSISTANT)
    if not replies:
        return None
    _set_content(s, replies[0], make(s, replies[0]))
    return s


def tool_call_as_text(session: Session) -> Session | None:
    """The model wrote its next tool call into the reply instead of making it (a template without a parser)."""

    def text(s: Session, at: int) -> str:
        call = next((m.tool_calls[0] for m in s.messages[at:] if m.tool_calls), None)
        name, arguments = (call.name, call.arguments) if call else ("get_record", "{}")
        return f'<tool_call>{{"name": "{name}", "arguments": {arguments}}}</tool_call>'

    return _with_reply_text(session, text)


def reasoning_in_reply(session: Session) -> Session | None:
    """A reasoning model's trace left in the reply's text."""
    return _with_reply_text(
        session, lambda s, at: "<think>The user asked for this; I have the result.</think>\n" + s.messages[at].text
    )


def assistant_as_user(session: Session) -> Session | None:
    """The assistant signs off as if it were the user."""
    return _with_reply_text(session, lambda s, at: "Thanks, that's all I needed. Bye!")


def repeated_reply(session: Session) -> Session | None:
    """A reply repeats an earlier one word for word, with values its own results do not hold."""
    s = _copy(session)
    replies = _turns(s, Role.ASSISTANT)
    for first, later in zip(replies, replies[1:], strict=False):
        since = max(i for i in range(later) if s.messages[i].role is Role.USER)
        results = "\n".join(m.text for m in s.messages[since:later] if m.role is Role.TOOL)
        values = re.findall(r"\d[\d.:-]*\d|\d", s.messages[first].text)
        if results and any(v not in results for v in values) and len(s.messages[first].text.split()) >= 6:
            _set_content(s, later, s.messages[first].text)
            return s
    return None


def user_repeats_a_turn(session: Session) -> Session | None:
    """The user says an earlier turn again, word for word (a simulator in a loop)."""
    s = _copy(session)
    turns = [i for i in _turns(s, Role.USER) if len(s.messages[i].text.split()) >= 6]
    if len(turns) < 2:
        return None
    _set_content(s, turns[-1], s.messages[turns[0]].text)
    return s


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("unpersisted write", "write_confirmed", unpersisted_write),
    Mutation("thanks after a failure", "feedback", thanks_after_failure),
    Mutation("complaint after a served request", "feedback", complaint_after_served),
    Mutation("thanks after a failed write", "feedback", thanks_after_failed_write),
    Mutation("request asked again after it was answered", "reask", reasked_request),
    Mutation("stale value after the change", "text_consistent", stale_after_change),
    Mutation("old value reported beside the change", "text_consistent", old_value_reported),
    Mutation("contradicted status", "text_consistent", contradicted_status),
    Mutation("dropped key field", "text_consistent", dropped_key_field),
    Mutation("swapped email", "identity", swapped_email),
    Mutation("someone else's records", "identity", foreign_record),
    Mutation("placeholder string", "simulated_values", placeholder),
    Mutation("unstable record", "simulated_values", unstable_record),
    Mutation("broken aggregate", "simulated_values", broken_aggregate),
    Mutation("stale parallel read", "stale_read", stale_parallel),
    Mutation("write not applied", "effects", unapplied_write),
    Mutation("repeated read", "repeated_read", repeated_read),
    Mutation("same record read under another key", "repeated_read", same_record_again),
    Mutation("change to a cancelled record", "closed_record", change_after_cancel),
    Mutation("user speaks as the assistant", "in_role", user_as_assistant),
    Mutation("simulator JSON as the user's words", "in_role", simulator_json),
    Mutation("hidden subtask read out", "in_role", subtask_leak),
    Mutation("tool call written as text", "in_role", tool_call_as_text),
    Mutation("reasoning left in the reply", "in_role", reasoning_in_reply),
    Mutation("assistant speaks as the user", "in_role", assistant_as_user),
    Mutation("reply repeated from another exchange", "in_role", repeated_reply),
    Mutation("user repeats a turn word for word", "in_role", user_repeats_a_turn),
)


def detected(findings: list[Any], expected: str) -> bool:
    return any(f.check == expected for f in findings)
