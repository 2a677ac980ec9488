"""The offline generator's dialogues pass the quality gate: the figure of the offline-realism work.

The corpus is bench/gate_corpus.py's: every built-in domain × both executions × both modes,
seed = dialogue number, the task count drawn from the seed; and a user's own database."""

from __future__ import annotations

import itertools

import pytest
from _clean_dialogues import make_library_db

from turnloom.core.domains import pack_names
from turnloom.core.lifecycle.dialogue import create_session, run_to_end
from turnloom.core.models import Mode, ToolExecution
from turnloom.core.players.offline.tasks import task_count
from turnloom.core.quality.verdict import evaluate, failed_checks, reasons


def _rejected(sources, dialogues: int) -> list[str]:
    combos = list(itertools.product(sources, ToolExecution, Mode))
    rejected = []
    for n in range(dialogues):
        (domain, path), execution, mode = combos[n % len(combos)]
        session = create_session(domain, db_path=path, mode=mode, execution=execution, seed=n, tasks=task_count(n))
        verdict = evaluate(run_to_end(session))
        if failed_checks(verdict):
            rejected.append(f"{domain or path} {mode.value} {execution.value} seed {n}: {reasons(verdict)}")
    return rejected


@pytest.mark.slow
def test_no_dialogue_of_the_built_in_corpus_is_rejected():
    assert _rejected([(d, None) for d in pack_names()], 300) == []


def test_no_dialogue_on_a_users_own_database_is_rejected(tmp_path):
    assert _rejected([(None, str(make_library_db(tmp_path / "library.sqlite")))], 40) == []
