"""Preference pairs from the curator's own choices: TRL's preference format, with tools.

Every regenerate and edit of an assistant turn keeps the turn it replaced (the session's
`dropped_branches`); an undo keeps the replacement it took back as an `undone` branch. Each
such branch is a judgement: the turn the transcript holds now was preferred to the one the
branch kept, given the same conversation before it. One record per judgement:

    {"prompt": [messages before the turn], "chosen": [the turn kept], "rejected": [the turn dropped],
     "tools": [...]}

Messages are OpenAI chat messages (tool calls included), the conversational form TRL's
`DPOTrainer` reads; `tools` are function objects, a JSON string by default as in the hf format
(`--no-json-strings` writes objects). A branch is paired only while the conversation before it
is still the one it answered: a later change at an earlier message makes its prompt another.
User turns (overrides) and cut tails (truncations) state no preference between assistant turns
and give no pair.
"""

from __future__ import annotations

from typing import Any

from turnloom.core.export.options import ExportOptions
from turnloom.core.export.record_checks import RecordRejected, check_messages
from turnloom.core.export.shaping import listed_tools
from turnloom.core.export.toolsets import toolset
from turnloom.core.models import ChatMessage, DroppedBranch, Role, Session

# the actions that replace an assistant turn with another the curator preferred
PAIRED = frozenset({"edit", "regenerate", "undone"})


def preference_pairs(session: Session, options: ExportOptions) -> list[dict[str, Any]]:
    """The session's preference records, oldest judgement first.

    Raises:
        RecordRejected: the session holds no judgement to pair, or one that cannot be written.
    """
    by_name = {spec.name: spec for spec in session.tools}
    records = []
    for number, branch in enumerate(session.dropped_branches):
        pair = _pair(session, number, branch)
        if pair is None:
            continue
        prompt, chosen, rejected = pair
        check_messages([*prompt, chosen], by_name)
        check_messages([*prompt, rejected], by_name)
        tools = toolset(session.tools).listed(
            session.tools, listed_tools(session, [*prompt, chosen, rejected], options.tools)
        )
        records.append(
            {
                "prompt": [m.to_openai() for m in prompt],
                "chosen": [chosen.to_openai()],
                "rejected": [rejected.to_openai()],
                "tools": tools.json_text() if options.strings_for("dpo") else tools.objects(),
            }
        )
    if not records:
        raise RecordRejected("no curator choice to pair (regenerate or edit an assistant turn to make one)")
    return records


def _pair(
    session: Session, number: int, branch: DroppedBranch
) -> tuple[list[ChatMessage], ChatMessage, ChatMessage] | None:
    """(prompt, chosen, rejected) for one branch, or None when it states no preference between assistant turns."""
    if branch.action not in PAIRED or not branch.messages or branch.at >= len(session.messages):
        return None
    rejected, chosen = branch.messages[0], session.messages[branch.at]
    if rejected.role is not Role.ASSISTANT or chosen.role is not Role.ASSISTANT:
        return None
    if any(later.at < branch.at for later in session.dropped_branches[number + 1 :]):
        return None  # the conversation before it changed since: not the prompt this judgement answered
    if rejected.to_openai() == chosen.to_openai():
        return None  # the same turn drawn again: nothing preferred
    return session.messages[: branch.at], chosen, rejected
