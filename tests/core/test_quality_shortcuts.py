"""The gate's shortcuts give the answers of the plain computations they replace.

Speed work on the checks (issue 13's cost figure) reads each call's later replies once whatever
end a check asks about, masks a field's matches without a second regex pass, counts listed rows
from results the view parsed, and skips records that have no key field. Each is checked here
against the plain computation on real offline dialogues (every domain, both executions and
modes), in shuffled order where order could matter. bench/verdict_regression.py compares whole
verdicts byte for byte over 2,372 sessions.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, Role, ToolExecution
from turnloom.core.quality.checks import text
from turnloom.core.quality.checks.view import SessionView, shown
from turnloom.core.quality.grounding import stands_in, stated_values, ungrounded_values


@pytest.fixture(scope="module")
def sessions():
    out = []
    for n, domain in enumerate(pack_names()):
        for execution in ToolExecution:
            for mode in Mode:
                out.append(run_to_end(create_session(domain, mode=mode, execution=execution, seed=700 + n, tasks=3)))
    return out


def _stated_after_plainly(view: SessionView, call, end: int) -> bool:
    given = {shown(v).lower() for v in call.arguments.values() if not isinstance(v, (dict, list))}
    values = call.shown_values - given
    return any(
        any(stands_in(view.messages[i].text.lower(), v) for v in values)
        for i in range(call.result_index + 1, end)
        if view.messages[i].role is Role.ASSISTANT and view.messages[i].text.strip()
    )


def test_stated_after_answers_every_end_in_any_order_as_a_fresh_scan_does(sessions):
    rng = random.Random(13)
    asked = 0
    for session in sessions:
        view = SessionView(session)
        questions = [(c, end) for c in view.calls if c.ok for end in range(c.result_index, len(session.messages) + 1)]
        rng.shuffle(questions)
        for call, end in questions:
            assert view.stated_after(call, end) == _stated_after_plainly(view, call, end), (call.name, end)
            asked += 1
    assert asked > 1000


def _stated_fields_plainly(line: str, fields: list[str]):
    out, masked = [], line
    for name in fields:
        if text._human(name) not in line.lower():
            continue
        pattern = text._field_pattern(name)
        for match in pattern.finditer(masked):
            ref = match.group("ref")
            value = match.group("v") if ref is not None else match.group("v2")
            if value is not None:
                out.append((name, value.strip().strip("'\""), ref.strip() if ref else None))
        masked = pattern.sub(lambda m: "\0" * len(m.group(0)), masked)
    return out


def test_a_fields_matches_are_masked_as_a_substitution_masks_them(sessions):
    lines = [
        "Booking 2: status confirmed, status of booking 3 is cancelled; total 12.5 and total: 13",
        "the status is paid, the status is paid, price 4 price 5",
        "statuses: status paid; substatus 4, status: 5 and Status of order 7 is STATUS open",
        "ſtatus paid, status open",  # a long s matches "s" ignoring case, and lower() leaves it: scanned
        "İstanbul: status paid, total 4",  # lower() makes two characters of one: scanned
    ]
    lines += [line for s in sessions for m in s.messages if m.role is Role.ASSISTANT for line in m.text.splitlines()]
    fields = ["status", "total", "price", "departure_date", "base_fare", "email", "name", "seat", "cabin"]
    fields.sort(key=lambda f: -len(f))
    stated = 0
    for line in lines:
        expected = _stated_fields_plainly(line, fields)
        assert list(text._stated_fields(line, fields)) == expected, line
        stated += len(expected)
    assert stated > 50


def test_grounding_counts_the_rows_the_view_parsed_as_it_counts_them_itself(sessions):
    for session in sessions:
        view = SessionView(session)
        listed = {c.result_index: len(c.value) for c in view.calls if isinstance(c.value, list)}
        assert listed or session.config.execution is ToolExecution.SIMULATED
        assert ungrounded_values(session.messages, listed=listed) == ungrounded_values(session.messages)
    # a count the caller gives is the one used: the shortcut is really taken
    reply = next(i for i, m in enumerate(sessions[0].messages) if m.role is Role.TOOL and m.text.startswith("["))
    assert ungrounded_values(sessions[0].messages[: reply + 1], listed={reply: 7}) == []


def test_a_record_without_a_key_field_is_never_reported_as_missing_one():
    # the early exit in `_left_out` is sound: with no status, key field or date there is nothing to miss
    view_text = "Customer 4: name Ana Lopez, city Porto"
    row = {"id": 4, "name": "Ana Lopez", "city": "Porto", "status": None}

    class _Call:
        result_index = 1
        value = row

    record = text._Record("customer", row, _Call(), listed=False)  # type: ignore[arg-type]
    assert not text._has_key_fields(record)
    assert text._left_out(2, view_text, [record]) == []
    with_status = text._Record("customer", {**row, "status": "active"}, _Call(), listed=False)  # type: ignore[arg-type]
    assert text._has_key_fields(with_status)
    (finding,) = text._left_out(2, view_text, [with_status])
    assert re.search(r"without its status \(active\)", finding.reason)


def _same_value_plainly(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    try:
        return abs(float(a) - float(b)) < 0.005 + 1e-9 * abs(float(a))
    except (TypeError, ValueError):
        return str(a).strip().lower() == str(b).strip().lower()


def test_same_value_compares_numberless_text_as_text_as_the_number_parse_would_fall_back_to(sessions):
    from turnloom.core.quality.checks.view import same_value

    values = [
        "Paid",
        "paid ",
        "12",
        "12.0",
        " 12 ",
        "1_000",
        "1000",
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "Ninja",
        "info",
        "\u0661\u0662",
        "12",
        "x1",
        "",
        " ",
        "1e3",
        12,
        12.0,
        12.004,
        1000,
        10**9,
        10**9 + 1,
        0.0,
        -0.0,
        True,
        False,
        None,
        [1],
        {"a": 1},
        float("nan"),
        float("inf"),
        "None",
        "true",
    ]
    values += [v for s in sessions[:4] for c in SessionView(s).calls for row in c.records() for v in row.values()]
    compared = 0
    for a in values:
        for b in values[:40]:
            assert same_value(a, b) == _same_value_plainly(a, b), (a, b)
            assert same_value(b, a) == _same_value_plainly(b, a), (b, a)
            compared += 2
    assert compared > 10_000


def test_a_sentence_without_my_has_nothing_the_not_mine_pattern_removes(sessions):
    from turnloom.core.quality.checks import identity

    sentences = ["For MY records, thanks.", "My name is Ana.", "Off my list", "in My Files", "Nothing here.", "amy"]
    sentences += [part for s in sessions for m in s.messages if m.role is Role.USER for part in m.text.split(". ")]
    removed = 0
    for sentence in sentences:
        expected = identity._NOT_MINE.sub("", sentence)
        assert identity._not_mine_removed(sentence) == expected, sentence
        removed += expected != sentence
    assert removed >= 3


def test_what_the_checks_remember_of_texts_changes_no_finding(sessions):
    """Texts repeat from dialogue to dialogue (a reply's line, a record's result): the checks read each
    once per batch. A dialogue judged after the others gives what it gives judged first."""
    from turnloom.core.quality.checks import forget_texts, run_checks

    first = []
    for session in sessions:
        forget_texts()
        first.append(run_checks(session, live=True))
    order = list(range(len(sessions))) * 2
    random.Random(7).shuffle(order)
    for n in order:
        assert run_checks(sessions[n], live=True) == first[n]
    assert sum(len(found) for found in first) > 0


def test_each_remembered_reading_of_a_text_is_the_plain_reading(sessions):
    from turnloom.core.quality.checks import effects, feedback, identity
    from turnloom.core.quality.grounding import _VALUE

    texts = [m.text for s in sessions for m in s.messages if m.text]
    texts += [
        "x@y.co 2025-01-02 and 3.5.",
        "booking #7 and TL269",
        "Thanks! That's not what I asked",
        "My list. My bookings.",
    ]
    for t in texts * 2:  # the second time from the caches
        assert stated_values(t) == [v.rstrip(".") for v in _VALUE.findall(t)], t
        for line in t.splitlines():
            assert text._refs(line) == tuple(
                ((text.singular(w.lower()), v), v.lower()) for w, v in text._REF_ID.findall(line)
            ), line
        first = feedback.opening(t)
        thanks = bool(feedback.THANKS.search(first)) and not feedback.COMPLAINT.search(t)
        assert (feedback._opening(t), feedback._thanks(t)) == (first, thanks), t
        assert feedback._opens_with_complaint(t) == bool(feedback.COMPLAINT.search(first)), t
        sentences = identity._SENTENCE.split(t)
        claims = [x for x in sentences if identity._MINE.search(identity._NOT_MINE.sub("", x))]
        assert identity._claims(t) == (tuple(sentences), tuple(claims)), t
    values = {v for s in sessions for c in SessionView(s).calls for row in c.records() for v in row.values()}
    values |= {"12", " 12.004 ", "nan", "Inf", "TL269", "Ana ", "1e3"}
    for v in [v for v in values if isinstance(v, str)] * 2:
        try:
            plain = f"n{round(float(v), 2)}"
        except ValueError:
            plain = "s" + v.strip().lower()
        assert effects._value_key(v) == plain, v
    for session in sessions:
        for call in SessionView(session).calls:
            assert call.shown_values == call._shown_values(), call.name
            assert call.signature == call.name + json.dumps(call.arguments, sort_keys=True)
    from turnloom.core.quality.checks import view

    results = [m.text for s in sessions for m in s.messages if m.role is Role.TOOL]
    for t in [*results, "not json", "", "[1, 2", '{"a": [1, {"b": null}]}'] * 2:
        try:
            plain = json.loads(t)
        except json.JSONDecodeError:
            plain = view._NOT_JSON
        assert view._parsed(t) == plain, t


def test_a_result_holds_text_as_same_value_finds_it_value_by_value(sessions):
    from turnloom.core.quality.checks import effects
    from turnloom.core.quality.checks.view import CallView, same_value

    made = '[{"a": true, "b": " X ", "c": null, "d": 1.5, "e": [1]}, {"a": false, "b": "None"}]'
    calls = [CallView(0, 1, "c1", "get_made", {}, None, content=made, error=False, value=json.loads(made))]
    calls += [c for s in sessions for c in SessionView(s).calls]
    texts = {v for c in calls for row in c.records() for v in row.values() if isinstance(v, str)}
    texts |= {
        " Confirmed ",
        "TRUE",
        "true",
        " true",
        "False ",
        "false",
        "none",
        "x ",
        "",
        "  ",
        "nan",
        "-inf",
        "12",
        "ab12",
    }
    asked = found = 0
    for call in calls:
        rows = call.records()
        probes = sorted(texts)[:: max(1, len(texts) // 60)] if call.name != "get_made" else sorted(texts)
        for value in probes + [str(v) for row in rows for v in row.values()]:
            plain = any(same_value(v, value) for row in rows for v in row.values() if not isinstance(v, (dict, list)))
            assert effects._in_result(call, value) == plain, (call.name, value)
            asked += 1
            found += plain
    assert asked > 1000 and found > 100


def _about_plainly(records, ref):
    """`_Index.about` with every text value of every record indexed up front (as it used to be)."""
    if not re.search(r"\d", ref):
        return []
    by_id, by_text = {}, {}
    for record in records:
        if "id" in record.row:
            by_id.setdefault((record.table, shown(record.row["id"])), []).append(record)
        for k, v in record.row.items():
            if isinstance(v, str) and k != "id":
                bucket = by_text.setdefault(v.lower(), [])
                if not bucket or bucket[-1] is not record:
                    bucket.append(record)
    out = []
    for word, value in text._REF_ID.findall(ref):
        out += by_id.get((text.singular(word.lower()), value), [])
        out += [r for r in by_text.get(value.lower(), []) if not any(r is o for o in out)]
    return out


def test_the_records_a_reference_names_are_those_a_full_index_finds(sessions):
    found = 0
    for session in sessions:
        view = SessionView(session)
        for index in view.replies_between(0, len(session.messages)):
            calls = [c for c in view.calls_between(0, index) if c.ok and c.result_index < index]
            records = text._records(calls, {})
            lines = view.messages[index].text.splitlines() + ["booking 2 and TL269", "the status of order #4 is paid"]
            for line in lines:
                about = text._Index(records).about(line)
                assert [id(r) for r in about] == [id(r) for r in _about_plainly(records, line)], line
                found += len(about)
    assert found > 100


def test_a_line_without_a_digit_names_no_record_as_the_patterns_would_find(sessions):
    lines = [line for s in sessions for m in s.messages for line in m.text.splitlines()]
    # Arabic-Indic digits are digits to \d as well
    lines += ["order no. seven", "ID x", "booking #", "order ٣", "id ٣ and invoice ٤"]
    for line in lines * 2:
        found = text._NAMED.findall(line)
        pairs = {(w.lower(), n) for w, n in found} | {(text.singular(w.lower()), n) for w, n in found}
        named, bare = text._ids_named(line)
        assert named == pairs, line
        assert bare <= {m[1] for m in text._ID_NAMED.finditer(line)}, line
        if not re.search(r"\d", line):
            assert not named and not bare and not text._ID_NAMED.search(line), line
