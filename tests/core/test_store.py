"""Snapshots: lossless JSON and TOML, migrations, atomic saves and readable errors."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
from _session_builders import deep, sessions, simple_session
from hypothesis import HealthCheck, given, settings

from turnloom.core.errors import SessionFileError
from turnloom.core.models import SCHEMA_VERSION, Session, SessionLabel, ToolCall, ToolSpec
from turnloom.core.storage import snapshot as store

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(sessions())
def test_json_round_trips_losslessly(session: Session) -> None:
    assert store.loads(store.dumps(session, "json"), "json") == session


@PROPERTY
@given(sessions())
def test_toml_round_trips_losslessly(session: Session) -> None:
    text = store.dumps(session, "toml")
    assert store.loads(text, "toml") == session
    # the TOML twin is plain TOML: any TOML reader parses it
    assert tomllib.loads(text)["schema_version"] == SCHEMA_VERSION


@PROPERTY
@given(sessions())
def test_json_toml_json_is_the_identity_on_the_file_text(session: Session) -> None:
    as_json = store.dumps(session, "json")
    via_toml = store.loads(store.dumps(store.loads(as_json, "json"), "toml"), "toml")
    assert store.dumps(via_toml, "json") == as_json


def test_toml_keeps_nulls_inside_schemas_and_arguments() -> None:
    session = simple_session()
    session.tools[0].output_schema = {"type": ["object", "null"], "default": None, "x": [None, {"y": None}]}
    session.config.rule_set = None  # a null whose default is not null
    session.messages[2].meta.extra = {"curator": None, "tags": [None, "ok"]}
    text = store.dumps(session, "toml")
    back = store.loads(text, "toml")
    assert back == session
    assert back.tools[0].parameters["properties"]["unit"]["default"] is None
    assert back.config.rule_set is None
    assert "_null" in text and '"default": null' in text


def test_toml_is_readable_multi_line_text_and_json() -> None:
    session = simple_session()
    session.messages[1].content = "first line\nsecond line with \"\"\" and ''' and \\"
    text = store.dumps(session, "toml")
    assert 'content = """\nfirst line\nsecond line' in text
    assert "parameters = '''\n{\n" in text
    assert store.loads(text, "toml") == session


def test_toml_keeps_crlf_exactly() -> None:
    session = simple_session()
    session.messages[1].content = "windows\r\nline\nunix"
    assert store.loads(store.dumps(session, "toml"), "toml").messages[1].content == "windows\r\nline\nunix"


def test_deeply_nested_arguments_survive_both_formats() -> None:
    session = simple_session()
    nested = json.dumps({"city": "x", "deep": deep(200, leaf="bottom")})
    session.tools[0].parameters = {"type": "object", "default": deep(60)}
    session.messages[2].tool_calls[0] = ToolCall(id="c0_0", name="get_weather", arguments=nested)
    for fmt in ("json", "toml"):
        assert store.loads(store.dumps(session, fmt), fmt) == session  # type: ignore[arg-type]


def test_hand_written_toml_table_for_a_schema_is_accepted() -> None:
    session = Session(domain="d", tools=[ToolSpec(name="t", description="d", parameters={"type": "object"})])
    text = store.dumps(session, "toml").replace(
        'parameters = \'{\n  "type": "object"\n}\'', 'parameters = { type = "object" }'
    )
    text = text.replace("parameters = '''\n{\n  \"type\": \"object\"\n}'''", 'parameters = { type = "object" }')
    assert "parameters = { type" in text
    assert store.loads(text, "toml") == session


@pytest.mark.parametrize("name", ["a.session.json", "a.session.toml", "a.json", "a.toml"])
def test_save_and_load_choose_the_format_by_suffix(tmp_path: Path, name: str) -> None:
    session = simple_session()
    path = tmp_path / name
    store.save_session(session, path)
    assert store.load_session(path) == session
    raw = path.read_text(encoding="utf-8")
    (json.loads if name.endswith(".json") else tomllib.loads)(raw)


@pytest.mark.parametrize("name", ["a.session.json", "a.session.toml"])
def test_a_curators_label_survives_both_formats(tmp_path: Path, name: str) -> None:
    session = simple_session()
    session.label = SessionLabel(kind="needs-fix", reason="total is off by one", tags=["math", "retail"])
    path = tmp_path / name
    store.save_session(session, path)
    loaded = store.load_session(path)
    assert loaded.label == session.label
    loaded.label = None
    store.save_session(loaded, path)
    assert store.load_session(path).label is None


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SessionFileError, match="unknown session file type"):
        store.save_session(simple_session(), tmp_path / "a.yaml")


