"""Dialogues clean by construction, for any domain or `--db` database, either execution and mode.

`clean_session` plays a short, correct dialogue with a user drawn from the data: they look up
their own account by email (or name), list their own records, ask for a summary, change one field
of one of their records and have it read back, and open an account for someone else with that
person's own name and email. Every tool call really runs on a copy of the database (in simulated
execution too, so results stay consistent); every reply states every field of what it reports;
feedback thanks a served request. The quality tests inject one defect at a time into these.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from turnloom.core.lifecycle.dialogue import base_image, create_session
from turnloom.core.models import (
    ChatMessage,
    FinishReason,
    MessageMeta,
    Mode,
    Role,
    Session,
    Subtask,
    Task,
    ToolCall,
    ToolExecution,
    WriteRecord,
)
from turnloom.core.quality.checks.view import shown, singular
from turnloom.core.tools.sqlenv import SqlEnvironment

NEW_PEOPLE = ("Marta Kowalski", "Idris Bello", "Yuki Sato", "Lena Fischer", "Pablo Ortega", "Amara Obi")


def render(row: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {'not set' if v is None else shown(v)}" for k, v in row.items())


@dataclass
class _Player:
    session: Session
    env: SqlEnvironment
    messages: list[ChatMessage] = field(default_factory=list)
    calls: int = 0

    def user(self, text: str, subtasks: list[int], done: bool = False) -> None:
        meta = MessageMeta(task_index=0, subtasks=subtasks, task_done=done, goal_done=done)
        self.messages.append(ChatMessage(role=Role.USER, content=text, meta=meta))

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """One step with one call; the parsed result."""
        spec = self.session.tool(name)
        assert spec is not None, name
        self.calls += 1
        call_id = f"call_{self.calls}"
        self.messages.append(
            ChatMessage(
                role=Role.ASSISTANT, tool_calls=[ToolCall(id=call_id, name=name, arguments=json.dumps(arguments))]
            )
        )
        result = self.env.execute(spec, arguments)
        assert not result.is_error, (name, arguments, result.content)
        index = len(self.messages)
        self.messages.append(
            ChatMessage(
                role=Role.TOOL, tool_call_id=call_id, name=name, content=result.content, meta=MessageMeta(task_index=0)
            )
        )
        if result.write is not None and self.session.config.execution is ToolExecution.SQL:
            w = result.write
            self.session.write_log.append(
                WriteRecord(
                    message_index=index,
                    tool_call_id=call_id,
                    tool=name,
                    sql=w.sql,
                    params=w.params,
                    rowcount=w.rowcount,
                    lastrowid=w.lastrowid,
                )
            )
        return json.loads(result.content)

    def say(self, text: str) -> None:
        self.messages.append(ChatMessage(role=Role.ASSISTANT, content=text))


def _table_of(sql: str) -> str:
    return sql.split("FROM")[1].split()[0].strip('"')


def clean_session(
    domain: str | None = None,
    db_path: str | None = None,
    execution: ToolExecution = ToolExecution.SQL,
    mode: Mode = Mode.USER_ORIENTED,
    seed: int = 0,
) -> Session:
    """A finished dialogue with no defect, drawn from the data with `seed`."""
    session = create_session(domain, db_path=db_path, mode=mode, execution=execution, seed=seed, tasks=0, rule_set=None)
    rng = random.Random(seed)
    tools = {t.name: t for t in session.tools}
    env = SqlEnvironment(base_image(session))
    try:
        return _play(session, env, tools, rng, mode)
    finally:
        env.close()


def _play(session: Session, env: SqlEnvironment, tools: dict, rng: random.Random, mode: Mode) -> Session:
    # the person table: one with a lookup by email (or by name) and a listing of its records
    people = [n[4:].split("_by_")[0] for n in tools if n.startswith("get_") and n.endswith(("_by_email", "_by_name"))]
    choices = []
    for p in people:
        for name, spec in tools.items():
            if (
                name.startswith(f"get_{p}_")
                and spec.sql
                and f'"{p}_id" = :{p}_id' in spec.sql
                and not name.endswith("_summary")
            ):
                choices.append((p, name))
    p, listing = sorted(choices)[rng.randrange(len(choices))]
    lookup = f"get_{p}_by_email" if f"get_{p}_by_email" in tools else f"get_{p}_by_name"
    key = "email" if lookup.endswith("email") else "name"
    child_table = _table_of(tools[listing].sql)
    c = singular(child_table)
    person_table = _table_of(tools[lookup].sql)
    owners = env.query(f'SELECT "{p}_id" AS id FROM "{child_table}" GROUP BY "{p}_id" ORDER BY "{p}_id"')
    me = env.query(f'SELECT * FROM "{person_table}" WHERE id = :id', {"id": rng.choice(owners)["id"]})[0]
    mine = env.query(f'SELECT * FROM "{child_table}" WHERE "{p}_id" = :id ORDER BY id', {"id": me["id"]})
    target = rng.choice(mine)
    columns = [k for k in target if k != "id" and not k.endswith("_id") and isinstance(target[k], str)]
    columns = [k for k in columns if f"update_{c}_{k}" in tools]
    column = "status" if "status" in columns else rng.choice(columns)
    others = env.query(
        f'SELECT DISTINCT "{column}" AS v FROM "{child_table}" WHERE "{column}" != :v ORDER BY 1', {"v": target[column]}
    )
    new_value = rng.choice(others)["v"]
    summary = f"{listing}_summary" if f"{listing}_summary" in tools else None
    plural = child_table.replace("_", " ")

    player = _Player(session, env)
    subtasks = [
        Subtask(description=f"look up the account with {key} {me[key]}", intent="lookup", slots={key: me[key]}),
        Subtask(description=f"list the {plural} of {p} {me['id']}", intent="listing", slots={f"{p}_id": me["id"]}),
    ]
    rubric = [f"calls {lookup} to look up the account", f"calls {listing} to list the {plural}"]
    if summary:
        subtasks.append(
            Subtask(description=f"see a summary of the {plural}", intent="summary", slots={f"{p}_id": me["id"]})
        )
        rubric.append(f"calls {summary} to summarise the {plural}")
    update = f"update_{c}_{column}"
    subtasks.append(
        Subtask(
            description=f"change the {column.replace('_', ' ')} of {c} {target['id']} to {new_value}",
            intent="update",
            slots={f"{c}_id": target["id"], f"new_{column}": new_value},
        )
    )
    rubric.append(f"calls {update} to change it")
    create = f"create_{p}"
    newcomer = None
    if create in tools and key == "email":
        name = rng.choice(NEW_PEOPLE)
        email = name.lower().replace(" ", ".") + f"{rng.randrange(10, 99)}@example.org"
        newcomer = {"name": name, "email": email}
        for param in tools[create].parameters.get("required", []):
            if param not in newcomer:
                newcomer[param] = me[param] if not isinstance(me[param], str) or "@" in me[param] else me[param] + "x"
        if env.dry_run(tools[create], newcomer).is_error:
            newcomer = None
    if newcomer:
        subtasks.append(
            Subtask(
                description=f"open an account for {newcomer['name']}",
                intent="create",
                slots={"name": newcomer["name"], "email": newcomer["email"]},
            )
        )
        rubric.append(f"calls {create} to open the account")
    session.tasks = [
        Task(goal=f"You ({me[key]}) want to review and update your {plural}.", subtasks=subtasks, rubric=rubric)
    ]
    n = len(subtasks)
    whom = f"I'm {me['name']}, my email is {me['email']}" if key == "email" else f"I manage {me['name']}"
    asks = [
        f"Hi, {whom}. Could you pull up my account?",
        f"Which {plural} do I have?",
        *([f"What do my {plural} come to in total?"] if summary else []),
        f"Please change the {column.replace('_', ' ')} of {c} {target['id']} to {new_value}.",
        *([f"I'd also like to open an account for {newcomer['name']}, email {newcomer['email']}."] if newcomer else []),
    ]
    thanks = ["Thanks.", "Great, thank you.", "Perfect, thanks.", "That helps, thanks."]
    replies: list[str] = []

    def lookup_step() -> None:
        row = player.call(lookup, {key: me[key]})
        replies.append(f"Here is the account: {render(row)}.")

    def listing_step() -> None:
        rows = player.call(listing, {f"{p}_id": me["id"]})
        replies.append(f"Here are the {plural}:\n" + "\n".join(f"- {render(r)}" for r in rows))

    def summary_step() -> None:
        row = player.call(summary, {f"{p}_id": me["id"]})
        replies.append(f"The summary: {render(row)}.")

    def update_step() -> None:
        player.call(update, {"id": target["id"], column: new_value})
        replies.append(f"Done: {c} {target['id']} now has {column.replace('_', ' ')} {new_value}.")

    def verify_step() -> None:
        row = player.call(f"get_{c}_by_id", {"id": target["id"]})
        replies.append(f"Here it is: {render(row)}.")

    def create_step() -> None:
        result = player.call(create, newcomer)
        replies.append(f"Done: the account for {newcomer['name']} is open, with id {result['lastrowid']}.")

    steps = [lookup_step, listing_step, *([summary_step] if summary else []), update_step]
    if mode is Mode.TASK_ORIENTED:
        player.user(" ".join(asks) + " Then show me that record again.", list(range(n)))
        for step in [*steps, verify_step, *([create_step] if newcomer else [])]:
            step()
        player.say("\n\n".join(replies))
        player.user("That solves it, thanks!", [], done=True)
    else:
        for i, step in enumerate(steps):
            player.user((rng.choice(thanks) + " " if i else "") + asks[i], [i])
            step()
            player.say(replies[-1])
        player.user(f"{rng.choice(thanks)} Could you show me {c} {target['id']} again to confirm?", [])
        verify_step()
        player.say(replies[-1])
        if newcomer:
            player.user(f"{rng.choice(thanks)} {asks[-1]}", [n - 1])
            create_step()
            player.say(replies[-1])
        player.user("That's everything I needed, thank you!", [], done=True)
    session.messages = player.messages
    session.finish_reason = FinishReason.USER_DONE
    return Session.model_validate(session.model_dump())
