"""How the offline user sounds: a small generative grammar in a persona's voice.

Every user turn is composed from parts (greetings, introductions, request
frames, hedges, tails, acknowledgements that echo what was answered, closers),
so the same request reads differently from one dialogue to the next without
ever reading as noise. The persona is drawn per dialogue from its seed
(`Persona`): politeness and verbosity, plus the register the rules in force set
(`terse`: short, no pleasantries; `casual`: informal words and, only there, the
odd typo). A request's own words come from the domain's phrasings: an
imperative phrasing's body ("pull up booking 28") goes into a frame of the
persona's ("Would you be able to pull up booking 28?"), which the offline
assistant still recognises, since it reads bodies whatever the frame.

What a turn asks for, and when, is the simulator's (`user`); this module only
words it.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from turnloom.core.domains.base import Intent
from turnloom.core.models import ChatMessage, Role, Rule
from turnloom.core.players.offline.language import (
    render,
    split_frame,
    vary_body,
    vary_ids,
    vary_phrases,
)
from turnloom.core.players.offline.voice_echo import BAD, GOOD
from turnloom.core.players.offline.voice_echo import echo_of as echo_of  # its home before the split
from turnloom.core.players.offline.voice_reactions import (
    ACKS,
    BAD_NEWS,
    DONE_WITH_TASK,
    ECHO_ENDS,
    ECHOES,
    ENDING_TAILS,
    ENDINGS,
    GOOD_NEWS,
    NOTHING_FOUND,
    SIGN_OFFS,
    TAILED_ENDINGS,
    THANKS,
)
from turnloom.core.players.offline.voice_registers import FRAME_RATE, REGISTER_WEIGHTS, REGISTERS
from turnloom.core.players.offline.voice_words import (
    ABOUT_ME,
    ADVERBS,
    ALREADY_TOLD,
    ASKING_FRAMES,
    COMPARES,
    CONFIRMS,
    CONFIRMS_CHANGED,
    CONFIRMS_CREATED,
    CONNECTORS,
    CORRECTIONS,
    DIGRESSIONS,
    GAVE_UP,
    GREETINGS,
    INTRODUCTIONS,
    MOTIVES,
    NEXT,
    ORDINALS,
    OWN_DETAILS,
    PLAIN_FRAMES,
    PURPOSES,
    QUESTION_LEADS,
    RECALL_DATED,
    RECALL_NAMED,
    RETRIES,
    REVISIONS,
    TAILS,
    TELLING_FRAMES,
    TERSE,
    THINGS,
    TOPIC_MOTIVES,
    WITHHELD,
)
from turnloom.core.rules.rule_files import param, rule_of_kind

# frames whose subject is not "you": "can we let me see ..." reads wrong, so a body that says "me" avoids them
_IMPERSONAL = re.compile(
    r"^(?:can we|let's|is it possible to|is there a way to|would it be possible to|go ahead and)\b"
)
_WH = re.compile(r"^(?:what|what's|which|how|who|when|where|is|are|has|have|do|does|did|can)\b", re.I)
_SAYS_ME = re.compile(r"\b(?:me|my)\b", re.I)
_CASUAL_WORDS = ((r"\bthank you\b", "thx"), (r"\bthanks\b", "thx"), (r"\bplease\b", "pls"), (r"\bokay\b", "ok"))
_TRAILING_WORDS = {"with", "to", "for", "under", "registered", "email", "address", "of", "by", "named", "at", "(", "is"}


@dataclass(frozen=True)
class Persona:
    """Who is typing: their name and email (when the data has them) and how they write."""

    name: str | None = None
    email: str | None = None
    politeness: int = 1  # 0 plain, 1 polite, 2 warm
    verbosity: int = 1  # 0 brief, 1 normal, 2 chatty
    register: str = "everyday"  # how they write: everyday, formal, brisk, chatty, anxious (`voice_registers`)
    facts: tuple[tuple[str, str], ...] = ()  # what they may say about themselves: (city | tier | since, value)

    @staticmethod
    def drawn(
        seed: object, name: str | None = None, email: str | None = None, facts: tuple[tuple[str, str], ...] = ()
    ) -> Persona:
        """The persona of a dialogue, drawn from its seed.

        The register bends the rest: a formal writer is never plain, a brisk one never chatty,
        a chatty one never brief.
        """
        rng = random.Random(f"{seed}:persona")
        politeness = rng.choices((0, 1, 2), weights=(0.3, 0.5, 0.2))[0]
        verbosity = rng.choices((0, 1, 2), weights=(0.3, 0.5, 0.2))[0]
        register = rng.choices(tuple(REGISTER_WEIGHTS), weights=tuple(REGISTER_WEIGHTS.values()))[0]
        if register == "formal":
            politeness = max(politeness, 1)
        elif register == "brisk":
            verbosity = min(verbosity, 1)
        elif register in ("chatty", "anxious"):
            verbosity = max(verbosity, 1)
        return Persona(name, email, politeness, verbosity, register, facts)


@dataclass
class Voice:
    """Composes a user turn's words under the rules in force, drawn from the turn's RNG."""

    rules: list[Rule]
    rng: random.Random
    persona: Persona = field(default_factory=Persona)
    # intent name -> the phrasings to draw from (the parser's, which it recognises); the pack's otherwise
    phrasings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the answer just given found nothing: the user takes that in, and does not thank for it
    found_nothing: bool = False
    # the sentences of the user's latest turns (`said_before`): small talk never says one of them again
    said: frozenset[str] = frozenset()

    @property
    def terse(self) -> bool:
        return rule_of_kind(self.rules, "terse") is not None

    @property
    def casual(self) -> bool:
        return rule_of_kind(self.rules, "casual") is not None

    def _pick(self, options: tuple[str, ...]) -> str:
        """One of `options`, never one the user said as a sentence of their latest turns (unless all were)."""
        if self.said:
            said = self.said
            fresh = [o for o, key in zip(options, _option_keys(options)) if key not in said]
            if fresh and len(fresh) < len(options):
                return self.rng.choice(fresh)
        return self.rng.choice(options)

    def _fresh(self, make: Callable[[], str], *fallbacks: Callable[[], str]) -> str:
        """`make()`, drawn again (a few times at most) while it says a sentence of the user's latest turns;
        then each of `fallbacks` (when a long dialogue has used up a short list)."""
        text = make()
        for draw in (make, make, make, *fallbacks):
            if not self.said or not any(key in self.said for key in sentence_keys(text)):
                break
            text = draw()
        return text

    def _words(self, key: str, everyday: tuple[str, ...]) -> tuple[str, ...]:
        """The persona's register's words for `key`, or the everyday ones (a casual rule writes everyday)."""
        register = "everyday" if self.casual and self.persona.register == "formal" else self.persona.register
        return REGISTERS.get(register, {}).get(key, everyday)

    # ------------------------------------------------------------ requests

    def request(
        self,
        intent: Intent,
        slots: dict[str, object],
        phrasing: str | None = None,
        later: bool = False,
        motive: bool = True,
    ) -> str:
        """One request in the persona's words; `phrasing` overrides the drawn one (e.g. a reference).

        Worded otherwise when it would say a sentence of the user's latest turns again.
        """
        return self._fresh(lambda: self._request(intent, slots, phrasing, later, motive))

    def _request(
        self, intent: Intent, slots: dict[str, object], phrasing: str | None, later: bool, motive: bool
    ) -> str:
        template = phrasing or self._pick(self.phrasings.get(intent.name, intent.phrasings))
        text = render(vary_phrases(vary_ids(template, intent.slots, self.rng), self.rng), slots)
        kind, body = split_frame(text)
        if kind == "imperative" and re.search(r"[.?!] ", body):
            kind = "sentences"  # "Can you find my record? My email is ...": two sentences keep their own frame
        if kind == "imperative":
            body = vary_body(body, self.rng)
            chatty = not self.terse and self.rng.random() < 0.2 * self.persona.verbosity
            tail = self._pick(TAILS) if chatty and not _has_free_text(intent) else ""
            adverb = self._pick(ADVERBS) if chatty else ""
            frames: tuple[str, ...] = PLAIN_FRAMES
            # how often a request is put indirectly: the register's habit, else by politeness and verbosity
            indirect = FRAME_RATE.get(self.persona.register, 0.15 * (self.persona.politeness + self.persona.verbosity))
            if not self.terse and self.persona.politeness > 0 and self.rng.random() < indirect:
                frames = (
                    self._words("asking_frames", ASKING_FRAMES)
                    if self.rng.random() < 0.55
                    else self._words("telling_frames", TELLING_FRAMES)
                )
            if _SAYS_ME.search(body):
                frames = tuple(f for f in frames if not _IMPERSONAL.match(f))
            if _has_free_text(intent):  # words after free text would be read as part of it
                frames = tuple(f for f in frames if f.endswith(("{t}.", "{t}?"))) or ("{B}.",)
            frame = self._pick(frames)
            sentence = frame.format(b=adverb + body, B=_upper_first(adverb + body), t=tail)
        else:
            sentence = text
            asks = _WH.match(text) is not None and text.rstrip().endswith("?")
            if asks and not self.terse and self.rng.random() < (0.04 if later else 0.08) * (1 + self.persona.verbosity):
                sentence = self._pick(self._words("question_leads", QUESTION_LEADS)) + lower_first(text)
        sentence = _article(_upper_first(sentence))
        if (
            motive
            and not self.terse
            and self.persona.verbosity >= 1
            and self.rng.random() < 0.1 * self.persona.verbosity
        ):
            why = self._pick(self._motives(intent))
            # a later request may follow a lead ("Right, now"): its reason goes after it
            first = self.rng.random() < 0.5 and not later
            sentence = f"{why} {sentence}" if first else f"{sentence} {why}"
        return sentence

    def _motives(self, intent: Intent) -> tuple[str, ...]:
        """Why one asks: the general reasons, and those of what the request is about."""
        general = MOTIVES["write" if intent.steps[-1].tool.startswith(("update_", "create_")) else "read"]
        words = set(re.findall(r"[a-z]+", " ".join(step.tool for step in intent.steps)))
        topical = next((m for nouns, m in TOPIC_MOTIVES if words & {*nouns, *(n + "s" for n in nouns)}), ())
        return general + topical

    def joined(self, sentences: list[str]) -> str:
        """Several requests of one turn, linked by connectors."""
        out = sentences[:1]
        for sentence in sentences[1:]:
            # a chatty persona links its requests; others just ask the next thing
            linked = self.rng.random() < 0.2 + 0.2 * self.persona.verbosity
            connector = self._pick(self._words("connectors", CONNECTORS))
            out.append(f"{connector} {lower_first(sentence)}" if linked else sentence)
        return " ".join(out)

    def withheld(self, intent: Intent, slots: dict[str, object]) -> str:
        """A request that says what the user wants but leaves out their personal details."""
        description = intent.description
        found = [description.find("{" + name + "}") for name in personal_slots(intent)]
        first = min([i for i in found if i >= 0], default=len(description))
        words = description[:first].split()
        while words and words[-1].lower().strip("(") in _TRAILING_WORDS:
            words.pop()
        wanted = render(" ".join(words), slots).strip() or "sort out my account"
        return _upper_first(self._pick(WITHHELD).format(x=wanted))

    # ------------------------------------------------------------ around requests

    def opening(self, noun: str | None) -> str:
        """Greeting, introduction and purpose for the first message of a dialogue ('' when terse or brief)."""
        persona = self.persona
        if self.terse:
            return self.casualise(f"{persona.name} here.") if persona.name and self.rng.random() < 0.3 else ""
        parts: list[str] = []
        if self.rng.random() < 0.85:
            parts.append(self._pick(self._words("greetings", GREETINGS)))
        if persona.name and self.rng.random() < 0.6:
            intro = self._pick(self._words("introductions", INTRODUCTIONS)).format(
                name=persona.name, first=persona.name.split()[0]
            )
            parts.append(intro)
        if persona.facts and self.rng.random() < 0.25 * persona.verbosity:
            kind, value = self.rng.choice(persona.facts)  # "I live in Lyon", "I've been with you since 2024-03-02"
            parts.append(self._pick(ABOUT_ME[kind]).format(v=value))
        if persona.verbosity >= 1 and self.rng.random() < 0.6:
            purpose = self._pick(self._words("purposes", PURPOSES))
            things: tuple[str, ...] = (
                THINGS  # never "something to sort out with something", "a few things on a couple of things"
            )
            if re.search(r"thing", purpose.replace("{thing}", "")):
                things = tuple(t for t in THINGS if "thing" not in t)
            thing = _article(self._pick(things).format(noun=noun or "account"))
            parts.append(purpose.format(thing=thing))
        if not parts:
            return ""
        text = ", ".join([parts[0], *parts[1:]]) if len(parts) > 1 else parts[0]
        return self.casualise(_upper_first(text) + self._pick((".", "!", ".")))

    def acknowledgement(self, echo: tuple[str, str] | None) -> str:
        """A reaction to an answer that served the request, echoing what it said when there is something to echo.

        Thanks are one reaction among several: a plain persona mostly just takes the
        answer in ("Okay, so it's delivered."), and a reaction may be the echo alone. Never a
        reaction the user gave in their latest turns ("Ah good, that's that one ticked off." twice).
        """
        return self._fresh(lambda: self._acknowledgement(echo))

    def _acknowledgement(self, echo: tuple[str, str] | None) -> str:
        if self.found_nothing:
            return self.casualise(
                self._pick(TERSE["empty"] if self.terse else self._words("nothing_found", NOTHING_FOUND))
            )
        if self.terse:
            if echo is not None and echo[1] and self.rng.random() < 0.5:
                said = self._pick(self._words(f"echo_{echo[0]}", ECHOES[echo[0]])).format(v=echo[1])
                return self.casualise(_ended(f"{self._pick(TERSE['ack']).rstrip('.')}, {said}"))
            return self.casualise(self._pick(TERSE["ack"]))
        level = ("plain", "polite", "warm")[self.persona.politeness]
        thankful = self.rng.random() < (0.15, 0.45, 0.7)[self.persona.politeness]
        ack = self._pick(self._words(level, ACKS[level]) if thankful else self._words("plain", ACKS["plain"]))
        if echo is not None and echo[0] == "status" and echo[1].lower() in BAD | GOOD and self.rng.random() < 0.6:
            news = self._words("bad_news", BAD_NEWS) if echo[1].lower() in BAD else self._words("good_news", GOOD_NEWS)
            return self.casualise(self._pick(news).format(v=echo[1], V=_upper_first(echo[1])))
        if echo is not None and self.rng.random() < 0.8:
            kind, value = echo
            said = self._pick(self._words(f"echo_{kind}", ECHOES[kind])).format(v=value)
            if self.rng.random() < 0.35 and not said.endswith("?"):  # never "right?, good."
                return self.casualise(f"{_upper_first(said)}{self._pick(self._words('echo_ends', ECHO_ENDS))}")
            return self.casualise(_ended(f"{ack}, {said}"))  # "Alright, it says active, right?"
        return self.casualise(f"{ack}.")

    def not_that_one(self, date: str) -> str:
        """The user points out that the record the assistant took is not the one they meant (their first)."""
        if self.terse:
            return self.casualise(f"No, the first one is from {date}.")
        return self.casualise(self._pick(CORRECTIONS).format(v=date))

    def already_told(self) -> str:
        """The right record's answer is already on the page: nothing to ask again."""
        return self.casualise(self._pick(ALREADY_TOLD))

    def recall(self, detail: str) -> str:
        """Which record the user means, by a detail an earlier answer gave ("That's the one from 2025-05-27.")."""
        dated = re.fullmatch(r"\d{4}-\d{2}-\d{2}", detail) is not None
        options = RECALL_DATED if dated else RECALL_NAMED
        return self.casualise(self._pick(options).format(v=detail))

    def context(self, kind: str, value: str, noun: str) -> str:
        """Something the user knows of their own record, said beside the request ("I placed it on 2025-05-27.")."""
        return self.casualise(self._pick(OWN_DETAILS[kind]).format(v=value, noun=noun))

    def pick_record(self, n: int, row: dict) -> str:
        """Which of the records the assistant listed the user means: "The second one." or "The one from 2025-05-27." """
        date = next((v for v in row.values() if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)), None)
        options = [f"The {ORDINALS[n]} one.", f"The {ORDINALS[n]} one, please.", f"That would be number {row['id']}."]
        if date:
            options += [f"The one from {date}.", f"The {date} one.", f"I mean the one dated {date}."]
        if self.terse:
            return self.casualise(f"{row['id']}.")
        return self.casualise(self._pick(tuple(options)))

    def then(self, request: str) -> str:
        """A request that follows a reaction, now and then led in by "Next," or "One more thing:"."""
        lead = self._pick(self._words("next", NEXT))
        return f"{lead} {lower_first(request)}" if lead else request

    def retry(self) -> str:
        return self.casualise(self._pick(TERSE["retry"] if self.terse else RETRIES))

    def gave_up(self) -> str:
        return self.casualise(self._pick(TERSE["gave_up"] if self.terse else GAVE_UP))

    def revise(self) -> str:
        return self.casualise(self._pick(TERSE["revise"] if self.terse else REVISIONS))

    def confirm(self, request: str, value: str | None = None, created: bool = False) -> str:
        """A verification turn: a lead that names the new value or record when there is one, then the read.

        After a lead ending in a colon the read goes on in lower case ("Just to be sure it went through:
        bring up ...").
        """
        if self.terse:
            lead = self.casualise(self._pick(TERSE["confirm"]))
        elif value and self.rng.random() < 0.7:
            lead = self.casualise(self._pick(CONFIRMS_CREATED if created else CONFIRMS_CHANGED).format(v=value))
        else:
            lead = self.casualise(self._pick(self._words("confirms", CONFIRMS)))
        return f"{lead} {lower_first(request) if lead.endswith(':') else request}"

    def compare(self, request: str, many: str) -> str:
        """A check that sees a change among the user's other records: a lead, then the list's request."""
        lead = self.casualise(self._pick(COMPARES).format(many=many))
        return f"{lead} {lower_first(request) if lead.endswith(':') else request}"

    def task_done(self) -> str:
        return self._fresh(self._task_done, lambda: self._acknowledgement(None))  # used up: a plain "Okay."

    def _task_done(self) -> str:
        if self.found_nothing:
            return self.casualise(
                self._pick(TERSE["empty"] if self.terse else self._words("nothing_found", NOTHING_FOUND))
            )
        return self.casualise(self._pick(TERSE["done"] if self.terse else self._words("done", DONE_WITH_TASK)))

    def closing(self, echo: tuple[str, str] | None = None) -> str:
        """The last message: all done, thanks, and now and then a sign-off; it may first take in the last answer."""
        return self._fresh(lambda: self._closing(echo))

    def _closing(self, echo: tuple[str, str] | None) -> str:
        if self.terse:
            return self.casualise(self._pick(TERSE["closing"]))
        lead = ""
        if echo is not None and echo[1] and self.rng.random() < 0.6:
            lead = (
                _ended(_upper_first(self._pick(self._words(f"echo_{echo[0]}", ECHOES[echo[0]])).format(v=echo[1])))
                + " "
            )
        endings = self._words("endings", ENDINGS)
        if self.found_nothing:  # nothing to be pleased about: no "that solves it" after an empty answer
            endings = tuple(e for e in endings if not _PLEASED.search(e)) or ("That's all",)
        ending = self._pick(endings)
        if ending in TAILED_ENDINGS and self.rng.random() < 0.25 * (1 + self.persona.verbosity):
            ending = f"{ending} {self._pick(ENDING_TAILS)}"
        if (self.persona.politeness or self.rng.random() < 0.5) and not self.found_nothing:
            text = f"{ending}, {self._pick(self._words('thanks', THANKS))}"
        else:  # no thanks: a plain "Okay, that's the lot."
            text = f"{self._pick(self._words('plain', ACKS['plain']))}, {lower_first(ending)}."
        sign_off = self._pick(self._words("sign_offs", SIGN_OFFS)) if self.persona.politeness else ""
        return self.casualise(f"{lead}{text} {sign_off}".strip())

    def digression(self) -> str:
        return self._pick(DIGRESSIONS)

    def casualise(self, text: str) -> str:
        """Informal spelling and the odd typo when the `casual` rule is in force (small talk only)."""
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


