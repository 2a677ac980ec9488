"""The words the offline user's voice draws from: greetings, request frames, reactions, closings.

The grammar that puts them together, in a persona's voice, is `voice`; these are its lexicon,
kept apart so the grammar reads as code and the lists as lists.
"""

from __future__ import annotations

GREETINGS = ("Hi", "Hello", "Hey", "Hi there", "Hello there", "Good morning", "Good afternoon", "Morning", "Hey there")

INTRODUCTIONS = ("this is {name}", "{first} here", "my name is {name}", "it's {name}", "I'm {name}")

PURPOSES = (
    "I have a question about {thing}",
    "I need a hand with {thing}",
    "I'm hoping you can help with {thing}",
    "I'd like some help with {thing}",
    "I've got something to sort out with {thing}",
    "I'm getting in touch about {thing}",
    "can you help me with {thing}",
    "I'm trying to sort out {thing}",
    "I'm hoping you can clear something up about {thing}",
    "I've got a question or two about {thing}",
    "I could use some help with {thing}",
    "I want to check on {thing}",
    "I'm after some information on {thing}",
)

# what a person says about themselves in an opening, from their own record
ABOUT_ME = {
    "city": (
        "I live in {v}",
        "I'm based in {v}",
        "I'm over in {v}",
        "I'm writing from {v}",
        "I'm in {v}, by the way",
        "home for me is {v}",
        "I'm a {v} local",
    ),
    "tier": (
        "I'm a {v} member",
        "I'm on your {v} tier",
        "I have {v} status with you",
        "my membership is {v}",
        "I'm one of your {v} customers",
    ),
    "since": (
        "I've been with you since {v}",
        "I signed up back on {v}",
        "my account dates from {v}",
        "I've been a customer since {v}",
        "I joined on {v}",
    ),
}

THINGS = (
    "my {noun}",
    "a {noun}",
    "a {noun} of mine",
    "a couple of things",
    "something",
    "a few things",
    "my account",
    "my {noun} with you",
    "a {noun} I have with you",
)

ASKING_FRAMES = (
    "could you {b}{t}?",
    "can you {b}{t}?",
    "would you {b}{t}?",
    "would you be able to {b}{t}?",
    "are you able to {b}{t}?",
    "any chance you could {b}{t}?",
    "could you please {b}{t}?",
    "can you please {b}{t}?",
    "is it possible to {b}{t}?",
    "could I ask you to {b}{t}?",
    "do you think you could {b}{t}?",
    "would you mind if I asked you to {b}{t}?",
    "can I get you to {b}{t}?",
    "could you maybe {b}{t}?",
    "is there a way to {b}{t}?",
    "can we {b}{t}?",
    "would it be possible to {b}{t}?",
)

TELLING_FRAMES = (
    "please {b}{t}.",
    "I'd like you to {b}{t}.",
    "I need you to {b}{t}.",
    "I was hoping you could {b}{t}.",
    "I'd appreciate it if you could {b}{t}.",
    "{B}{t}, please.",
    "if you could {b}{t}, that would be great.",
    "it would help if you could {b}{t}.",
    "I'd be glad if you could {b}{t}.",
    "I'd love it if you could {b}{t}.",
    "let's {b}{t}.",
    "I want you to {b}{t}.",
    "what I need is for you to {b}{t}.",
    "go ahead and {b}{t}.",
    "I'm asking you to {b}{t}.",
)

PLAIN_FRAMES = ("{B}{t}.", "{B}{t}.", "{B}{t}, please.", "please {b}{t}.", "can you {b}{t}?")

ADVERBS = ("", "", "", "quickly ", "just ")

TAILS = (
    *("",) * 10,
    " for me",
    " when you get a chance",
    " if you can",
    " if possible",
    " when you have a sec",
    " while I wait",
    " if that's okay",
    " if it's no trouble",
)

QUESTION_LEADS = (
    "quick question: ",
    "I'm wondering: ",
    "something I'd like to know: ",
    "one thing I'm curious about: ",
    "let me ask: ",
    "I've been meaning to ask: ",
    "here's what I want to know: ",
    "quick one: ",
    "tell me something: ",
    "before I forget: ",
)

MOTIVES = {
    "read": (
        "I want to make sure everything is in order.",
        "I'm trying to keep track of things.",
        "It's for my records.",
        "I'm planning ahead a bit.",
        "I just want to be sure where things stand.",
        "I couldn't find it anywhere myself.",
        "I lost the confirmation email.",
        "My partner asked me about it this morning.",
        "The website kept timing out on me.",
        "I'd rather hear it from you than guess.",
        "I'm doing my monthly paperwork.",
        "Someone at the counter told me to call.",
        "I only have my phone with me right now.",
        "It came up while I was tidying my files.",
        "I'm trying to get my paperwork straight.",
        "I want to double-check before I make plans.",
        "A friend asked and I wasn't sure.",
        "I'd like to have it written down somewhere.",
        "My memory isn't what it was.",
        "I'm putting together a budget.",
        "I got a bit confused by the last email.",
        "I'd like to know before the weekend.",
    ),
    "write": (
        "Plans changed on my end.",
        "Something came up.",
        "That works better for me.",
        "I've thought it over.",
        "It has to be done today, ideally.",
        "My schedule changed last minute.",
        "I talked it over at home.",
        "It's been on my to-do list for a week.",
        "Better to fix it now than forget.",
        "I'd rather sort it out while I remember.",
        "It saves me a headache later.",
        "My circumstances have changed.",
        "I promised I'd get it done today.",
        "It's simpler this way for me.",
        "I only just realised it needs changing.",
    ),
}

