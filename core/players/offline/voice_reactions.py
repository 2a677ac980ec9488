"""How the offline user takes in an answer: acknowledgements, echoes, good and bad news, closings.

The reactions of `voice`'s grammar (the requests' words are `voice_words`); each register may
replace a list with its own (`voice_registers`). Every reaction carries a word the turn-feedback
check reads as feedback (okay, right, noted, thanks, oh, ...), and none reads as a goodbye or a
complaint before the dialogue's end.
"""

from __future__ import annotations

ACKS = {
    "plain": ("OK", "Okay", "Alright", "Right", "Got it", "Fine", "Good", "Cool", "Understood", "Sure"),
    "polite": (
        "Thanks",
        "Great",
        "Perfect",
        "Great, thanks",
        "Okay, thanks",
        "Thank you",
        "Nice, thanks",
        "Good, thanks",
    ),
    "warm": ("Thank you so much", "That's really helpful, thanks", "Perfect, thank you", "Great, I appreciate it"),
}

ECHOES = {
    "status": (
        "so it's {v}",
        "{v}, good to know",
        "noted, it's {v}",
        "{v} then",
        "so {v}",
        "it's {v}, I see",
        "so the status is {v}",
        "still {v}, I see",
        "{v} it is",
    ),
    "count": ("{v} of them", "that's {v}", "{v} in total", "{v}, I see", "so there are {v}", "{v} altogether"),
    "value": ("{v}, noted", "so {v}", "{v}, I see", "good to know it's {v}", "{v} then", "so it says {v}"),
    "created": (
        "noted, number {v}",
        "{v}, got it",
        "I'll keep {v} as the reference",
        "so the new one is number {v}",
        "number {v}, I'll write that down",
    ),
    # what a reaction restates of an answer, two of its values together (`voice.echo_of`)
    "route": ("so {v}", "{v}, right", "{v}, that's the one", "okay, {v}", "{v}, as I thought"),
    "when": ("so {v}", "{v}, I'll note that", "{v}, okay", "right, {v}", "{v} then, good to know"),
    "sum": ("{v}", "so {v}", "{v}, I see", "{v}, okay", "{v}, more or less what I thought"),
    "item": (
        "I see {v} there",
        "{v} is the one I had in mind",
        "{v}, right",
        "so {v} is on there",
        "{v} rings a bell",
        "{v}, that's what I thought",
    ),
    "changed": ("that's done then", "good that it's changed", "that's sorted", "that went through then", "done, I see"),
    "date": (
        "{v} then",
        "so {v}, okay",
        "{v} works for me",
        "{v}, I'll put that in my calendar",
        "{v}, that's what I had noted",
        "{v}, good to know",
        "right, {v}",
    ),
    "total": (
        "{v} in total, okay",
        "so {v} altogether",
        "{v}, about what I expected",
        "{v}? More than I thought",
        "{v}, that adds up",
        "{v} all in, I see",
        "hm, {v}, fair enough",
    ),
}

# reactions to a status that is bad news for the user, said without an acknowledgement before them
BAD_NEWS = (
    "Oh no, {v}? That's a shame.",
    "{V}? That's not great.",
    "Hm, {v}. I was afraid of that.",
    "{V}, really? Annoying, but okay.",
    "That's a pity, {v}.",
    "Oh, it's {v}. Not what I hoped.",
    "{V}... well, good that I checked.",
    "Ugh, {v}. Okay, noted.",
)

# a status the user was hoping for
GOOD_NEWS = (
    "Great, {v} is what I hoped for.",
    "Good, {v} is what I wanted to hear.",
    "{V}, perfect.",
    "Nice, so it's {v}.",
    "Glad it's {v}.",
    "Phew, {v}.",
    "{V} is good news.",
    "Good to hear it's {v}.",
)

ENDINGS = (
    "That solves it",
    "That's what I needed",
    "Nothing else",
    "We're done",
    "That was the last thing",
    "That sorts me out",
    "That's the lot",
    "I think that's everything",
    "That's everything",
    "That's all I needed",
    "That covers it",
    "That's all",
    "That's it for today",
    "I'm all set",
    "That's everything I needed",
)

ENDING_TAILS = ("for now", "for today", "from me", "on my side", "then")

# the endings a tail reads well after ("Nothing else from me"; not "That's all I needed from me")
TAILED_ENDINGS = frozenset(
    (
        "Nothing else",
        "That was the last thing",
        "That's the lot",
        "I think that's everything",
        "That's everything",
        "That's all",
    )
)

ECHO_ENDS = (", good.", ", fine.", ", okay.", " - good to know.", ", great.")

THANKS = (
    "thanks!",
    "thank you!",
    "thanks a lot!",
    "thanks for the help!",
    "thanks so much!",
    "many thanks!",
    "thanks, cheers!",
    "thanks for sorting it!",
    "appreciate it!",
    "thanks for your patience!",
    "thank you for your help.",
    "thanks.",
)

SIGN_OFFS = (
    *("",) * 5,
    "Have a good day.",
    "Bye!",
    "Take care.",
    "Have a nice evening.",
    "Bye for now.",
    "Have a good weekend.",
    "Talk soon.",
    "All the best.",
)

DONE_WITH_TASK = (
    "That's sorted, thanks.",
    "Great, that part is done.",
    "Thanks, that takes care of it.",
    "Good, that's one thing off my list.",
    "Perfect, that's settled.",
    "Okay, that's handled, thanks.",
)

NOTHING_FOUND = (
    "Hm, nothing at all? Okay.",
    "Nothing there then, okay.",
    "Oh, none? Fine.",
    "So there aren't any. Okay.",
    "Okay, nothing, I see.",
    "Hmm, empty. Alright.",
    "Right, nothing on that then.",
)