_RECENT_TURNS = 12  # how far back the user remembers what they said (a long dialogue costs no more per turn)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_KEY_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")


def said_before(messages: list[ChatMessage]) -> frozenset[str]:
    """The sentences of the user's latest turns, as `sentence_keys` writes them."""
    keys: set[str] = set()
    turns = 0
    for message in reversed(messages):
        if message.role is Role.USER:
            keys.update(sentence_keys(message.text))
            turns += 1
            if turns == _RECENT_TURNS:
                break
    return frozenset(keys)


@functools.lru_cache(maxsize=1024)  # each user turn is read again by the next twelve
def sentence_keys(text: str) -> tuple[str, ...]:
    """Each sentence of `text` by its words, lower-cased ("Okay, thanks!" and "okay thanks" are one)."""
    return tuple(_sentence_key(sentence) for sentence in _SENTENCE_END.split(text) if sentence)


@functools.lru_cache(maxsize=1024)  # the lexicon's lists: a few hundred, drawn from over and over
def _option_keys(options: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_sentence_key(option) for option in options)


@functools.lru_cache(maxsize=4096)
def _sentence_key(sentence: str) -> str:
    return " ".join(_KEY_WORD.findall(sentence.lower()))


_PLEASED = re.compile(r"everything|solves|sorts me|sorted|covers|needed|mind at ease|answers", re.I)
_THANKS_WORDS = re.compile(r"(?:,\s*)?\b(?:thanks so much|thanks a lot|thank you so much|thank you|thanks|thx)\b", re.I)
_CLOSING_LIKE = re.compile(r"\b(that solves it|that's (all|everything|it)|all set|nothing else|goodbye|bye)\b", re.I)


