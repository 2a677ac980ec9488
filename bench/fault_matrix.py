"""Fault matrix: `turnloom run` and `turnloom generate` against every endpoint fault, counted survived / tried.

    .venv/bin/python bench/fault_matrix.py [--turnloom .venv/bin/turnloom] [--only NAME] [-v]

The real fake server (tests/backends/fake_openai.py) runs in this process and serves
each fault; each command runs as its own process (`run` on the openai SDK, `generate`
on the aiohttp wire, as `client = "auto"` means), so a traceback is seen as a user
would see it. A fault is survived when:

- a passing fault (served once, or a capability the client can fall back from) ends
  with exit 0 and every dialogue done — retried, re-asked or downgraded;
- a lasting fault ends with a non-zero exit and the reason naming the profile: for
  `run` one line on stderr and the session's `finish_detail`, for `generate` each
  failed seed's line in the summary and its `error` in manifest.json;

and, either way, no traceback and the key never printed. `--turnloom` points at
another install (e.g. the main checkout's) to measure before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "backends"))

from fake_openai import FakeOpenAI  # noqa: E402

KEY_ENV = "TURNLOOM_FAULT_KEY"
KEY = "sk-fault-matrix-0123456789-never-printed"
PASS, LAST = "passes", "lasts"


@dataclass
class Fault:
    name: str
    entries: list[dict[str, Any]] = field(default_factory=list)  # pushed for any role, in order
    expect: str = PASS
    server: dict[str, Any] = field(default_factory=dict)  # FakeOpenAI options
    profile: dict[str, Any] = field(default_factory=dict)  # extra profile settings
    no_key: bool = False
    closed_port: bool = False
    role: str | None = None  # push for this role only
    named: str | None = None  # a bad config: the command refuses it at once (exit 2), naming this key


def _reply(message: Any, **extra: Any) -> dict[str, Any]:
    return {"body": {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], **extra}}


MANY = 60  # enough to outlast every retry and re-ask of every dialogue
FAULTS = [
    Fault("missing key", expect=LAST, no_key=True),
    Fault("401 unauthorized", [{"status": 401, "error": "Incorrect API key"}] * MANY, LAST),
    Fault("429 for good", [{"status": 429, "headers": {"Retry-After": "0"}}] * MANY, LAST),
    Fault("503 for good", [{"status": 503}] * MANY, LAST),
    Fault("refused connection", expect=LAST, closed_port=True),
    Fault(
        "json_schema rejected for good",
        [{"status": 400, "error": "response_format json_schema is not supported by this model"}] * MANY,
        LAST,
    ),
    Fault("prompt above max_prompt_chars", expect=LAST, profile={"max_prompt_chars": 200}),
    Fault("trickle for good", [{"trickle": 0.3}] * MANY, LAST, profile={"deadline": 1, "max_retries": 1}),
    Fault("malformed for good", [{"body": {"choices": "x"}}] * MANY, LAST),
    Fault("a key in api_key_env", expect=LAST, profile={"api_key_env": KEY}, named="profiles.fake.api_key_env"),
    Fault(
        "credentials in base_url",
        expect=LAST,
        profile={"base_url": "http://bob:hunter2@127.0.0.1:9/v1"},
        named="profiles.fake.base_url",
    ),
    Fault("base_url http://[::1", expect=LAST, profile={"base_url": "http://[::1"}, named="profiles.fake.base_url"),
    Fault("429 once", [{"status": 429, "headers": {"Retry-After": "0.05"}}]),
    Fault("503 once", [{"status": 503}]),
    Fault("hang once", [{"hang": 3}]),
    Fault("trickle once", [{"trickle": 0.3}], profile={"deadline": 1}),
    Fault("stream dropped once", [{"drop": 1}], role="user"),
    Fault("stream error event once", [{"stream_error": "overloaded"}], role="user"),
    Fault("stream event not JSON once", [{"events": [b"data: {not json"]}], role="user"),
    Fault(
        "stream byte not UTF-8 once",
        [{"events": [b'data: {"choices": [{"delta": {"content": "\xff"}}]}']}],
        role="user",
    ),
    Fault("reply not JSON once", [{"raw": b"<html>bad gateway</html>"}]),
    Fault("reply not UTF-8 once", [{"raw": b'{"choices": "\xff'}]),
    Fault("no choices once", [{"body": {"id": "x"}}]),
    Fault("tool_calls of strings once", [_reply({"content": "", "tool_calls": ["x"]})], role="assistant"),
    Fault("function a string once", [_reply({"content": "", "tool_calls": [{"function": "name"}]})], role="assistant"),
    Fault("usage not a number once", [_reply({"content": "Done."}, usage={"prompt_tokens": "lots"})], role="assistant"),
    Fault("message a string once", [_reply("hello")]),
    Fault(
        "NaN tool argument once",
        [{"reply": {"content": "", "tool_calls": [{"name": "get_order_by_id", "arguments": '{"id": NaN}'}]}}],
        role="assistant",
    ),
    Fault("json_schema rejected by the server", server={"reject_json_schema": True}),
    Fault("strict rejected by the server", server={"reject_strict": True}, profile={"strict": True}),
]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(folder: Path, base_url: str, extra: dict[str, Any]) -> None:
    settings = {
        "base_url": base_url,
        "model": "fake-model",
        "api_key_env": KEY_ENV,
        "timeout": 2,
        "max_retries": 2,
        "retry_backoff": 0.01,
        **extra,
    }
    lines = ["[profiles.fake]", *(f"{key} = {json.dumps(value)}" for key, value in settings.items())]
    (folder / "turnloom.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _judge(fault: Fault, command: str, proc: subprocess.CompletedProcess[str], folder: Path) -> str | None:
    """Why the outcome is not survived, or None."""
    output = proc.stdout + proc.stderr
    if "Traceback" in output:
        return "traceback: " + proc.stderr.strip().splitlines()[-1][:150]
    if KEY in output or "hunter2" in output:
        return "the key was printed"
    if fault.named is not None:
        if proc.returncode != 2 or fault.named not in proc.stderr:
            return f"exit {proc.returncode} without naming {fault.named}: {output.strip()[-200:]}"
        return None
    if fault.expect == PASS:
        if proc.returncode != 0:
            return f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"
        return None
    if proc.returncode == 0:
        return "exit 0 on a lasting fault"
    if command == "generate":  # the summary names each failed seed's reason; the manifest keeps it
        manifest = folder / "batch" / "manifest.json"
        if "profile 'fake'" not in proc.stdout:
            return f"no line naming the profile: {output.strip()[-200:]}"
        if not manifest.exists():
            return "no manifest"
        errors = [d.get("error") for d in json.loads(manifest.read_text(encoding="utf-8"))["dialogues"]]
        return None if all(errors) else "a failed dialogue has no reason in the manifest"
    if "profile 'fake'" not in proc.stderr:
        return f"no line naming the profile: {proc.stderr.strip()[-200:]}"
    if command == "run":
        session = folder / "d.session.json"
        if not session.exists():
            return "no session written"
        detail = json.loads(session.read_text(encoding="utf-8")).get("finish_detail")
        if not detail:
            return "the reason is not in the session"
    return None


def run_fault(fault: Fault, command: str, turnloom: str) -> str | None:
    options = {k: v for k, v in fault.server.items()}
    with FakeOpenAI(**options) as fake, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = f"http://127.0.0.1:{_closed_port()}/v1" if fault.closed_port else fake.base_url
        _config(folder, base, fault.profile)
        if fault.entries:
            fake.push(*fault.entries, role=fault.role)
        env = dict(os.environ)
        env.pop(KEY_ENV, None)
        if not fault.no_key:
            env[KEY_ENV] = KEY
        roles = ["--role", "task=fake", "--role", "user=fake", "--role", "assistant=fake"]
        if command == "run":
            argv = [turnloom, "run", *roles, "--seed", "3", "--tasks", "1", "--quiet", "--out", "d.session.json"]
        else:
            argv = [turnloom, "generate", *roles, "--n", "3", "--tasks", "1", "--concurrency", "4", "--out", "batch"]
            argv.append("--quiet")
        try:
            proc = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return "still running after 120 s"
        return _judge(fault, command, proc, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turnloom", default=str(ROOT / ".venv" / "bin" / "turnloom"))
    parser.add_argument("--only", help="run the faults whose name contains this")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    faults = [f for f in FAULTS if args.only is None or args.only in f.name]
    survived = tried = 0
    started = time.perf_counter()
    for fault in faults:
        for command in ("run", "generate"):
            why = run_fault(fault, command, args.turnloom)
            tried += 1
            survived += why is None
            if why is not None or args.verbose:
                print(f"{'ok  ' if why is None else 'FAIL'} {command:8} {fault.name}" + (f": {why}" if why else ""))
    print(f"fault matrix: {survived}/{tried} survived ({len(faults)} faults x run, generate; {args.turnloom})")
    print(f"  {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