# why the user asks, in the words of what the request is about (matched on the tools' nouns)
TOPIC_MOTIVES = (
    (
        ("flight", "booking", "bag", "passenger"),
        (
            "I fly out soon and want no surprises.",
            "My travel plans keep shifting.",
            "I'm sorting out a trip for work.",
            "My sister is travelling with me.",
            "I have a connection to catch.",
            "The airport app wasn't clear about it.",
            "I want to pack the right way.",
            "I'm meeting family at the other end.",
            "My boss needs my travel dates.",
            "I'd like to plan the drive to the airport.",
        ),
    ),
    (
        ("appointment", "prescription", "doctor", "patient"),
        (
            "My knee has been bothering me again.",
            "My insurance asks for the details.",
            "I keep losing track of my visits.",
            "I need it for my pharmacy.",
            "My GP asked me to check.",
            "I'm arranging time off work for it.",
            "My daughter is driving me there.",
            "I want to put it in my diary properly.",
            "The clinic letter got lost in the post.",
        ),
    ),
    (
        ("order", "product", "item", "customer"),
        (
            "It's meant to be a birthday present.",
            "I'm moving house at the end of the month.",
            "I need it before the weekend.",
            "My partner placed part of it.",
            "I'm keeping an eye on my spending.",
            "The tracking page says nothing useful.",
            "I'm tidying up my receipts.",
            "A friend wants the same thing.",
            "I'm doing my monthly budget.",
        ),
    ),
    (
        ("invoice", "plan", "subscriber", "ticket"),
        (
            "My last bill looked higher than usual.",
            "I'm travelling abroad next month.",
            "My data runs out far too quickly.",
            "I'm comparing offers from other providers.",
            "My bank flagged the direct debit.",
            "My contract is up for renewal soon.",
            "The kids keep using up the data.",
            "I'm sorting out the household bills.",
        ),
    ),
    (
        ("player", "club", "contract", "appearance"),
        (
            "The transfer window closes soon.",
            "We're planning the squad for next season.",
            "The board wants a report on Friday.",
            "The coach asked me to look into it.",
            "Scouting wants the numbers.",
            "The chairman asked for an update.",
            "I'm preparing for the next board meeting.",
            "We're reviewing the wage bill.",
        ),
    ),
)

CONNECTORS = (
    "Also,",
    "And",
    "Plus,",
    "On top of that,",
    "While you're at it,",
    "Oh, and",
    "Separately,",
    "Besides that,",
    "Another thing,",
    "And also,",
    "Oh, one more:",
    "Then,",
    "As well as that,",
    "And then,",
)

NEXT = (
    *("",) * 20,
    "Now,",
    "Next,",
    "Then",
    "One more thing:",
    "After that,",
    "Moving on,",
    "Another thing:",
    "Also,",
    "Next up:",
    "Right, now",
    "Then, if you would,",
    "Second thing:",
    "And another thing:",
    "Next question:",
    "Now for something else:",
    "On another note,",
    "Okay, next:",
)


RETRIES = (
    "Hmm, that's not what I was after.",
    "That doesn't really answer it, I'm afraid.",
    "I don't think that covered it.",
    "That's not quite it.",
    "Sorry, that's not what I meant.",
    "Hm, I still need that one.",
    "That's not quite what I was asking about.",
    "Hm, I think we got our wires crossed.",
    "Hm, I was after something else, sorry.",
    "That's not the bit I needed.",
)

GAVE_UP = (
    "Okay, never mind that one.",
    "Fine, let's skip that.",
    "Forget that one then.",
    "Okay, we can leave that.",
    "No worries, let's skip it.",
    "Alright, let's drop that one.",
    "Okay, never mind, moving on.",
    "Fine, I'll sort that one out later.",
)

REVISIONS = (
    "On second thought,",
    "Actually, I've changed my mind:",
    "Hmm, on second thought,",
    "I changed my mind:",
    "Wait, actually, I've changed my mind:",
    "Hmm, I changed my mind on that:",
)

CONFIRMS = (
    "Just to be sure it went through:",
    "Before we move on, can you confirm it?",
    "Can you check it took effect?",
    "To be safe, let's check:",
    "I'd rather see it for myself.",
    "Humour me and double-check it.",
    "Could you double-check that it saved?",
    "Can you make sure it's really in the system?",
    "Mind checking that it went through?",
    "I'd like to see it for myself now.",
    "Can we check that it stuck?",
)

