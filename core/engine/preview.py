"""Preview the next user turn under other rules, without touching the dialogue.

The TUI's rule panel calls `preview_user_turn` after a rule or its parameters
change, and shows the result beside the turn under the current rules
(`preview_pair`). Nothing is committed, no event reaches the engine's
listeners, and the session (transcript, tasks, config) is left as it was.
"""

from __future__ import annotations

from turnloom.core.engine.engine import DialogueEngine
from turnloom.core.errors import TurnloomError
from turnloom.core.models import ChatMessage, Role, Rule


async def preview_user_turn(engine: DialogueEngine, rules: list[Rule]) -> ChatMessage:
    """The user turn the simulator would propose next if `rules` were in force, with its verdicts.

    The draw is the one the engine itself would make at this point, so with the
    current rules the preview is exactly the turn `step()` would commit.

    Args:
        engine: the dialogue; its session is not changed.
        rules: the rules to propose under (e.g. the edited rule set).

    Raises:
        TurnloomError: when it is not the user's turn or the dialogue has finished.
    """
    session = engine.session
    if session.finish_reason is not None:
        raise TurnloomError(f"the dialogue has finished ({session.finish_reason}); resume it to preview a turn")
    role = engine.next_role()
    if role is not Role.USER:
        raise TurnloomError(f"it is the {role}'s turn, not the user's; step until the user speaks to preview")
    config = session.config.model_copy(update={"rules": list(rules)})
    view = session.model_copy(update={"config": config, "tasks": list(session.tasks)})
    # the engine's checker reads the rules in force from the session it is given: the view's
    shadow = DialogueEngine(view, engine.roles, engine.environment, rule_checker=engine.rule_checker)
    proposal = await shadow.propose()
    return proposal.message


async def preview_pair(engine: DialogueEngine, rules: list[Rule]) -> tuple[ChatMessage, ChatMessage]:
    """(the next user turn under the current rules, the next user turn under `rules`)."""
    current = await preview_user_turn(engine, engine.session.config.rules)
    changed = await preview_user_turn(engine, rules)
    return current, changed
