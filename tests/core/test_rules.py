"""Rule files, user rule folders, rule sets, persona draws, prompt compilation and `turnloom rules`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from _rule_helpers import PAPER, isolated_rule_folders  # noqa: F401  (autouse fixture)

from turnloom.core.cli import main
from turnloom.core.errors import ConfigError
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.rules.catalog import draw_rule_set, load_catalog, resolve_rule_set
from turnloom.core.rules.rule_files import load_rule_file, read_rule

GOOD = """\
id = "polite_close"
title = "Close politely"
kind = "terse"
prompt = "Stay under {max_words} words."

[params]
max_words = 12
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_rule_file_loads_with_its_kinds_defaults_filled_in(tmp_path):
    rule = load_rule_file(write(tmp_path, "r.toml", GOOD.replace("max_words = 12", "")))
    assert rule.id == "polite_close" and rule.params == {"max_words": 25}
    assert rule.rendered_prompt() == "Stay under 25 words."


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        (GOOD.replace('kind = "terse"', 'kind = "telepathy"'), 3, "kind", "unknown kind"),
        (GOOD.replace("max_words = 12", 'max_words = "twelve"'), 7, "params.max_words", "expected int"),
        (GOOD.replace("{max_words}", "{max_words} and {tone}"), 4, "prompt", "{tone} has no parameter"),
        (GOOD.replace('title = "Close politely"\n', ""), None, "title", "Field required"),
        (GOOD.replace('prompt = "Stay', 'prompt = "Stay {'), 4, "prompt", "unbalanced"),
        (GOOD + "enabled = maybe\n", 8, None, "not valid TOML"),
    ],
)
def test_a_bad_rule_file_is_reported_with_file_line_and_key(tmp_path, text, line, key, words):
    path = write(tmp_path, "bad.toml", text)
    read = read_rule(path)
    assert read.rule is None
    problem = read.problems[0]
    assert problem.path == str(path) and problem.line == line and problem.key == key
    assert words in problem.message
    assert str(path) in str(problem) and (line is None or f":{line}:" in str(problem))
    with pytest.raises(ConfigError, match="bad.toml"):
        load_rule_file(path)


def test_every_problem_in_a_file_is_reported_not_only_the_first(tmp_path):
    text = GOOD.replace('kind = "terse"', 'kind = "telepathy"').replace("{max_words}", "{max_words} {mood}")
    problems = read_rule(write(tmp_path, "two.toml", text)).problems
    assert {p.key for p in problems} == {"kind", "prompt"}


def test_user_rules_override_builtins_and_bad_files_do_not_stop_the_others(isolated_rule_folders):
    write(
        isolated_rule_folders,
        "feedback.toml",
        'id = "turn_feedback"\ntitle = "Mine"\nkind = "turn_feedback"\nprompt = "React."\n',
    )
    write(isolated_rule_folders, "broken.toml", 'id = "broken"\ntitle = "X"\nkind = "nope"\n')
    write(isolated_rule_folders, "extra.toml", GOOD)
    catalog = load_catalog()
    assert catalog.rules["turn_feedback"].title == "Mine"
    assert catalog.overrides == {"turn_feedback": "builtin"}
    assert "polite_close" in catalog.rules and "broken" not in catalog.rules
    assert [p.key for p in catalog.problems] == ["kind"]
    # the paper set now uses the user's turn_feedback
    assert next(r for r in resolve_rule_set("paper") if r.id == "turn_feedback").prompt == "React."


def test_two_user_rules_with_one_id_are_an_error_naming_both_files(tmp_path, monkeypatch):
    here, config_dir = tmp_path / "rules", tmp_path / "config" / "rules"
    first = write(here, "a.toml", GOOD)
    second = write(config_dir, "b.toml", GOOD.replace("Close politely", "Other"))
    catalog = load_catalog([here, config_dir])
    assert catalog.rules["polite_close"].title == "Close politely"  # ./rules/ comes first
    (problem,) = catalog.problems
    assert problem.path == str(second) and str(first) in problem.message and problem.key == "id"


def test_rule_set_files_bundle_rules_with_parameters_persona_and_policy(isolated_rule_folders):
    write(
        isolated_rule_folders,
        "brisk.ruleset.toml",
        'name = "brisk"\nrules = ["incremental_requests", "turn_feedback"]\nviolation_policy = "regenerate"\n'
        "violation_retries = 3\n[params.incremental_requests]\nmax_subtasks = 1\n"
        "[persona]\nverbosity = {terse = 0.3, normal = 0.7}\n",
    )
    drawn = draw_rule_set("brisk", seed=5)
    assert drawn.rules[0].params["max_subtasks"] == 1
    session = create_session("retail", seed=5, rule_set="brisk")
    assert session.config.violation_policy == "regenerate" and session.config.violation_retries == 3
    assert [r.id for r in session.config.rules][:2] == ["incremental_requests", "turn_feedback"]


def test_persona_draws_are_seeded_per_dialogue_and_follow_the_weights():
    draws = [tuple(sorted(draw_rule_set("realistic", seed).persona.items())) for seed in range(400)]
    assert draws == [tuple(sorted(draw_rule_set("realistic", seed).persona.items())) for seed in range(400)]
    terse = Counter(dict(d)["verbosity"] for d in draws)["terse"] / len(draws)
    assert 0.22 < terse < 0.38  # weight 0.3
    drawn = draw_rule_set("realistic", 3)
    assert all(r.id in [r.id for r in drawn.rules] for r in drawn.rules[: len(PAPER)])
    for pick in drawn.persona.values():
        assert pick in ("normal", "none") or pick in [r.id for r in drawn.rules]


def test_a_rule_set_naming_a_broken_rule_fails_with_the_reason(isolated_rule_folders):
    write(isolated_rule_folders, "x.ruleset.toml", 'name = "x"\nrules = ["missing_rule"]\n')
    with pytest.raises(ConfigError, match="missing_rule"):
        create_session("retail", rule_set="x")
    with pytest.raises(ConfigError, match="known rule sets: .*paper"):
        create_session("retail", rule_set="no_such_set")


def test_the_paper_set_and_none():
    assert [r.id for r in resolve_rule_set("paper")] == PAPER
    assert resolve_rule_set("none") == [] and resolve_rule_set(None) == []


def test_rules_command_lists_shows_and_checks(isolated_rule_folders, capsys):
    write(isolated_rule_folders, "feedback.toml", 'id = "turn_feedback"\ntitle = "Mine"\nkind = "turn_feedback"\n')
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "withhold_details" in out and "realistic" in out and "(overrides built-in)" in out
    assert main(["rules", "show", "incremental_requests"]) == 0
    assert "at most 2 subtasks" in capsys.readouterr().out
    good = write(isolated_rule_folders.parent, "good.toml", GOOD)
    assert main(["rules", "check", str(good)]) == 0
    bad = write(isolated_rule_folders.parent, "bad.toml", GOOD.replace('kind = "terse"', 'kind = "x"'))
    assert main(["rules", "check", str(bad)]) == 2
    assert f"{bad}:3: key 'kind'" in capsys.readouterr().err
    assert main(["rules", "show", "nope"]) == 2


def test_a_rule_set_file_that_is_not_utf8_is_a_named_problem(tmp_path, capsys):
    from turnloom.core.cli import main

    bad = tmp_path / "mine.ruleset.toml"
    bad.write_bytes(b'name = "x\xff"\n')
    assert main(["rules", "check", str(bad)]) == 2
    assert f"{bad}: not UTF-8 text (byte 9)" in capsys.readouterr().err
