"""A curator's note: "their phone is 21-555-2144 ... Done. I've updated that patient's phone." — an answer
after reading a record and changing it in the same exchange reports the record as the change left it."""

from __future__ import annotations

from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, Role, ToolExecution
from turnloom.core.quality.checks.view import SessionView, same_value, shown


def test_a_record_read_and_changed_in_one_exchange_is_reported_with_its_new_value():
    examined = 0
    for domain in ("clinic", "telecom", "airline", "football", "retail"):
        for seed in range(12):
            for execution in ToolExecution:
                session = run_to_end(
                    create_session(domain, mode=Mode.TASK_ORIENTED, execution=execution, seed=seed, tasks=3)
                )
                view = SessionView(session)
                for write in view.calls:
                    if not (write.ok and write.writes and write.intent and write.intent.kind == "update"):
                        continue
                    key = write.record_key()
                    since = max(i for i in range(write.step) if session.messages[i].role is Role.USER)
                    reply = next(
                        i
                        for i in range(write.result_index, len(session.messages))
                        if session.messages[i].role is Role.ASSISTANT and session.messages[i].text
                    )
                    text = session.messages[reply].text
                    for read in view.calls:
                        if read.writes or not since < read.step < write.step or read.table != write.table:
                            continue
                        for row in read.records():
                            if key is None or not same_value(row.get(key[0]), key[1]):
                                continue
                            for column, new in write.intent.fields.items():
                                old = row.get(column)
                                if old is None or same_value(old, new) or shown(old) not in text:
                                    continue
                                examined += 1
                                assert shown(new) in text, (domain, seed, execution, reply, column, text)
    assert examined >= 5  # the dialogues hold such exchanges: the assertion above was reached