# ---------------------------------------------------------------- migrations


def test_an_older_version_is_migrated_step_by_step(monkeypatch: pytest.MonkeyPatch) -> None:
    current = simple_session().model_copy(update={"title": "Weather chat"})
    # a v0 file called the title `name`
    v0_json = (
        store.dumps(current, "json")
        .replace('"title":', '"name":')
        .replace(f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 0')
    )
    v0_toml = (
        store.dumps(current, "toml")
        .replace("title = ", "name = ")
        .replace(f"schema_version = {SCHEMA_VERSION}", "schema_version = 0")
    )
    seen = []

    def v0_to_v1(doc: dict) -> dict:
        seen.append(doc["schema_version"])
        doc["title"] = doc.pop("name")
        return doc

    monkeypatch.setitem(store.MIGRATIONS, 0, v0_to_v1)
    assert store.loads(v0_json, "json") == current
    assert store.loads(v0_toml, "toml") == current
    assert seen == [0, 0]


def test_migrate_takes_an_explicit_registry() -> None:
    doc = {"schema_version": SCHEMA_VERSION - 2, "x": 1}
    steps = {
        SCHEMA_VERSION - 2: lambda d: {**d, "x": d["x"] + 1},
        SCHEMA_VERSION - 1: lambda d: {**d, "x": d["x"] * 10},
    }
    assert store.migrate(doc, migrations=steps) == {"schema_version": SCHEMA_VERSION, "x": 20}


def test_an_old_version_without_migration_is_a_clear_error() -> None:
    data = simple_session().model_dump(mode="json") | {"schema_version": 0}
    with pytest.raises(SessionFileError, match="schema_version 0 is too old"):
        store.loads(json.dumps(data), "json", source="old.session.json")


def test_a_newer_version_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "new.session.json"
    path.write_text(json.dumps(simple_session().model_dump(mode="json") | {"schema_version": 99}))
    with pytest.raises(SessionFileError) as err:
        store.load_session(path)
    assert str(path) in str(err.value) and "newer" in str(err.value) and "upgrade turnloom" in str(err.value)


def test_a_file_without_schema_version_is_refused() -> None:
    data = simple_session().model_dump(mode="json")
    del data["schema_version"]
    with pytest.raises(SessionFileError, match="no schema_version"):
        store.loads(json.dumps(data), "json")


# ---------------------------------------------------------------- bad files


def test_truncated_json_says_it_was_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "cut.session.json"
    text = store.dumps(simple_session(), "json")
    for cut in (len(text) // 2, len(text) - 3, 10):
        path.write_text(text[:cut])
        with pytest.raises(SessionFileError) as err:
            store.load_session(path)
        message = str(err.value)
        assert str(path) in message and "file ends early" in message and "journal" in message


def test_corrupt_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.session.json"
    path.write_text('{\n  "schema_version": 1,\n  "id": oops\n}')
    with pytest.raises(SessionFileError, match=r"bad\.session\.json: line 3, column 9: invalid JSON"):
        store.load_session(path)


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.session.toml"
    lines = store.dumps(simple_session(), "toml").splitlines()
    lines[3] = "domain = = 'x'"
    path.write_text("\n".join(lines))
    with pytest.raises(SessionFileError, match=r"bad\.session\.toml: line 4, column \d+: invalid TOML"):
        store.load_session(path)


def test_truncated_toml_mid_string_says_it_was_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "cut.session.toml"
    text = store.dumps(simple_session(), "toml")
    path.write_text(text[: text.index("parameters = '''") + 25])
    with pytest.raises(SessionFileError, match="file ends early"):
        store.load_session(path)


def test_invalid_json_inside_a_toml_schema_field_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.session.toml"
    text = store.dumps(simple_session(), "toml").replace('"type": "object"', '"type": object', 1)
    path.write_text(text)
    with pytest.raises(SessionFileError, match=r"field 'tools\[0\]\.parameters' holds invalid JSON"):
        store.load_session(path)


def test_missing_required_field_is_named_by_its_path(tmp_path: Path) -> None:
    data = simple_session().model_dump(mode="json")
    del data["messages"][1]["role"]
    del data["domain"]
    path = tmp_path / "m.session.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SessionFileError) as err:
        store.load_session(path)
    assert "required field 'domain' is missing" in str(err.value)
    assert "required field 'messages[1].role' is missing" in str(err.value)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "e.session.json").write_text("")
    with pytest.raises(SessionFileError, match="empty"):
        store.load_session(tmp_path / "e.session.json")
    with pytest.raises(SessionFileError, match="no such file"):
        store.load_session(tmp_path / "nope.session.json")


# ---------------------------------------------------------------- atomic saves


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_a_failed_save_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    path = tmp_path / "keep.session.json"
    store.save_session(simple_session(exchanges=1), path)
    before = path.read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, broken, fail)
    with pytest.raises(SessionFileError, match="No space left on device.*previous file is unchanged"):
        store.save_session(simple_session(exchanges=3), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.session.json"]


def test_a_failed_serialisation_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "x.session.json"
    with pytest.raises(RuntimeError), store.atomic_writer(path) as out:
        out.write("partial")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_save_keeps_the_files_permissions(tmp_path: Path) -> None:
    path = tmp_path / "p.session.json"
    store.save_session(simple_session(), path)
    os.chmod(path, 0o640)
    store.save_session(simple_session(exchanges=1), path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_an_inconsistent_transcript_is_explained(tmp_path: Path) -> None:
    data = simple_session().model_dump(mode="json")
    data["messages"][3]["tool_call_id"] = "nobody"
    path = tmp_path / "t.session.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SessionFileError, match=r"t\.session\.json: message 3: tool result answers unknown"):
        store.load_session(path)


# ---------------------------------------------------------------- schema 1 -> 2


def _schema_1_meta() -> dict:
    return {
        "provenance": "simulator",
        "task_index": 0,
        "subtasks": [1],
        "completes_task": True,
        "is_task_complete": False,
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "reasoning_tokens": 0},
        "extra": {
            "verify": [0],
            "revise": [1],
            "revised": {"new_city": "Turin"},
            "gave_up": [2],
            "digression": True,
            "simulator_closing": "Thanks, that's all.",
            "usage_by_role": {
                "user": {"prompt_tokens": 6, "completion_tokens": 3, "reasoning_tokens": 0},
                "task": {"prompt_tokens": 4, "completion_tokens": 2, "reasoning_tokens": 0},
            },
            "curator": "keep",
        },
    }


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_a_schema_1_file_reads_its_notes_and_flags_into_the_typed_fields(fmt: str) -> None:
    data = json.loads(store.dumps(simple_session(), "json"))
    data["schema_version"] = 1
    user = next(m for m in data["messages"] if m["role"] == "user")
    user["meta"] = _schema_1_meta()
    if fmt == "json":
        text = json.dumps(data)
    else:  # a TOML file written by schema 1: `extra` is a JSON string there
        session_toml = tomllib.loads(store.dumps(simple_session(), "toml"))
        session_toml["schema_version"] = 1
        old_meta = dict(_schema_1_meta(), extra=json.dumps(_schema_1_meta()["extra"]))
        next(m for m in session_toml["messages"] if m["role"] == "user")["meta"] = old_meta
        import rtoml

        text = rtoml.dumps(session_toml, pretty=True)
    session = store.loads(text, fmt)
    assert session.schema_version == SCHEMA_VERSION == 2
    meta = next(m for m in session.messages if m.role == "user").meta
    assert meta.task_done and not meta.goal_done
    assert meta.notes is not None
    assert (meta.notes.verify, meta.notes.revise, meta.notes.gave_up) == ([0], [1], [2])
    assert meta.notes.revised == {"new_city": "Turin"} and meta.notes.digression
    assert meta.notes.closing == "Thanks, that's all."
    assert meta.usage_by_role is not None and meta.usage_by_role["task"].prompt_tokens == 4
    assert meta.extra == {"curator": "keep"}  # what turnloom does not own stays where it was
    # written back, it is schema 2 and reads the same
    assert store.loads(store.dumps(session, fmt), fmt) == session


def test_a_schema_1_journal_line_reads_into_the_typed_fields() -> None:
    from turnloom.core.models import ChatMessage

    line = {"role": "user", "content": "Ship it to Turin instead.", "meta": _schema_1_meta()}
    message = ChatMessage.model_validate(line)
    assert message.meta.task_done and message.meta.notes and message.meta.notes.revise == [1]
