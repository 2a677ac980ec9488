"""Builders shared by the rule tests: real sessions and engines under chosen rules, and checking crafted turns."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnloom.core.engine.engine import DialogueEngine
from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import ChatMessage, MessageMeta, Provenance, Role, Rule, RuleVerdict
from turnloom.core.players.offline.knowledge import knowledge_for
from turnloom.core.rules.catalog import load_catalog
from turnloom.core.rules.check import check_turn

PAPER = [
    "incremental_requests",
    "turn_feedback",
    "confirm_before_ending",
    "end_when_all_done",
    "natural_style",
    "stay_in_role",
    "clean_output",
    "no_restart",
]
DOMAINS = ("retail", "airline", "telecom", "clinic", "football")


@pytest.fixture(autouse=True)
def isolated_rule_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No user rules from the machine running the tests: ./rules is tmp_path/rules, nothing else."""
    folder = tmp_path / "rules"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("turnloom.core.rules.catalog.user_rule_folders", lambda: [folder])
    return folder


def builtin(rule_id: str, **params) -> Rule:
    rule = load_catalog([]).rules[rule_id]
    return rule.model_copy(update={"params": {**rule.params, **params}}) if params else rule


def engine_under(rules: list[Rule], domain: str = "retail", seed: int = 1, tasks: int = 3, **config) -> DialogueEngine:
    """A real engine on a fresh session whose rules in force are exactly `rules`."""
    session = create_session(domain, seed=seed, tasks=tasks, rule_set="none")
    session.config.rules = list(rules)
    for key, value in config.items():
        setattr(session.config, key, value)
    return open_engine(session)


async def run_under(
    rules: list[Rule], domain: str = "retail", seed: int = 1, tasks: int = 3, **config
) -> DialogueEngine:
    engine = engine_under(rules, domain, seed, tasks, **config)
    await engine.run()
    engine.environment.close()
    return engine


async def until_user_turns(engine: DialogueEngine, turns: int) -> DialogueEngine:
    """Step until `turns` user turns are committed and it is the user's turn again."""
    while True:
        users = sum(1 for m in engine.session.messages if m.role is Role.USER)
        if users >= turns and engine.next_role() is Role.USER:
            return engine
        await engine.step()


def user_turns(engine: DialogueEngine) -> list[ChatMessage]:
    return [m for m in engine.session.messages if m.role is Role.USER]


def verdict(engine: DialogueEngine, rule: Rule, text: str, **meta) -> RuleVerdict:
    """The verdict of `rule` on an operator turn `text` proposed at this point of the dialogue."""
    fields = {"provenance": Provenance.OPERATOR, "producer": "operator", "task_index": _current_task(engine)}
    fields.update(meta)
    message = ChatMessage(role=Role.USER, content=text, meta=MessageMeta(**fields))
    knowledge = knowledge_for(engine.session)
    (result,) = check_turn(engine.session, message, [rule], knowledge)
    return result


def _current_task(engine: DialogueEngine) -> int:
    for message in reversed(engine.session.messages):
        if message.role is Role.USER and message.meta.task_index is not None:
            return message.meta.task_index
    return 0
