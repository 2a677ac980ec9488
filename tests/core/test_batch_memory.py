"""Open dialogues capped by a memory budget: each holds its own copy of the database."""

from __future__ import annotations

import pytest

from turnloom.core.batch.manifest import load_manifest
from turnloom.core.batch.memory import PER_DIALOGUE_FACTOR, dialogue_bytes, open_dialogue_cap
from turnloom.core.cli import main

MB = 1024**2


@pytest.mark.parametrize(
    ("per_dialogue", "wanted", "budget", "allowed"),
    [
        (240 * MB, 20, 2048 * MB, 8),  # the 240 MB database at 16 in flight (20 open)
        (240 * MB, 4, 2048 * MB, 4),  # fits: no cap
        (240 * MB, 20, None, 20),  # no budget known
        (240 * MB, 20, 0, 20),  # --memory-budget 0: no cap
        (0, 20, 1, 20),  # a built-in pack: nothing to cap
        (4096 * MB, 20, 1024 * MB, 1),  # never below one
    ],
)
def test_open_dialogues_fit_the_budget(per_dialogue, wanted, budget, allowed):
    got, note = open_dialogue_cap(per_dialogue, wanted, budget)
    assert got == allowed
    assert (note is None) == (allowed == wanted)
    if note:
        assert f"only {allowed} will be open at a time" in note and "--memory-budget" in note


def test_a_dialogue_needs_its_database_times_the_measured_factor(sql_shop_path):
    assert dialogue_bytes(str(sql_shop_path)) == int(sql_shop_path.stat().st_size * PER_DIALOGUE_FACTOR)
    assert dialogue_bytes(None) == 0


def test_generate_caps_open_dialogues_with_a_note_and_still_finishes(sql_shop_path, tmp_path, capsys):
    out = tmp_path / "b"
    argv = ["generate", "--db", str(sql_shop_path), "--n", "3", "--tasks", "1", "--out", str(out), "--quiet"]
    assert main([*argv, "--workers", "1", "--concurrency", "4", "--memory-budget", "0.000001"]) == 0
    err = capsys.readouterr().err
    assert "only 1 will be open at a time" in err
    manifest = load_manifest(out)
    assert manifest is not None and all(entry.status == "done" for entry in manifest.dialogues)
