"""The offline assistant's answer to a write: what a create, update or delete did.

Read by `replies.describe`; the shared naming of fields and records is `reply_words`'.
"""

from __future__ import annotations

import random

from turnloom.core.players.offline.language import format_value, said_status
from turnloom.core.players.offline.nouns import Lexicon, Noun, field_phrase
from turnloom.core.players.offline.reply_words import (
    _CHECKED_VALUE,
    _PEOPLE,
    Outcome,
    _is_status,
    _label,
)


def write_sentence(outcome: Outcome, noun: Noun, result: dict, rng: random.Random, lexicon: Lexicon) -> str:
    """What a create, update or delete did.

    A changed field's name ends its clause ("I've updated that passenger's email."), so no reader
    takes the words after it for the field's value in a record read before the change.
    """
    tool = outcome.tool
    if not result.get("rowcount", 0):
        return rng.choice(
            (
                f"Nothing was changed: I couldn't find a matching {noun.one}.",
                f"I couldn't find that {noun.one}, so nothing was changed.",
            )
        )
    if tool.startswith("create_"):
        new_id = result.get("lastrowid")
        if new_id is not None:
            return rng.choice(
                (
                    f"Done! I've created the {noun.one}; it's {noun.one} {format_value(new_id)}.",
                    f"All set: the new {noun.one} is in, under number {format_value(new_id)}.",
                    f"That's done. The {noun.one} is created, with number {format_value(new_id)}.",
                )
            )
        return f"Done! The new {noun.one} has been created."
    if tool.startswith("delete_"):
        return rng.choice((f"Done. The {noun.one} has been removed.", f"That {noun.one} is deleted now."))
    step = outcome.request.intent.steps[-1]
    # the first argument of an update names the record, the rest are what changed
    fields = list(step.arguments)[1:] if step.tool == tool else []
    if len(fields) == 1:
        label = field_phrase(_label(fields[0], noun, lexicon))
        its = "their" if noun.one.split()[-1] in _PEOPLE else "its"
        template = step.arguments[fields[0]]
        value = outcome.request.slots.get(template.strip("{}")) if template.startswith("{") else template
        if isinstance(value, str) and value and not _CHECKED_VALUE.search(value):  # only what results show is stated
            if _is_status(fields[0], lexicon):
                value = said_status(value, article=True)
                return rng.choice(
                    (
                        f"Done: that {noun.one} is now {value}.",
                        f"All set, I've marked that {noun.one} as {value}.",
                        f"That {noun.one} is {value} now.",
                    )
                )
            return rng.choice(
                (
                    f"Done. That {noun.one} now has {value} as {its} {label}.",
                    f"All set: {value} is the new {label}.",
                    f"I've made the change: the {noun.one} now shows {value} for {its} {label}.",
                )
            )
        if label.endswith(" ID"):
            # a link to another record: "plan 3" or "the new plan", never "plan ID"
            other = label.removesuffix(" ID")
            if isinstance(value, int) and not isinstance(value, bool):
                return rng.choice(
                    (
                        f"Done. That {noun.one}'s {other} is now {other} {value}.",
                        f"All set: I've switched that {noun.one} to {other} {value}.",
                    )
                )
            return rng.choice(
                (
                    f"Done. I've switched that {noun.one} to the new {other}.",
                    f"All set: that {noun.one} has a new {other}.",
                )
            )
        return rng.choice(
            (
                f"Done. I've updated that {noun.one}'s {label}.",
                f"That's changed: I've updated the {label}.",
            )
        )
    return f"Done. The {noun.one} has been updated."
