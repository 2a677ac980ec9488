"""The offline assistant: understands the visible conversation and calls the real tools.

It never sees the hidden task. From the latest user message it recognises
requests (by the domain's phrasings, or by keywords and typed values), runs
each request's tool chain (independent first steps in parallel, chained steps
in order), and answers with values taken only from the tool results. When it
cannot resolve a request it asks a clarifying question instead of guessing.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from turnloom.core.models import ChatMessage, MessageMeta, Role, ToolCall, ToolSpec
from turnloom.core.players.offline.changes_made import as_changed
from turnloom.core.players.offline.knowledge import DomainKnowledge
from turnloom.core.players.offline.language import Clarification, Request, slot_label
from turnloom.core.players.offline.nouns import lexicon_for
from turnloom.core.players.offline.replies import answer
from turnloom.core.players.offline.reply_words import closed_status, status_field_of
from turnloom.core.players.offline.shown_records import listed_record, shown_records, table_of
from turnloom.core.players.roles import RoleContext
from turnloom.core.tools.schema import singular

_CALL_ID = re.compile(r"^call_(\d+)_(\d+)_(\d+)$")
THANKS = re.compile(r"\b(thanks|thank you|that solves|that's all|that's everything|all set)\b", re.I)


@dataclass
class Outcome:
    """How one request ended: its last result, or why it stopped."""

    request: Request
    tool: str
    result: object = None
    error: str | None = None
    unavailable: bool = False
    # the records a change could apply to: more than one fit, so the assistant asks which one
    choices: list[dict] | None = None
    # a record the chain went through that the answer names first: one whose status changes what the
    # answer means (the cancelled booking whose flight was asked for), or one found from what the user
    # said of it ("my booking from 2025-05-19": which booking that is): (the tool that read it, its row)
    caveat: tuple[str, dict] | None = None


class OfflineAssistant:
    def __init__(self, knowledge: DomainKnowledge) -> None:
        self.knowledge = knowledge

    async def propose(self, ctx: RoleContext, tools: list[ToolSpec]) -> ChatMessage:
        messages = ctx.session.messages
        rng = ctx.rng("assistant")
        user_index = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role is Role.USER), -1)
        if user_index < 0:
            return self._text("Hello! What can I help you with today?")
        text = messages[user_index].text
        requests = self.knowledge.parser.parse(text, self._recall(messages, user_index))
        clarification: Clarification | None = None
        if not requests:
            guess = self.knowledge.parser.guess(text)
            if isinstance(guess, Request):
                requests = [guess]
            elif isinstance(guess, Clarification):
                clarification = guess
        if not requests:
            return self._text(self._no_request(text, clarification, rng))

        available = {t.name: t for t in tools}
        executed = self._executed(messages, user_index)
        # read back through the transcript only if a chain needs it
        shown = functools.cache(lambda: shown_records(messages, user_index, available))
        calls: list[ToolCall] = []
        outcomes: list[Outcome] = []
        # requests run in the order they were asked, with changes as barriers: reads asked before a
        # change see the record as it was, reads asked after it see the change; reads between two
        # changes run side by side
        blocked = False
        for r, request in enumerate(requests):
            state = self._advance(r, request, executed, available, shown)
            if isinstance(state, Outcome):
                outcomes.append(state)
                continue
            if blocked:
                continue  # waits for an earlier request's change
            step_index, arguments = state
            blocked = _writes_from(request, step_index, available)
            tool = request.intent.steps[step_index].tool
            if available[tool].writes and calls:
                continue  # a change waits for the reads asked before it
            if any(c.name == tool and c.parsed_arguments() == arguments for c in calls):
                continue  # the same call is already in this batch; its result serves both next turn
            call_id = f"call_{len(messages)}_{r}_{step_index}"
            calls.append(ToolCall(id=call_id, name=tool, arguments=json.dumps(arguments, ensure_ascii=False)))
        if calls:
            return ChatMessage(
                role=Role.ASSISTANT,
                content=None,
                tool_calls=calls,
                meta=MessageMeta(producer="assistant", backend="offline"),
            )
        # a record is reported as this exchange's changes left it, not as it was read before them
        outcomes = as_changed(outcomes, messages, user_index, available)
        asks = [o for o in outcomes if o.choices]
        if asks:
            served = [o for o in outcomes if not o.choices]
            said = answer(served, rng, tools) + "\n\n" if served else ""
            return self._text(said + which_one(asks[0], rng, tools))
        return self._text(answer(outcomes, rng, tools))

    # ------------------------------------------------------------ planning

    def _recall(self, messages: list[ChatMessage], user_index: int):
        """Resolves a spoken reference ("that order") to the value the latest earlier user turn gave that slot."""

        def resolve(slot: str) -> object | None:
            if slot == "email":
                return self._users_email(messages[:user_index])
            looked = 0
            for message in reversed(messages[:user_index]):
                if message.role is not Role.USER:
                    continue
                for request in reversed(self.knowledge.parser.parse(message.text)):
                    if slot in request.slots:
                        return request.slots[slot]
                looked += 1
                if looked == 4:
                    break
            return None

        return resolve

    def _users_email(self, messages: list[ChatMessage]) -> str | None:
        """The email the user goes by: the first they gave for themselves (not a new account's), or what
        they changed it to since."""
        email: str | None = None
        others: set[str] = set()  # the emails of accounts the user opened for someone else
        for message in messages:
            changed = [c for c in message.tool_calls if c.name.startswith("update_") and c.name.endswith("_email")]
            if changed and isinstance(new := changed[-1].parsed_arguments().get("email"), str):
                email = new  # the user changed their email: the new one is theirs
            if email is not None or message.role is not Role.USER:
                continue
            for request in self.knowledge.parser.parse(message.text):
                given = request.slots.get("email")
                if not isinstance(given, str):
                    continue
                if any(
                    s.tool.startswith("create_") and "{email}" in s.arguments.values() for s in request.intent.steps
                ):
                    others.add(given)  # the email of a record being created ("register Iris, iris@…")
                elif given not in others:
                    email = given
                    break
        return email

    @staticmethod
    def _executed(
        messages: list[ChatMessage], user_index: int
    ) -> dict[tuple[int, int], tuple[dict, object, str | None]]:
        """(request, step) -> (arguments, parsed result, error) for calls since the user spoke."""
        calls: dict[str, tuple[int, int, str, dict]] = {}
        done: dict = {}
        for message in messages[user_index + 1 :]:
            if message.role is Role.ASSISTANT:
                for call in message.tool_calls:
                    match = _CALL_ID.match(call.id)
                    if match:
                        calls[call.id] = (int(match.group(2)), int(match.group(3)), call.name, call.parsed_arguments())
            elif message.role is Role.TOOL and message.tool_call_id in calls:
                r, s, tool, arguments = calls[message.tool_call_id]
                try:
                    result = json.loads(message.content or "null")
                except json.JSONDecodeError:
                    result = message.content
                error = None
                if message.meta.tool_error or (isinstance(result, dict) and "error" in result and len(result) <= 3):
                    error = str(result.get("error")) if isinstance(result, dict) else str(result)
                # by (request, step), and by (tool, arguments) so another request can reuse the result
                done[(r, s)] = (arguments, result, error)
                done[(tool, json.dumps(arguments, sort_keys=True))] = (arguments, result, error)
        return done

    def _advance(
        self,
        r: int,
        request: Request,
        executed,
        available: dict[str, ToolSpec],
        shown: Callable[[], list[tuple[str, dict]]],
    ):
        """The next (step, arguments) of a request, or its Outcome when it has ended."""
        steps = request.intent.steps
        previous: object = None
        results: list[object] = []  # each step's result so far, for a step taking an earlier one's (`$0.id`)
        caveat: tuple[str, dict] | None = None
        for s, step in enumerate(steps):
            known = executed.get((r, s))
            if known is None:
                arguments = _arguments(step.arguments, request.slots, previous, results)
                if arguments is not None:
                    known = executed.get((step.tool, json.dumps(arguments, sort_keys=True)))
                if known is None and arguments is not None and s < len(steps) - 1 and step.tool in available:
                    # a record on the way to what was asked that the search just before found with every field
                    # is taken from it ("Tiago Esteves": the search found him; no second read of player 19)
                    for n, earlier in enumerate(results):
                        row = listed_record(earlier, available[step.tool], available.get(steps[n].tool), arguments)
                        if row is not None:
                            known = (arguments, row, None)
                            break
                if known is None and arguments is not None and s < len(steps) - 1:
                    # a record on the way to what was asked that the conversation shows as it stands
                    # (read, and nothing written to its table since) is not read again: "my file you just showed"
                    known = _shown(shown(), step.tool, arguments, available)
            if known is not None:
                _, result, error = known
                if error is not None:
                    return Outcome(request, step.tool, error=error)
                if result is None or result == []:
                    return Outcome(request, step.tool, result=result)
                found_by_search = s > 0 and steps[s - 1].tool.startswith("search_")
                if s < len(steps) - 1 and isinstance(result, dict) and "id" in result:
                    kept = caveat is not None and closed_status(caveat[1]) is not None  # the first closed one
                    if (closed_status(result) is not None or found_by_search) and not kept:
                        caveat = (step.tool, result)  # cancelled, or found from what the user said of it
                previous = result
                results.append(result)
                continue
            if step.tool not in available:
                return Outcome(request, step.tool, unavailable=True)
            if _ambiguous(step.arguments, previous, results) and available[step.tool].writes:
                # a change to "my pending order" when there are several: ask rather than guess
                rows = previous if isinstance(previous, list) else []
                return Outcome(request, step.tool, choices=[r for r in rows if isinstance(r, dict)])
            arguments = _arguments(step.arguments, request.slots, previous, results)
            if arguments is None:
                return Outcome(request, step.tool, result=None)
            return s, arguments
        written = (spec := available.get(steps[-1].tool)) is not None and spec.writes
        return Outcome(request, steps[-1].tool, result=previous, caveat=None if written else caveat)

    # ------------------------------------------------------------ wording

    def _no_request(self, text: str, clarification: Clarification | None, rng: random.Random) -> str:
        if clarification is not None:
            labels = " and the ".join(slot_label(name) for name in clarification.missing)
            return rng.choice(
                (
                    f"Sure, I can help with that. Could you tell me the {labels}?",
                    f"Happy to help. What is the {labels}?",
                    f"I can do that. Which {labels} should I use?",
                )
            )
        if THANKS.search(text) and "?" not in text:
            return rng.choice(
                (
                    "You're welcome! Let me know if there's anything else.",
                    "Glad I could help. Have a good day!",
                    "Anytime! Feel free to reach out if you need more help.",
                )
            )
        examples = [i.description for i in self.knowledge.pack.intents if "{" not in i.description][:2]
        if not examples:
            examples = [re.sub(r"\s*\{\w+\}", "", i.description) for i in self.knowledge.pack.intents[:2]]
        return (
            "I'm not sure I follow. Could you tell me what you'd like me to look up or change? "
            f"For example, I can {examples[0]}" + (f" or {examples[1]}." if len(examples) > 1 else ".")
        )

    @staticmethod
    def _text(text: str) -> ChatMessage:
        return ChatMessage(role=Role.ASSISTANT, content=text, meta=MessageMeta(producer="assistant", backend="offline"))


def _shown(shown: list[tuple[str, dict]], tool: str, arguments: dict, available: dict[str, ToolSpec]):
    """A record read before this turn, with nothing written to its table since, that a look-up with these arguments
    would return: one of the same table whose fields hold the arguments' values."""
    spec = available.get(tool)
    if spec is None or spec.writes or spec.returns != "one":
        return None  # only a look-up of one record is answered by one record
    for table, record in shown:
        if table == table_of(spec) and all(record.get(k) == v for k, v in arguments.items()):
            return arguments, record, None
    return None


def _writes_from(request: Request, step: int, available: dict[str, ToolSpec]) -> bool:
    """Whether the request still has a write to make from `step` on."""
    return any((spec := available.get(s.tool)) is not None and spec.writes for s in request.intent.steps[step:])


def _ambiguous(templates: dict[str, str], previous: object, results: Sequence[object] = ()) -> bool:
    """Whether a step takes a record from a list that holds more than one."""
    for template in templates.values():
        source = previous if template.startswith("$prev.") else _earlier(template, results)
        if template.startswith("$") and isinstance(source, list) and len(source) > 1:
            return True
    return False


_EARLIER = re.compile(r"^\$(\d+)\.(\w+)$")


def _earlier(template: str, results: Sequence[object]) -> object:
    """The result of the step a `$<n>.field` template names (None for any other template)."""
    match = _EARLIER.match(template)
    return results[int(match.group(1))] if match and int(match.group(1)) < len(results) else None


WHICH = (
    "Which one do you mean?",
    "Which of these should I go ahead with?",
    "Which one is it?",
    "Could you tell me which one?",
    "Which one would you like me to change?",
)


def which_one(outcome: Outcome, rng: random.Random, tools: Sequence[ToolSpec] = ()) -> str:
    """The clarifying question for a change that fits several records: the records, and which one.

    Each record with its status and a date, so the user can tell them apart; a status they all share
    is said once ("2 confirmed bookings match").
    """
    rows = outcome.choices or []
    noun = _entity(outcome.request.intent.steps, outcome.tool).replace("_", " ")
    status = status_field_of(rows[0], lexicon_for(tools)) if rows else None
    shared = rows[0].get(status) if status and len({str(r.get(status)) for r in rows}) == 1 else None
    listed = []
    for row in rows[:5]:
        details = [str(row[status])] if status and shared is None and row.get(status) is not None else []
        details += [next((str(v) for v in row.values() if isinstance(v, str) and _DATE.fullmatch(v)), "")]
        details = [d for d in details if d]
        listed.append(f"{noun} {row.get('id')}" + (f" ({', '.join(details)})" if details else ""))
    items = ", ".join(listed[:-1]) + f" and {listed[-1]}" if len(listed) > 1 else listed[0]
    count = len(rows)
    kind = f"{shared} {noun}" if shared is not None else noun
    lead = rng.choice(
        (f"I found {count} {kind}s that fit: ", f"There are {count} {kind}s it could be: ", f"{count} {kind}s match: ")
    )
    return f"{lead}{items}. {rng.choice(WHICH)}"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _entity(steps, write_tool: str) -> str:
    """The record a change is about: what the step before it searched (search_appointments -> appointment)."""
    tools = [s.tool for s in steps]
    before = tools[tools.index(write_tool) - 1] if write_tool in tools and tools.index(write_tool) > 0 else ""
    if before.startswith("search_"):
        return singular(before.removeprefix("search_"))
    name = write_tool.split("_", 1)[1] if "_" in write_tool else write_tool
    return name.rsplit("_", 1)[0] if name.count("_") else name


def _arguments(templates: dict[str, str], slots: dict, previous: object, results: Sequence[object] = ()) -> dict | None:
    arguments: dict = {}
    row = previous[0] if isinstance(previous, list) and previous else previous
    for name, template in templates.items():
        if template.startswith("$prev."):
            if not isinstance(row, dict) or template[6:] not in row:
                return None
            arguments[name] = row[template[6:]]
        elif (match := _EARLIER.match(template)) is not None:
            earlier = _earlier(template, results)
            record = earlier[0] if isinstance(earlier, list) and earlier else earlier
            if not isinstance(record, dict) or match.group(2) not in record:
                return None
            arguments[name] = record[match.group(2)]
        elif template.startswith("{") and template.endswith("}"):
            key = template[1:-1]
            if key not in slots:
                return None
            arguments[name] = slots[key]
        else:
            arguments[name] = template
    return arguments
