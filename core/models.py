"""The domain model: messages, tools, tasks, rules and sessions.

These pydantic models are also the file format: a `Session` dumped with
`model_dump(mode="json")` is what `*.session.json` holds. Persistence (atomic
writes, TOML twin, journal) lives in `store`; this module only defines shapes
and the invariants every well-formed session keeps.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from turnloom.core.untrusted import StrictJsonError, fix_json_escapes, strict_loads

SCHEMA_VERSION = 2


class Role(StrEnum):
    """Who wrote a message, as in the Chat Completions API."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class RoleName(StrEnum):
    """A role a backend plays: the keys of a session's and the config's `roles` mappings."""

    TASK = "task"  # writes the hidden descriptive tasks
    FORGE = "forge"  # forges the domain's tools before the first message
    USER = "user"  # the user simulator
    ASSISTANT = "assistant"
    TOOL = "tool"  # simulates tool results (simulated execution)
    JUDGE = "judge"  # the rubric judge of finished tasks


# the roles that take part in a dialogue's turns (forge works before it, the judge after it)
DIALOGUE_ROLES = (RoleName.TASK, RoleName.USER, RoleName.ASSISTANT, RoleName.TOOL)


class Mode(StrEnum):
    """The generation paradigm (the paper's Sec. 3 vs Sec. 4)."""

    TASK_ORIENTED = "task-oriented"
    USER_ORIENTED = "user-oriented"


class ToolExecution(StrEnum):
    """How tool calls are answered: real SQLite, or simulated to fit the output schema."""

    SQL = "sql"
    SIMULATED = "simulated"


class FinishReason(StrEnum):
    """Why a dialogue stopped (finished or paused)."""

    USER_DONE = "user_done"
    MAX_MESSAGES = "max_messages"
    TOOL_ERROR_STREAK = "tool_error_streak"
    LOOP_DETECTED = "loop_detected"
    ABORTED = "aborted"
    BACKEND_ERROR = "backend_error"


class Provenance(StrEnum):
    """Where a message came from."""

    SIMULATOR = "simulator"
    OPERATOR = "operator"
    EDITED = "edited"
    IMPORTED = "imported"


class ToolOrigin(StrEnum):
    """Where a tool came from."""

    DERIVED = "derived"  # introspected from a database schema
    GENERATED = "generated"  # written by an LLM forge
    IMPORTED = "imported"
    EDITED = "edited"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Usage(_Model):
    """Token accounting for one message or a running total."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )


class ToolCall(_Model):
    """One function call requested by the assistant.

    `arguments` is a JSON string, exactly as the Chat Completions API carries it.
    """

    id: str
    name: str
    arguments: str = "{}"

    @field_validator("arguments")
    @classmethod
    def _arguments_are_json_object(cls, value: str) -> str:
        value = fix_json_escapes(value)  # a lone surrogate escape would parse into text no file can hold
        try:
            parsed = strict_loads(value, writable=False)  # only its type is kept: no need to clean its strings
        except StrictJsonError as exc:
            raise ValueError(f"tool-call arguments are not strict JSON: {exc}") from exc
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ValueError(f"tool-call arguments are not valid JSON: {exc or 'nested too deeply'}") from exc
        if not isinstance(parsed, dict):
            raise ValueError("tool-call arguments must be a JSON object")
        return value

    def parsed_arguments(self) -> dict[str, Any]:
        return strict_loads(self.arguments)

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


class RuleVerdict(_Model):
    """The outcome of checking one user turn against one rule."""

    rule_id: str
    passed: bool
    detail: str = ""


class SimulatorNotes(_Model):
    """What the user simulator noted about its own turn (kept with the message, never sent to models)."""

    # subtasks whose effect this turn asks the assistant to show again (verification)
    verify: list[int] = Field(default_factory=list)
    # subtasks this turn asks for again with changed values (a change of mind) ...
    revise: list[int] = Field(default_factory=list)
    # ... and the values that changed
    revised: dict[str, Any] = Field(default_factory=dict)
    # subtasks the user stops asking for
    gave_up: list[int] = Field(default_factory=list)
    # the turn carries an off-topic remark
    digression: bool = False
    # LLM user: the closing words it wrote with a finished goal, kept while a next task is asked for
    closing: str | None = None


# schema-1 `MessageMeta.extra` keys that are typed fields now
_NOTE_KEYS = frozenset(SimulatorNotes.model_fields)
_META_KEYS = frozenset({"usage_by_role", "requests", "weight"})
_RENAMED_FLAGS = {"completes_task": "task_done", "is_task_complete": "goal_done"}


def upgrade_meta_1(data: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 message meta in schema-2 shape: flags renamed, notes and typed keys out of `extra`."""
    data = {_RENAMED_FLAGS.get(k, k): v for k, v in data.items()}
    extra = dict(data.get("extra") or {})
    if "simulator_closing" in extra:  # the LLM user's closing words
        extra["closing"] = extra.pop("simulator_closing")
    notes = {k: extra.pop(k) for k in list(extra) if k in _NOTE_KEYS}
    for key in _META_KEYS & extra.keys():
        data[key] = extra.pop(key)
    if notes:
        data["notes"] = {**(data.get("notes") or {}), **notes}
    data["extra"] = extra
    return data


