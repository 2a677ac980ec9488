"""`turnloom ablation` with the forge on a profile: the two simulated datasets share one forged toolset."""

from __future__ import annotations

import json

from backend_support import write_config

from turnloom.core.cli import main


def test_the_simulated_variants_share_one_forged_toolset(fake, key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, fake)
    out = tmp_path / "abl"
    args = ["ablation", "--n", "1", "--tasks", "1", "--domain", "retail", "--role", "forge=fake"]
    assert main([*args, "--workers", "1", "--quiet", "--out", str(out)]) == 0
    shared = out / "task-oriented" / "toolset.json"
    manifest = json.loads((out / "user-oriented" / "manifest.json").read_text())
    assert manifest["config"]["tools"] == str(shared.resolve())
    assert len(fake.requests_of("forge_questions")) == 1  # forged once for both simulated datasets
    assert len(fake.requests_of("forge_sql")) == 1  # the SQL dataset forges its SQL tools
    rows = json.loads((out / "ablation.json").read_text())
    assert [r["samples"] for r in rows] == [1, 1, 1]
