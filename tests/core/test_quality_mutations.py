"""The checks, proven by mutation: each defect class is injected into dialogues clean by construction
(every built-in domain, both executions, both modes, and a `--db` database made here), and the check
meant for it must catch ≥ 95 % of them; on the clean dialogues themselves it rejects ≤ 2 %."""

from __future__ import annotations

from collections import Counter

import pytest
from _clean_dialogues import clean_session, make_library_db
from _mutations import MUTATIONS, detected

from turnloom.core.models import Mode, ToolExecution
from turnloom.core.quality.checks import Severity, run_checks

DOMAINS = ("retail", "airline", "clinic", "football", "telecom")
SEEDS = range(2)


@pytest.fixture(scope="module")
def library_db(tmp_path_factory) -> str:
    """A user's own database (a lending library), unknown to turnloom's packs."""
    return make_library_db(tmp_path_factory.mktemp("db") / "library.sqlite")


@pytest.fixture(scope="module")
def clean(library_db):
    sessions = []
    for execution in ToolExecution:
        for mode in Mode:
            for seed in SEEDS:
                sessions += [clean_session(d, execution=execution, mode=mode, seed=seed) for d in DOMAINS]
                sessions.append(clean_session(db_path=library_db, execution=execution, mode=mode, seed=seed))
    return sessions


def rejected(session) -> list[str]:
    return [f.check for f in run_checks(session) if f.severity is Severity.REJECT]


def test_the_clean_dialogues_cover_every_domain_the_database_both_executions_and_modes(clean):
    kinds = Counter((s.db_path is not None, s.domain, s.config.execution, s.config.mode) for s in clean)
    assert len(kinds) == (len(DOMAINS) + 1) * 2 * 2
    assert all(s.write_log for s in clean if s.config.execution is ToolExecution.SQL)


def test_false_rejects_on_clean_dialogues_are_at_most_two_percent(clean):
    false = [(s.domain, rejected(s)) for s in clean if rejected(s)]
    assert len(false) / len(clean) <= 0.02, false


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_each_injected_defect_is_caught_by_its_check_at_least_95_percent(mutation, clean):
    mutated = [m for m in (mutation.apply(s) for s in clean) if m is not None]
    assert len(mutated) >= len(clean) // 3, "the defect could be injected into too few dialogues"
    missed = [m.domain for m in mutated if not detected(run_checks(m), mutation.expected)]
    assert len(missed) / len(mutated) <= 0.05, (mutation.name, missed)


def test_a_repeated_read_only_warns_while_every_other_defect_rejects(clean):
    for mutation in MUTATIONS:
        session = next(m for m in (mutation.apply(s) for s in clean) if m is not None)
        findings = [f for f in run_checks(session) if f.check == mutation.expected]
        severities = {f.severity for f in findings}
        expected = Severity.WARNING if mutation.expected == "repeated_read" else Severity.REJECT
        assert severities == {expected}, mutation.name


def test_a_finding_points_at_the_messages_that_carry_the_defect(clean):
    by_name = {m.name: m for m in MUTATIONS}
    session = by_name["unpersisted write"].apply(clean[0])
    (finding,) = [f for f in run_checks(session) if f.check == "write_confirmed"]
    write, read = finding.messages
    assert session.messages[write].role == "tool" and '"rowcount": 1' in session.messages[write].text
    assert session.messages[read].role == "tool" and read > write
    assert "shows" in finding.reason
