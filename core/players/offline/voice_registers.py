"""How different people write: the words of each register a persona may write in.

A persona writes in one register for the whole dialogue (`voice.Persona.register`): how they
greet and introduce themselves, frame a request, take in an answer, move on and sign off. The
`everyday` register is `voice_words`' lists as they are; each other register replaces some of
those lists with its own, so a formal writer never says "Hey" and a brisk one never writes
"I'd be glad if you could". The `terse` and `casual` rules set the register of the small talk
on top of this (`voice`), and typos come only with `casual`.

Each entry is keyed like the list it replaces in `voice_words` (lower case). Frames keep the
grammar's placeholders: `{b}` the request body, `{B}` the same capitalised, `{t}` a tail.
"""

from __future__ import annotations

from turnloom.core.players.offline.registers import anxious, brisk, chatty, courteous, formal, professional

# register -> how likely a persona writes in it
REGISTER_WEIGHTS = {
    "everyday": 0.24,
    "formal": 0.13,
    "brisk": 0.16,
    "chatty": 0.13,
    "anxious": 0.12,
    "professional": 0.11,
    "courteous": 0.11,
}

# how often a register puts a request indirectly ("could you ..."); the others: by the persona's politeness
FRAME_RATE: dict[str, float] = {"brisk": 0.1}

REGISTERS: dict[str, dict[str, tuple[str, ...]]] = {
    "everyday": {},
    "professional": professional.WORDS,
    "courteous": courteous.WORDS,
    "formal": formal.WORDS,
    "brisk": brisk.WORDS,
    "chatty": chatty.WORDS,
    "anxious": anxious.WORDS,
}
