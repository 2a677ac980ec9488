"""`turnloom compare`: two rule sets on the same seeds, side by side."""

from __future__ import annotations

import argparse
import json

import pytest
from _rule_helpers import isolated_rule_folders  # noqa: F401  (autouse fixture)

from turnloom.core.cli import main
from turnloom.core.cli.compare_cmd import compare_rule_sets, format_table, seed_range
from turnloom.core.storage.snapshot import load_session


def test_seed_ranges_parse_and_bad_ones_are_refused():
    assert seed_range("1-3") == [1, 2, 3]
    assert seed_range("3,5,8") == [3, 5, 8]
    assert seed_range("7") == [7]
    assert seed_range("1-2,9") == [1, 2, 9]
    for bad in ("5-1", "a-b", "", "1-"):
        with pytest.raises(argparse.ArgumentTypeError):
            seed_range(bad)


def test_paper_rules_make_longer_dialogues_than_none_on_the_same_seeds():
    result = compare_rule_sets(["paper", "none"], ["retail"], list(range(1, 9)))
    paper, none = result["summary"]["paper"], result["summary"]["none"]
    assert paper["dialogues"] == none["dialogues"] == 8
    # (1.2x once the assistant stopped reading again a record a search had just found, and a user stopped
    # asking about what the last list showed; 1.5x once it stopped re-reading records the conversation shows;
    # 1.6x before: the ratio describes the interaction, it is no target)
    assert paper["messages_mean"] > 1.15 * none["messages_mean"]
    assert paper["user_turns_mean"] > none["user_turns_mean"]
    assert paper["subtasks_per_user_turn"] < none["subtasks_per_user_turn"]
    assert paper["tasks_done_mean"] == none["tasks_done_mean"] == 3
    assert paper["violations_per_100"] == none["violations_per_100"] == 0
    # audited against both sets' rules, `none` breaks the paper's rules and `paper` does not
    assert none["audit_violations_per_100"] > 20 and paper["audit_violations_per_100"] == 0
    assert paper["finish_reasons"] == none["finish_reasons"] == {"user_done": 8}
    assert result["ratio_a_over_b"]["messages_mean"] == pytest.approx(paper["messages_mean"] / none["messages_mean"])
    table = format_table(result)
    for row in (
        "messages, mean",
        "messages, max",
        "user turns",
        "subtasks per user turn",
        "tasks completed",
        "violations /100 user turns",
        "finish: user_done",
        "ratio paper/none",
    ):
        assert row in table


def test_compare_command_prints_json_and_saves_sessions(tmp_path, capsys):
    out = tmp_path / "ab"
    code = main(
        [
            "compare",
            "--rules",
            "paper",
            "--rules",
            "one_at_a_time",
            "--domain",
            "clinic",
            "--seeds",
            "1-3",
            "--tasks",
            "2",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sets"] == ["paper", "one_at_a_time"] and result["tasks"] == 2 and result["seed_count"] == 3
    assert json.loads((out / "compare.json").read_text()) == result
    session = load_session(out / "one_at_a_time" / "clinic-seed2.session.json")
    assert session.config.rule_set == "one_at_a_time" and session.config.seed == 2 and len(session.tasks) == 2
    assert all(len(m.meta.subtasks) <= 1 for m in session.messages)


def test_compare_accepts_a_rule_set_file(tmp_path, capsys):
    path = tmp_path / "solo.ruleset.toml"
    path.write_text('name = "solo"\nrules = ["incremental_requests"]\n', encoding="utf-8")
    assert main(["compare", "--rules", str(path), "--rules", "none", "--seeds", "1-2"]) == 0
    assert "solo" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "--rules", "paper"],
        ["compare", "--rules", "paper", "--rules", "nope"],
        ["compare", "--rules", "paper", "--rules", "paper"],
        ["compare", "--rules", "paper", "--rules", "none", "--domain", "mars"],
    ],
)
def test_compare_refuses_bad_input_with_a_usage_error(argv, capsys):
    assert main([*argv, "--seeds", "1"]) == 2
    assert "turnloom: error:" in capsys.readouterr().err
