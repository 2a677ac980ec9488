"""How the offline user sounds: phrase pools and the register rules' wording.

`Voice` picks the user's small talk (greetings, feedback, retries, closings)
for the rules in force: the default polite register, `terse` (short, no
pleasantries) or `casual` (informal, lower case, the odd typo). Requests
themselves are rendered from the domain's phrasings by the simulator and are
never mangled here, so the offline assistant can still read them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from turnloom.core.domains.base import Intent
from turnloom.core.models import Rule
from turnloom.core.players.offline.language import render
from turnloom.core.rules.rule_files import param, rule_of_kind

POOLS: dict[str, dict[str, tuple[str, ...]]] = {
    "normal": {
        "greeting": ("Hi!", "Hello,", "Hi there.", "Hey,", "Good morning."),
        "opener": (
            "I need some help with a few things.",
            "could you help me with something?",
            "I was hoping you could help me out.",
            "I have a couple of things to sort out.",
        ),
        "feedback": (
            "Thanks, that helps.",
            "Great, thank you.",
            "Perfect.",
            "Got it, thanks.",
            "Okay, good to know.",
            "That's useful, thanks.",
        ),
        "connector": ("Next,", "Also,", "One more thing:", "Now,", "And"),
        "retry": (
            "Hmm, I don't think that covered it.",
            "That's not quite what I asked.",
            "I still need that, actually.",
        ),
        "confirm": (
            "Just to be sure it went through:",
            "Can you double-check that?",
            "Before we move on, could you confirm the change?",
        ),
        "transition": ("That's all for that, thanks!", "Great, that part is sorted.", "Thanks, that takes care of it."),
        "closing": (
            "That solves it, thanks!",
            "Great, that's everything I needed. Thanks!",
            "Perfect, that's all. Thank you!",
        ),
        "gave_up": ("Okay, never mind that one.",),
        "revise": ("On second thought,", "Actually, I've changed my mind:", "Hmm, on second thought,"),
    },
    "terse": {
        "feedback": ("OK.", "Fine.", "Right.", "Got it."),
        "connector": ("Next:", "Now:", "Also:"),
        "retry": ("No, that's not it.", "Not what I asked.", "Still need this."),
        "confirm": ("Confirm it worked:", "Check it went through:"),
        "transition": ("OK, done with that.", "Fine, that's sorted."),
        "closing": ("That's all. Thanks.", "Done, thanks."),
        "gave_up": ("Forget that one.",),
        "revise": ("Wait, changed my mind:", "No, actually:"),
    },
}

DIGRESSIONS = (
    "By the way, sorry if I'm slow to reply, I'm typing this on the train.",
    "By the way, this chat is a lot quicker than waiting on hold.",
    "Side note: it's been one of those weeks, so I appreciate the patience.",
    "By the way, I've been meaning to sort this out for ages.",
)
WITHHELD = ("I'd like to {x}. What do you need from me?", "Could you help me {x}?", "Can you {x} for me?")
_CASUAL_WORDS = ((r"\bthank you\b", "thx"), (r"\bthanks\b", "thx"), (r"\bplease\b", "pls"), (r"\bokay\b", "ok"))
_TRAILING_WORDS = {"with", "to", "for", "under", "registered", "email", "address", "of", "by", "named", "at", "(", "is"}


@dataclass
class Voice:
    """Small-talk wording under the rules in force, drawn from the turn's RNG."""

    rules: list[Rule]
    rng: random.Random

    @property
    def terse(self) -> bool:
        return rule_of_kind(self.rules, "terse") is not None

    def say(self, pool: str) -> str:
        """A phrase from `pool` in the user's register."""
        register = "terse" if self.terse and pool in POOLS["terse"] else "normal"
        return self.casualise(self.rng.choice(POOLS[register][pool]))

    def opening(self) -> str:
        """Greeting and opener for the first message of a dialogue ('' when terse)."""
        if self.terse:
            return ""
        return self.casualise(
            f"{self.rng.choice(POOLS['normal']['greeting'])} {self.rng.choice(POOLS['normal']['opener'])}"
        )

    def casualise(self, text: str) -> str:
        """Informal spelling and the odd typo when the `casual` rule is in force."""
        rule = rule_of_kind(self.rules, "casual")
        if rule is None:
            return text
        for pattern, short in _CASUAL_WORDS:
            text = re.sub(pattern, short, text, flags=re.IGNORECASE)
        text = text[:1].lower() + text[1:]
        if self.rng.random() < float(param(rule, "typo_rate")):
            words = text.split(" ")
            candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
            if candidates:
                i = self.rng.choice(candidates)
                w = words[i]
                j = self.rng.randrange(1, len(w) - 2)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
                text = " ".join(words)
        return text

    def digression(self) -> str:
        return self.rng.choice(DIGRESSIONS)

    def withheld(self, intent: Intent, slots: dict[str, object]) -> str:
        """A request that says what the user wants but leaves out their personal details."""
        description = intent.description
        found = [description.find("{" + name + "}") for name in personal_slots(intent)]
        first = min([i for i in found if i >= 0], default=len(description))
        words = description[:first].split()
        while words and words[-1].lower().strip("(") in _TRAILING_WORDS:
            words.pop()
        wanted = render(" ".join(words), slots).strip() or "sort out my account"
        text = self.rng.choice(WITHHELD).format(x=wanted)
        return text[:1].upper() + text[1:]


def personal_slots(intent: Intent) -> list[str]:
    """The slots of a look-up that identify the user (email addresses).

    A new value the user asks to set (`new_email`) or the details of an account
    being opened are the request itself, not something volunteered.
    """
    if intent.steps[-1].tool.startswith(("create_", "update_", "delete_")):
        return []
    return [name for name, kind in intent.slots.items() if kind == "email" and not name.startswith("new_")]