def not_a_goodbye(text: str) -> str:
    """A short thankful turn that also asks for something, without the thanks (so it never reads as a goodbye)."""
    if "?" in text or len(text.split()) > 10 or _CLOSING_LIKE.search(text):
        return text
    stripped = _THANKS_WORDS.sub("", text)
    if re.match(r"^\W", stripped):  # the reaction was only thanks: keep a reaction
        stripped = "Okay" + stripped
    stripped = re.sub(r"\s+([.,!])", r"\1", stripped).replace("..", ".")
    return _upper_first(stripped.strip()) if stripped.strip(" .!,") else text


def personal_slots(intent: Intent) -> list[str]:
    """The slots of a look-up that identify the user (email addresses).

    A new value the user asks to set (`new_email`) or the details of an account
    being opened are the request itself, not something volunteered.
    """
    if intent.steps[-1].tool.startswith(("create_", "update_", "delete_")):
        return []
    return [name for name, kind in intent.slots.items() if kind == "email" and not name.startswith("new_")]


def _has_free_text(intent: Intent) -> bool:
    """Whether the intent has a free-text slot (a tail after it would be read as part of it)."""
    return any(kind == "text" for kind in intent.slots.values())


def _article(text: str) -> str:
    """ "a account" -> "an account", "an product" -> "a product" (after a word was swapped for its synonym)."""
    text = re.sub(r"\b([Aa]) ([aeiouAEIOU])", r"\1n \2", text)
    return re.sub(r"\b([Aa])n ([b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z])", r"\1 \2", text)


def _ended(text: str) -> str:
    """A sentence with its full stop, unless it already asks or exclaims ("it says active, right?")."""
    return text if text.endswith(("?", "!", ".")) else text + "."


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


_I_WORDS = ("I", "I'm", "I've", "I'd", "I'll")


def lower_first(text: str) -> str:
    """Lower-case a sentence's first letter after a connector ("Also, could you..."), never a name's
    ("Then Bruno Ramos is now worth ...")."""
    first, _, rest = text.partition(" ")
    if first in _I_WORDS or (len(first) > 1 and first[1:2].isupper()):
        return text
    second = rest.split(" ", 1)[0]
    if first[:1].isupper() and second[:1].isupper() and first.isalpha() and second not in _I_WORDS:
        return text  # two capitalised words: a name opens the sentence ("Could I ..." is no name)
    return text[:1].lower() + text[1:]