class MessageMeta(_Model):
    """Provenance and bookkeeping for one message (not sent to models)."""

    provenance: Provenance = Provenance.SIMULATOR
    producer: str | None = None  # role that produced it: user, assistant, tool, operator
    backend: str | None = None
    model: str | None = None
    task_index: int | None = None
    # user turns: which subtasks of the task this turn asks for
    subtasks: list[int] = Field(default_factory=list)
    # user turns: this turn closes the current task (the next task, if any, starts here)
    task_done: bool = False
    # user turns: the whole goal (every task) is done and the conversation ends here
    goal_done: bool = False
    # user turns: why the simulator says what it says (verification, change of mind, ...)
    notes: SimulatorNotes | None = None
    # tool results: the call failed (bad arguments, SQL error, unknown tool)
    tool_error: bool = False
    usage: Usage | None = None
    # user turns on an endpoint: `usage` split between the user simulator and the task generator
    usage_by_role: dict[str, Usage] | None = None
    # assistant turns on an endpoint: requests behind this message when more than one (re-asks)
    requests: int | None = None
    # assistant turns: the training weight an export gives this message (OpenAI's 0 or 1)
    weight: int | None = None
    latency_ms: float | None = None
    verdicts: list[RuleVerdict] = Field(default_factory=list)
    # free-form annotations of curators and importers; turnloom itself never reads them
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _read_schema_1(cls, data: Any) -> Any:
        """Schema 1 named the flags `completes_task`/`is_task_complete` and kept notes in `extra`."""
        if isinstance(data, dict) and ({"completes_task", "is_task_complete"} & data.keys() or data.get("extra")):
            return upgrade_meta_1(data)
        return data

    @property
    def violations(self) -> list[RuleVerdict]:
        return [v for v in self.verdicts if not v.passed]


