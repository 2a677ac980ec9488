"""The text check's reading of ids in a reply: what it names, and in time linear in the line."""

from __future__ import annotations

import time

from turnloom.core.quality.checks.text import _ids_named


def test_ids_named_by_table_and_bare():
    pairs, bare = _ids_named("Order #4 and invoice 16; the record with id 7, doctor id 9, (id 3")
    assert ("order", "4") in pairs and ("invoice", "16") in pairs
    assert bare == {"7", "3"}  # "doctor id 9" names the doctor's id, not the record's


def test_a_line_of_one_hundred_thousand_brackets_is_read_at_once():
    # a session file damaged this way took 195 s in `stats` while `(\S*)\s*\bid` backtracked
    line = "The city is Berge" + "[" * 100_000 + "]" * 100_000 + " id 5"
    started = time.perf_counter()
    _, bare = _ids_named(line)
    assert time.perf_counter() - started < 2.0
    assert bare == {"5"}
