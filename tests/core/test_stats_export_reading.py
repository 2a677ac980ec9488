"""`stats` and `export --only-valid` over a generated folder give what reading each file as text gives.

The commands read sessions on every core, straight from the files' bytes; the reference
here reads each file's text with `snapshot.loads` in this process and does the commands'
per-session work on it. Statistics JSON and the exported bytes must be identical.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from turnloom.core.cli import main
from turnloom.core.cli.export_cmd import export_item
from turnloom.core.cli.session_pool import INLINE_BELOW
from turnloom.core.cli.stats_cmd import manifest_wall_times
from turnloom.core.config import load_config
from turnloom.core.export.options import ExportOptions
from turnloom.core.export.record_checks import secret_env_values
from turnloom.core.quality.dataset_stats import collect
from turnloom.core.storage.snapshot import loads, read_text

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("batch") / "data"
    # more sessions than are read inline: the worker pool does the reading
    assert main(["generate", "--n", str(INLINE_BELOW + 6), "--out", str(out), "--quiet"]) == 0
    shutil.copy(FIXTURES / "schema_1" / "retail-change-of-mind.session.json", out / "old.session.json")
    saved = (out / "seed-0000003.session.json").read_text(encoding="utf-8")
    (out / "seed-crlf.session.json").write_bytes(
        saved.replace("\n", "\r\n").replace('"id": "', '"id": "crlf-', 1).encode()
    )
    return out


def reference_sessions(folder: Path) -> list:
    return [loads(read_text(path), "json", path) for path in sorted(folder.glob("*.session.json"))]


def test_stats_json_is_what_reading_each_file_as_text_gives(folder: Path, capsys) -> None:
    config = load_config(None)
    by_file = manifest_wall_times([str(folder)])
    sessions = reference_sessions(folder)
    walls = {
        session.id: by_file[path.resolve()]
        for session, path in zip(sessions, sorted(folder.glob("*.session.json")), strict=True)
        if path.resolve() in by_file
    }
    expected = collect(sessions, walls, dict(config.prices), config.quality_max_messages).to_dict()
    assert main(["stats", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(expected))
    assert len(sessions) == INLINE_BELOW + 8


def test_export_only_valid_writes_what_reading_each_file_as_text_gives(folder: Path, tmp_path: Path) -> None:
    config = load_config(None)
    paths = sorted(folder.glob("*.session.json"))
    items = [
        export_item(
            path,
            session,
            fmt="openai",
            only_valid=True,
            only_finished=False,
            max_messages=config.quality_max_messages,
            secrets=secret_env_values(),
            judge=None,
            options=ExportOptions(),
        )
        for path, session in zip(paths, reference_sessions(folder), strict=True)
    ]
    expected = "".join(item.line for item in items if item.line is not None).encode()
    out = tmp_path / "out.jsonl"
    assert main(["export", str(folder), "--only-valid", "--format", "openai", "--out", str(out)]) == 0
    assert expected and out.read_bytes() == expected


def test_a_file_that_cannot_be_read_is_named_once_in_its_skip_line(folder: Path, tmp_path: Path, capsys) -> None:
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(folder / "seed-0000003.session.json", mixed / "good.session.json")
    cut = mixed / "cut.session.json"
    cut.write_bytes((folder / "seed-0000004.session.json").read_bytes()[:3000])
    reason = "file ends early - it may have been cut off while saving; the journal beside it may hold the rest"
    for argv in (
        ["stats", str(mixed)],
        ["export", str(mixed), "--format", "openai", "--out", str(tmp_path / "o.jsonl")],
    ):
        assert main(argv) == 0
        lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("skipped ")]
        assert len(lines) == 1 and lines[0].startswith(f"skipped {cut}: line ") and lines[0].endswith(reason)
        assert lines[0].count(str(cut)) == 1, lines[0]