class ChatMessage(_Model):
    """One message of a transcript, in Chat Completions shape plus `meta`."""

    role: Role
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None  # tool messages: the tool that answered
    reasoning: str | None = None
    meta: MessageMeta = Field(default_factory=MessageMeta)

    @model_validator(mode="after")
    def _shape_fits_role(self) -> ChatMessage:
        if self.role is Role.ASSISTANT:
            if not (self.content and self.content.strip()) and not self.tool_calls:
                raise ValueError("an assistant message needs text or tool calls")
        elif self.tool_calls:
            raise ValueError(f"a {self.role} message cannot carry tool calls")
        if self.role is Role.TOOL:
            if not self.tool_call_id:
                raise ValueError("a tool message must answer a tool_call_id")
            if self.content is None:
                raise ValueError("a tool message needs content (the result)")
        elif self.tool_call_id is not None:
            raise ValueError(f"a {self.role} message cannot carry tool_call_id")
        if self.role in (Role.USER, Role.SYSTEM) and not (self.content and self.content.strip()):
            raise ValueError(f"a {self.role} message needs text")
        return self

    @property
    def text(self) -> str:
        return self.content or ""

    def to_openai(self) -> dict[str, Any]:
        """The message as the Chat Completions API takes it (no meta, no reasoning)."""
        out: dict[str, Any] = {"role": str(self.role)}
        if self.role is Role.ASSISTANT:
            out["content"] = self.content
            if self.tool_calls:
                out["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        elif self.role is Role.TOOL:
            out["tool_call_id"] = self.tool_call_id
            out["content"] = self.content
        else:
            out["content"] = self.content
        return out


class ToolSpec(_Model):
    """A tool the assistant can call: an OpenAI function schema plus how it runs."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}, "required": []})
    output_schema: dict[str, Any] | None = None
    sql: str | None = None
    # what a SELECT returns: one row (object or null) or many rows (array)
    returns: Literal["one", "many"] | None = None
    writes: bool = False
    origin: ToolOrigin = ToolOrigin.DERIVED

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


class Subtask(_Model):
    """One step of a task: what the user wants, and the intent that serves it."""

    description: str
    intent: str
    slots: dict[str, Any] = Field(default_factory=dict)
    # the user should ask the assistant to confirm this step's effect afterwards
    confirm: bool = False


class Task(_Model):
    """A hidden descriptive goal, revealed to the assistant only through the user."""

    goal: str
    subtasks: list[Subtask]
    difficulty: Difficulty = Difficulty.MEDIUM
    rubric: list[str] = Field(default_factory=list)
    # the transcript length when this task was introduced (fork drops later tasks)
    introduced_at: int = 0
    template: str | None = None


class Rule(_Model):
    """A user-behaviour rule (see `rules`)."""

    id: str
    title: str
    description: str = ""
    prompt: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    kind: str | None = None
    source: str | None = None

    def rendered_prompt(self) -> str:
        try:
            return self.prompt.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return self.prompt


class WriteRecord(_Model):
    """A committed write to the dialogue's database, enough to replay it."""

    message_index: int  # index of the tool message that carries the result
    tool_call_id: str
    tool: str
    sql: str
    params: dict[str, Any] = Field(default_factory=dict)
    rowcount: int = 0
    lastrowid: int | None = None


class CheckFailure(_Model):
    """One finding of a named quality check: the messages it points at and why (see `quality.checks`)."""

    check: str
    messages: list[int] = Field(default_factory=list)
    reason: str
    warning: bool = False  # shown, but does not reject the dialogue


class JudgeRecord(_Model):
    """The rubric judge's part of a verdict: its decision per task, and what it cost."""

    valid: bool
    reasons: list[str] = Field(default_factory=list)
    profile: str | None = None
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
    requests: int = 0


class DialogueVerdict(_Model):
    """Whether a dialogue is kept: accepted, or rejected with the checks that failed.

    `digest` fingerprints what was judged (see `quality.verdict.session_digest`); a session
    changed since (edited, forked, by hand) no longer matches it and is judged again.
    """

    accepted: bool
    digest: str
    failures: list[CheckFailure] = Field(default_factory=list)
    warnings: list[CheckFailure] = Field(default_factory=list)
    judge: JudgeRecord | None = None
    judged_at: str | None = None


class SessionLabel(_Model):
    """A curator's call on a whole session in review: it overrides the automatic verdict
    in exports and stats (`keep` exports a rejected dialogue, `drop` leaves out an accepted one)."""

    kind: Literal["keep", "drop", "needs-fix"]
    reason: str = ""
    tags: list[str] = Field(default_factory=list)
    at: str = Field(default_factory=lambda: _now())


class ParentRef(_Model):
    """Where a forked or continued session came from."""

    session_id: str
    path: str | None = None
    at: int


DEFAULT_MAX_MESSAGES = 1_000
"""A dialogue's message cap unless one is given (the paper's longest dialogues reach 780 messages)."""


class DroppedBranch(_Model):
    """Messages an operator action cut from the transcript, kept so nothing the curator did is lost.

    An edit, a regenerate, an override or a truncation replaces the messages from `at` on; what
    they were is kept here with the writes and tasks that came with them, so `ctrl+z` can put
    them back and a preference pair can set the kept turn (`messages[0]`) against its
    replacement. `action` names what cut them; `undone` marks the replacement an undo cut away
    in turn (kept, but not restored by a further undo).
    """

    at: int
    action: Literal["edit", "regenerate", "override", "truncate", "undone"]
    messages: list[ChatMessage] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    write_log: list[WriteRecord] = Field(default_factory=list)
    finish_reason: FinishReason | None = None
    finish_detail: str | None = None
    created_at: str = Field(default_factory=lambda: _now())


class GenerationConfig(_Model):
    """How a session is generated. Backend profiles are named, never keyed."""

    mode: Mode = Mode.USER_ORIENTED
    execution: ToolExecution = ToolExecution.SQL
    seed: int = 0
    tasks: int = 3
    max_messages: int = DEFAULT_MAX_MESSAGES
    tool_error_streak: int = 4
    # bytes one tool result may hold; a bigger result comes back to the assistant as an error
    max_tool_result_bytes: int = Field(default=256 * 1024, ge=256)
    rule_set: str | None = "paper"
    rules: list[Rule] = Field(default_factory=list)
    # what auto-run does when a user turn breaks a rule: keep it and flag it,
    # regenerate it (up to `violation_retries` times, then flag), or pause for the operator
    violation_policy: Literal["flag", "regenerate", "pause"] = "flag"
    violation_retries: int = 2
    # role (a `RoleName` value) -> backend profile name; unmapped roles are offline
    roles: dict[str, str] = Field(default_factory=dict)
    # tasks from a task list (`--task-file`), handed out in order instead of the task generator's
    planned_tasks: list[Task] = Field(default_factory=list)

    @field_validator("roles")
    @classmethod
    def _roles_are_known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(RoleName))
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(RoleName)}")
        return value


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


