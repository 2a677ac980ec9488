"""A session's JSON with its tool list encoded once per list is the text pydantic writes, byte for byte.

The journal's header and every JSON snapshot go through `dumps_session`; a batch's dialogues
share one tool list, whose text is kept. These tests hold the spliced text to
`model_dump_json` for awkward sessions, both indents, and tool lists that change.
"""

from __future__ import annotations

from _session_builders import sessions
from hypothesis import HealthCheck, given, settings

from turnloom.core.batch.job import SessionFactory
from turnloom.core.batch.manifest import BatchConfig
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.models import Session, ToolSpec
from turnloom.core.storage import snapshot as store
from turnloom.core.storage.journal import _line
from turnloom.core.storage.session_json import SessionEncoder, dumps_session

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(sessions())
def test_spliced_text_is_pydantics_for_any_session(session: Session) -> None:
    encoder = SessionEncoder()
    for indent in (None, 2, 4):
        assert encoder.dumps(session, indent) == session.model_dump_json(indent=indent)
        # the second time the tool list's text comes from the cache
        assert encoder.dumps(session, indent) == session.model_dump_json(indent=indent)


def test_a_session_without_tools_is_written_as_pydantic_writes_it() -> None:
    session = Session(domain="retail")
    assert dumps_session(session, 2) == session.model_dump_json(indent=2)
    assert dumps_session(session) == session.model_dump_json()


def test_a_batchs_dialogues_share_the_tool_text_and_stay_exact() -> None:
    factory = SessionFactory(BatchConfig(domain="retail", tasks=1))
    first, second = factory.new(1), factory.new(2)
    assert first.tools is second.tools  # one list for the batch: what the cache keys on
    encoder = SessionEncoder()
    for session in (first, second, first):
        assert encoder.dumps(session, 2) == session.model_dump_json(indent=2)
        assert encoder.dumps(session) == session.model_dump_json()
    assert len(encoder._recent) == 1


def test_a_replaced_tool_or_list_is_encoded_afresh() -> None:
    session = create_session("retail", seed=4, tasks=1)
    encoder = SessionEncoder()
    before = encoder.dumps(session)
    renamed = session.tools[0].model_copy(update={"description": "Looks a customer up, renamed."})
    session.tools = [renamed, *session.tools[1:]]
    after = encoder.dumps(session)
    assert after != before and "Looks a customer up, renamed." in after
    assert after == session.model_dump_json()
    session.tools = session.tools[:-1]
    assert encoder.dumps(session) == session.model_dump_json()
    session.tools = [*session.tools, ToolSpec(name="extra", description="An extra tool.")]
    assert encoder.dumps(session, 2) == session.model_dump_json(indent=2)


def test_the_snapshot_and_the_journal_header_carry_the_same_text_as_before() -> None:
    session = create_session("retail", seed=9, tasks=2)
    assert store.dumps(session, "json") == session.model_dump_json(indent=2) + "\n"
    line = _line({"ev": "header", "session_id": session.id}, {"session": session})
    assert line == '{"ev":"header","session_id":"' + session.id + '","session":' + session.model_dump_json() + "}\n"
