"""The offline user simulator's view of progress: which subtasks a served request completes."""

from __future__ import annotations

import json

from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.models import ChatMessage, MessageMeta, Role, Subtask, Task, ToolCall
from turnloom.core.players.offline.knowledge import knowledge_for
from turnloom.core.players.offline.user import derive_progress


def _user(subtasks: list[int]) -> ChatMessage:
    return ChatMessage(
        role=Role.USER, content="(request)", meta=MessageMeta(producer="user", task_index=0, subtasks=subtasks)
    )


def _call(call_id: str, name: str, arguments: dict, result: object) -> list[ChatMessage]:
    return [
        ChatMessage(role=Role.ASSISTANT, tool_calls=[ToolCall(id=call_id, name=name, arguments=json.dumps(arguments))]),
        ChatMessage(role=Role.TOOL, content=json.dumps(result), tool_call_id=call_id, name=name),
    ]


def test_a_requested_read_is_completed_even_when_it_also_confirms_an_earlier_change():
    knowledge = knowledge_for(create_session("airline"))
    task = Task(
        goal="upgrade booking 28 and look at it",
        subtasks=[
            Subtask(description="upgrade", intent="upgrade_cabin", slots={"booking_id": 28, "cabin": "business"}),
            Subtask(description="look", intent="booking_details", slots={"booking_id": 28}),
        ],
    )
    messages = [
        _user([0, 1]),
        *_call("c1", "update_booking_cabin", {"id": 28, "cabin": "business"}, {"rowcount": 1}),
        *_call("c2", "get_booking_by_id", {"id": 28}, {"id": 28, "cabin": "business"}),
    ]
    progress = derive_progress(knowledge, messages, [task])
    assert [s.done for s in progress.states] == [True, True]
    assert progress.states[0].verified  # the read shows the upgrade too


def test_a_call_completes_the_subtask_whose_arguments_it_matched_not_a_chain_that_fits_any_id():
    knowledge = knowledge_for(create_session("football"))
    task = Task(
        goal="two squads",
        subtasks=[
            Subtask(description="by name", intent="squad_by_club_name", slots={"club_name": "Porto Athletic"}),
            Subtask(description="by id", intent="club_squad", slots={"club_id": 2}),
        ],
    )
    messages = [_user([0, 1]), *_call("c1", "get_club_players", {"club_id": 2}, [{"id": 5, "club_id": 2}])]
    progress = derive_progress(knowledge, messages, [task])
    assert [s.done for s in progress.states] == [False, True]