class Session(_Model):
    """Everything about one dialogue: config, domain, tools, tasks, transcript, write log."""

    schema_version: int = SCHEMA_VERSION
    id: str = Field(default_factory=new_session_id)
    created_at: str = Field(default_factory=_now)
    title: str | None = None
    parent: ParentRef | None = None
    config: GenerationConfig = Field(default_factory=GenerationConfig)
    domain: str
    # a user-supplied database file; None for a built-in domain pack
    db_path: str | None = None
    # fixed per-dialogue reference time for simulated tools (ISO 8601)
    reference_time: str | None = None
    tools: list[ToolSpec] = Field(default_factory=list)
    disabled_tools: list[str] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    messages: list[ChatMessage] = Field(default_factory=list)
    write_log: list[WriteRecord] = Field(default_factory=list)
    finish_reason: FinishReason | None = None
    # what stopped the dialogue, in words, when the reason alone does not say (a backend
    # error's cause: a missing key, a refused connection, an HTTP status, ...)
    finish_detail: str | None = None
    usage: Usage = Field(default_factory=Usage)
    # what edits, regenerations, overrides and truncations cut from the transcript, oldest first
    dropped_branches: list[DroppedBranch] = Field(default_factory=list)
    # the quality verdict and the digest of what it judged (`quality.verdict`); stale once the session changes
    verdict: DialogueVerdict | None = None
    # the curator's label from review (`turnloom review`); None until someone labels it
    label: SessionLabel | None = None

    @model_validator(mode="after")
    def _tool_results_answer_calls(self) -> Session:
        check_transcript(self.messages)
        return self

    def tool(self, name: str) -> ToolSpec | None:
        for spec in self.tools:
            if spec.name == name:
                return spec
        return None

    def cut(self, at: int) -> None:
        """Keep the first `at` messages, the writes their tool results made, and the tasks
        introduced before message `at`; clear the finish reason. (Edit, regenerate, fork and
        journal replay all cut this way.)"""
        del self.messages[at:]
        self.write_log = [w for w in self.write_log if w.message_index < at]
        self.tasks = [t for t in self.tasks if t.introduced_at < at]
        self.finish_reason = None
        self.finish_detail = None

    def active_tools(self) -> list[ToolSpec]:
        disabled = set(self.disabled_tools)
        return [t for t in self.tools if t.name not in disabled]


def check_transcript(messages: list[ChatMessage]) -> None:
    """Raise ValueError unless every tool message answers an open call once.

    Args:
        messages: the transcript, in order.

    Raises:
        ValueError: naming the index of the first offending message.
    """
    open_calls: set[str] = set()
    answered: set[str] = set()
    for index, message in enumerate(messages):
        if message.role is Role.ASSISTANT:
            for call in message.tool_calls:
                if call.id in open_calls or call.id in answered:
                    raise ValueError(f"message {index}: duplicate tool call id {call.id!r}")
                open_calls.add(call.id)
        elif message.role is Role.TOOL:
            if message.tool_call_id not in open_calls:
                raise ValueError(
                    f"message {index}: tool result answers unknown or already answered call id {message.tool_call_id!r}"
                )
            open_calls.discard(message.tool_call_id)
            answered.add(message.tool_call_id)