# a check that looks at a change among the user's other records, to compare
COMPARES = (
    "I'd like to see it next to my other {many}:",
    "Can I see the whole list again, so I can compare?",
    "Let me check it against the rest of my {many}:",
    "To be sure nothing else moved, show me all of them:",
    "Could you list my {many} again so I can see it in context?",
    "I want to compare it with my other {many}.",
    "Show me the full list again so I can compare:",
    "I'd like to see all my {many} side by side:",
    "Let me look at it among my other {many}:",
)

# a check that names what was changed or made ("Hamburg", "Lena Vogel")
CONFIRMS_CHANGED = (
    "I'd like to see {v} on it before we go on.",
    "Did {v} really stick?",
    "Let me make sure {v} went through.",
    "I want to be sure it says {v} now.",
    "Can you show me it's {v} now?",
    "Just checking {v} is saved:",
    "Does it show {v} on your side now?",
    "Could you confirm it's {v} in the system?",
    "I'd feel better seeing {v} there:",
    "Humour me, is it {v} now?",
    "Can you check it shows {v} now?",
    "Is {v} there now? Let me see:",
    "Does the record say {v} now?",
    "I'd like to be sure {v} is saved:",
)

CONFIRMS_CREATED = (
    "Just to check the new record for {v} is there:",
    "Can you make sure {v} was really added?",
    "Let me see that {v} is in the system now.",
    "Is {v} really on file now?",
    "Could you check {v} is on file now?",
    "I'd like to see {v} in the system:",
    "Can you confirm {v} was added?",
)


CORRECTIONS = (
    "Hm, that's not my first one though; my first was on {v}.",
    "Actually, the first one is the one from {v}, not that one.",
    "No, my first was earlier, on {v}.",
    "Hmm, I meant the earliest one, from {v}.",
    "That's not the first one, though; mine was on {v}.",
    "Hang on, no, my first one was the one from {v}.",
    "No, I meant the earliest, the one on {v}.",
)

ALREADY_TOLD = (
    "But you already went through that one, so I'm covered.",
    "You showed me that one earlier, though, so that's fine.",
    "We looked at that one already, so never mind.",
    "No need to look again, you told me about it before.",
    "You already told me about that one, so it's fine.",
    "We covered that one before, so no need.",
)

RECALL_DATED = (
    "That's the one from {v}.",
    "The {v} one, I mean.",
    "I mean the one dated {v}.",
    "It's the one on {v}.",
    "(The one from {v}.)",
    "The one dated {v}, that is.",
    "I mean the one on {v}.",
)

RECALL_NAMED = (
    "That's the {v} one.",
    "The one with {v}, I mean.",
    "I mean the {v} one.",
    "(The {v} one.)",
    "The one for {v}, that is.",
    "I mean the one with {v}.",
)

# what a user knows of their own record, said beside a request about it
OWN_DETAILS = {
    "date": (
        "It's the {noun} from {v}.",
        "I made it on {v}, if that helps.",
        "That's my {noun} of {v}.",
        "It should be dated {v}.",
        "It goes back to {v}, I think.",
        "The {noun} is from {v}.",
        "I'm fairly sure it's from {v}.",
        "I think it was {v}.",
        "If I remember right, it's dated {v}.",
        "It should say {v} on it.",
        "That one's from {v}, I believe.",
    ),
    "amount": (
        "It came to {v}.",
        "The one for {v}.",
        "It was {v}, if I remember right.",
        "It's the {v} one.",
        "That's the one that cost {v}.",
        "It was about {v}, I think.",
        "The total was {v}.",
        "I paid {v} for it.",
    ),
}

ORDINALS = ("first", "second", "third", "fourth", "fifth")


TERSE = {
    "empty": ("Nothing? OK.", "None then. Fine.", "OK, nothing."),
    "ack": ("OK.", "Fine.", "Right.", "Got it.", "Okay."),
    "retry": ("No, that's not it.", "Not what I asked.", "Still need this."),
    "gave_up": ("Forget that one.", "Skip it."),
    "revise": ("Wait, changed my mind:", "No, actually, I changed my mind:"),
    "confirm": ("Confirm it worked:", "Check it went through:"),
    "done": ("OK, done with that.", "Fine, that's sorted."),
    "closing": ("That's all. Thanks.", "Done, thanks.", "That's it, thanks."),
}

DIGRESSIONS = (
    "By the way, sorry if I'm slow to reply, I'm typing this on the train.",
    "By the way, this chat is a lot quicker than waiting on hold.",
    "Side note: it's been one of those weeks, so I appreciate the patience.",
    "By the way, I've been meaning to sort this out for ages.",
    "Side note: my internet keeps dropping, so bear with me.",
)

WITHHELD = ("I'd like to {x}. What do you need from me?", "Could you help me {x}?", "Can you {x} for me?")
