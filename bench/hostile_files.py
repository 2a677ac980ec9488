"""Hostile files, kills and re-runs: what turnloom survives on the files side (issue 15's figures).

    python bench/hostile_files.py [--kills 20] [--seed 15]

Three figures:

- bad inputs handled / tried: every damaged file of the fuzzer (tests/core/test_hostile_fuzz.py:
  sessions JSON/TOML, journals, toolsets, rules) and a list of crafted ones (the files issue 15
  names: lone surrogates, 100k-deep nesting, remote and looping `$ref`, absurd format widths,
  journals with negative indexes and duplicated lines, 5,000-digit numbers, a truncated file and
  a dangling link in a folder, ...), each handed to every command that reads it, in-process. Handled:
  the command returns (success, a named error, or a skip with its reason); not handled: an
  exception escapes `main` or exit 2 comes without a named error.
- kills survived / tried: `turnloom run --out X` SIGKILLed at a random moment; survived when the
  session opens from what is on disk, holds every message the run had printed as committed, is a
  prefix of the uninterrupted dialogue, and `run --from X --out X` finishes it.
- committed messages lost on a re-run over a crashed journal: after each kill, the same
  `run --out X` command again (what a user does); lost = committed messages that can no
  longer be recovered from X afterwards (goal 0).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("hostile_fuzz", ROOT / "tests/core/test_hostile_fuzz.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_main(argv: list[str], must_refuse: bool = False) -> tuple[bool, str]:
    """Run the command line in-process: (handled, what happened); `must_refuse`: only a named error will do."""
    from turnloom.core.cli import main

    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:  # noqa: BLE001 - what we count
        return False, f"{type(exc).__name__}: {str(exc)[:100]}"
    text = err.getvalue()
    if code == 2 and "turnloom: error:" not in text and argv[-1] not in text:
        return False, f"exit 2 without a named error: {text[-100:]!r}"
    if "Traceback" in text:
        return False, "a traceback on stderr"
    if must_refuse and code != 2:
        return False, f"exit {code}: accepted a file it must refuse"
    if SCHEMA_HITS:
        SCHEMA_HITS.clear()
        return False, f"exit {code}, but fetched a schema over the network"
    return True, f"exit {code}"


SCHEMA_HITS: list[str] = []


def schema_server() -> str:
    """A local HTTP server serving any schema, counting requests (a fetched `$ref` is one)."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            SCHEMA_HITS.append(self.path)
            body = b'{"type": "integer"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def session_commands(path: Path) -> list[list[str]]:
    out = path.parent
    return [
        ["replay", str(path)],
        ["export", str(path), "--format", "openai", "--out", str(out / "o.jsonl")],
        ["stats", str(out)],
        ["fork", str(path), "--at", "2", "--out", str(out / "f.session.json")],
        ["run", "--quiet", "--from", str(path), "--out", str(out / "c.session.json"), "--max-messages", "60"],
    ]


def good_files(work: Path) -> dict[str, Path]:
    """A saved session (JSON and TOML), a crashed run's journal, a toolset and a rule file."""
    import asyncio

    from turnloom.core.cli import main
    from turnloom.core.lifecycle.dialogue import create_session
    from turnloom.core.lifecycle.live_session import LiveSession
    from turnloom.core.storage.journal import Journal, journal_path
    from turnloom.core.storage.snapshot import load_session, save_session

    (work / "good").mkdir(parents=True)
    session = create_session(domain="retail", seed=2, tasks=1)
    snapshot = work / "good" / "s.session.json"
    live = LiveSession.open_journaled(session, snapshot, None)

    async def steps() -> None:
        for _ in range(8):
            await live.engine.step()

    asyncio.run(steps())
    live.save()
    live.close()
    toml = work / "good" / "s.session.toml"
    save_session(load_session(snapshot), toml)
    crashed = work / "good" / "j" / "s.session.json"
    crashed.parent.mkdir()
    with Journal.open(crashed, session) as journal:
        for index, message in enumerate(session.messages[:3]):
            journal.record_message(index, message)
    tools = work / "good" / "tools.json"
    with contextlib.redirect_stdout(io.StringIO()):
        main(["forge", "--domain", "retail", "--out", str(tools), "--quiet"])
    document = json.loads(tools.read_text())
    document["tools"] = document["tools"][:4]
    tools.write_text(json.dumps(document, indent=1))
    from importlib import resources

    rule = work / "good" / "terse.toml"
    rule.write_text((resources.files("turnloom.core.rules.builtin") / "terse.toml").read_text(encoding="utf-8"))
    return {"json": snapshot, "toml": toml, "journal": journal_path(crashed), "tools": tools, "rule": rule}


def crafted(work: Path, good: dict[str, Path], url: str) -> list[tuple[str, Path, list[list[str]], bool]]:
    """The damaged files issue 15 names, each with the commands that read it and whether they must refuse it."""
    from turnloom.core.lifecycle.dialogue import create_session
    from turnloom.core.models import Rule
    from turnloom.core.storage.snapshot import save_session

    cases: list[tuple[str, Path, list[list[str]], bool]] = []

    def folder(name: str) -> Path:
        path = work / "crafted" / name
        path.mkdir(parents=True)
        return path

    base = json.loads(good["json"].read_text())

    def session_case(name: str, text: str, suffix: str = ".json") -> None:
        path = folder(name) / f"s.session{suffix}"
        path.write_text(text)
        cases.append((name, path, session_commands(path), False))

    surrogate = json.dumps(base).replace('"content": "', '"content": "\\ud800', 1)
    session_case("lone surrogate in a message", surrogate)
    session_case("100k-deep JSON", "[" * 100_000 + "]" * 100_000)
    session_case("100k-deep TOML", "a = " + "[" * 100_000 + "]" * 100_000, ".toml")
    deep_meta = dict(base)
    deep_meta["messages"] = [dict(base["messages"][0], meta={"x": "@@"})] + base["messages"][1:]
    session_case("20k-deep meta", json.dumps(deep_meta).replace('"@@"', "[" * 20_000 + "]" * 20_000))
    session_case("5000-digit number", json.dumps(base).replace('"seed": 2', '"seed": ' + "9" * 5000, 1))
    session_case("NaN in a tool argument", json.dumps(base).replace('"seed": 2', '"seed": NaN', 1))
    session_case("not UTF-8", "\udcff".encode("utf-8", "surrogateescape").decode("latin-1") + json.dumps(base))
    for label, schema in {
        "remote $ref in a tool schema": {"type": "object", "properties": {"x": {"$ref": f"{url}/s.json"}}},
        "$ref loop in a tool schema": {"type": "object", "allOf": [{"$ref": "#"}]},
    }.items():
        session = create_session(domain="retail", seed=1, tasks=1)
        session.tools[0].parameters = schema
        path = folder(label) / "s.session.json"
        save_session(session, path)
        cases.append((label, path, session_commands(path), True))
        toolset = json.loads(good["tools"].read_text())
        toolset["tools"][0]["parameters"] = schema
        tpath = folder(label + " (toolset)") / "tools.json"
        tpath.write_text(json.dumps(toolset))
        cases.append((label + " (toolset)", tpath, [["run", "--quiet", "--tools", str(tpath), "--tasks", "1"]], True))
    session = create_session(domain="retail", seed=1, tasks=1)
    session.config.rules.append(Rule(id="w", title="W", prompt="{n:>400000000}", params={"n": 1}))
    path = folder("absurd width in a session's rule") / "s.session.json"
    save_session(session, path)
    cases.append(("absurd width in a session's rule", path, session_commands(path), True))
    rule = folder("absurd width in a rule file") / "wide.toml"
    rule.write_text('id = "w"\ntitle = "W"\nkind = "terse"\nprompt = "{max_words:>400000000}"\n')
    cases.append(("absurd width in a rule file", rule, [["rules", "check", str(rule)]], True))
    lines = good["journal"].read_text().splitlines()
    for label, extra in {
        "journal: negative message index": json.dumps({**json.loads(lines[-1]), "index": -3}),
        "journal: negative truncate": json.dumps({"ev": "truncate", "at": -2}),
        "journal: duplicated line": lines[-1],
        "journal: torn last line": lines[-1][:40],
    }.items():
        jdir = folder(label)
        (jdir / "s.session.journal").write_text("\n".join([*lines, extra]) + ("" if "torn" in label else "\n"))
        cases.append((label, jdir / "s.session.json", session_commands(jdir / "s.session.json"), False))
    mixed = folder("folder: truncated file, dangling link, journal-only")
    shutil.copy(good["json"], mixed / "a.session.json")
    (mixed / "b.session.json").write_text(good["json"].read_text()[:300])
    os.symlink(work / "nowhere.session.json", mixed / "c.session.json")
    shutil.copy(good["journal"], mixed / "d.session.journal")
    cases.append(
        (
            "folder: truncated file, dangling link, journal-only",
            mixed,
            [["stats", str(mixed)], ["export", str(mixed), "--format", "openai", "--out", str(work / "mixed.jsonl")]],
            False,
        )
    )
    return cases


def bad_inputs(work: Path, seed: int) -> tuple[int, int, list[str]]:
    fuzz = _fuzz_module()
    good = good_files(work)
    rng = random.Random(seed)
    tried = handled = 0
    misses: list[str] = []
    corpus: list[tuple[str, bytes, Path, object]] = []
    for kind, path in good.items():
        if kind == "journal":
            continue
        is_json = path.suffix == ".json"
        for label, data in fuzz._mutants(path.read_text(encoding="utf-8"), rng, 21, is_json):
            corpus.append((f"{kind}: {label}", data, path, kind))
    for number, (label, data, path, kind) in enumerate(corpus):
        case = work / "fuzz" / str(number)
        case.mkdir(parents=True)
        target = case / path.name
        target.write_bytes(data)
        if kind == "tools":
            commands = [["run", "--quiet", "--tools", str(target), "--tasks", "1", "--max-messages", "4",
                         "--out", str(case / "r.session.json")]]  # fmt: skip
        elif kind == "rule":
            commands = [["rules", "check", str(target)]]
        else:
            commands = session_commands(target)
        for argv in commands:
            tried += 1
            ok, what = run_main(argv)
            handled += ok
            if not ok:
                misses.append(f"{label} · {argv[0]}: {what}")
    for label, _path, commands, must_refuse in crafted(work, good, schema_server()):
        for argv in commands:
            tried += 1
            ok, what = run_main(argv, must_refuse)
            handled += ok
            if not ok:
                misses.append(f"{label} · {argv[0]}: {what}")
    return handled, tried, misses


MESSAGE_LINE = re.compile(r"^\s*(\d+) (user|assistant|tool)\b", re.MULTILINE)


def kills(work: Path, tries: int, seed: int) -> tuple[int, int, int, int, list[str]]:
    """(survived, tried, committed messages lost to the kill, lost to a re-run over the crash, notes)."""
    from turnloom.core.errors import SessionFileError
    from turnloom.core.storage.journal import open_session

    rng = random.Random(seed)
    survived = lost_kill = lost_rerun = 0
    notes: list[str] = []
    turnloom = [sys.executable, "-m", "turnloom.core"]
    references: dict[int, list] = {}
    at_kill: list[int] = []
    mid_dialogue = 0
    for attempt in range(tries):
        dialogue_seed = attempt % 5
        out = work / "kills" / f"k{attempt}" / "d.session.json"
        out.parent.mkdir(parents=True)
        if dialogue_seed not in references:
            ref = out.parent / "ref.session.json"
            subprocess.run(
                [*turnloom, "run", "--quiet", "--seed", str(dialogue_seed), "--out", str(ref)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            references[dialogue_seed] = [m.model_dump() for m in open_session(ref)[0].messages]
            ref.unlink()
        argv = [*turnloom, "run", "--seed", str(dialogue_seed), "--out", str(out)]
        # killed once it has printed a random number of committed messages (0: before the first)
        kill_after = rng.randrange(0, len(references[dialogue_seed]))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        printed: set[int] = set()
        assert proc.stdout is not None
        if kill_after == 0:
            time.sleep(rng.uniform(0.2, 1.0))
        else:
            for line in proc.stdout:
                found = MESSAGE_LINE.match(line)
                if found:
                    printed.add(int(found.group(1)))
                    if len(printed) >= kill_after:
                        break
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read()
        printed |= {int(m.group(1)) for m in MESSAGE_LINE.finditer(rest)}
        proc.wait()
        try:
            session, _ = open_session(out)
            messages = [m.model_dump() for m in session.messages]
        except SessionFileError as exc:
            if printed:
                notes.append(f"kill {attempt}: cannot open after the kill: {exc}")
                lost_kill += len(printed)
                continue
            survived += 1  # killed before the first commit: nothing to keep
            continue
        missing = len({i for i in printed if i >= len(messages)})
        at_kill.append(len(messages))
        mid_dialogue += len(messages) < len(references[dialogue_seed])
        lost_kill += missing
        prefix = messages == references[dialogue_seed][: len(messages)]
        # what a user does next: the same command again (refused, since the journal holds the crash) ...
        rerun = subprocess.run(argv, capture_output=True, text=True)
        try:
            after = [m.model_dump() for m in open_session(out)[0].messages]
        except SessionFileError as exc:
            after = []
            notes.append(f"kill {attempt}: the re-run left {out.name} unreadable: {exc}")
        kept = after[: len(messages)] == messages
        lost_rerun += 0 if kept else len(messages)
        # ... then continues it as the refusal says
        cont = subprocess.run([*turnloom, "run", "--quiet", "--from", str(out), "--out", str(out)], capture_output=True)
        finished = cont.returncode == 0
        if missing == 0 and prefix and kept and finished:
            survived += 1
        else:
            notes.append(
                f"kill {attempt}: missing {missing}, prefix {prefix}, kept on re-run {kept} (exit {rerun.returncode}), "
                f"continued {finished}"
            )
    if at_kill:
        notes.insert(
            0,
            f"killed mid-dialogue {mid_dialogue} of {tries} times; messages on disk at the kill: "
            f"{min(at_kill)}..{max(at_kill)} (median {sorted(at_kill)[len(at_kill) // 2]})",
        )
    return survived, tries, lost_kill, lost_rerun, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="turnloom-hostile-"))
    cwd = os.getcwd()
    os.chdir(work)
    try:
        handled, tried, misses = bad_inputs(work, args.seed)
        print(f"bad inputs handled / tried: {handled} / {tried}")
        kinds: dict[str, int] = {}
        for miss in misses:
            key = re.sub(r"at byte \d+|\[[\d, ]+\]\.\.\.|position \d+|byte 0x\w+", "…", miss)[:150]
            kinds[key] = kinds.get(key, 0) + 1
        for key, count in sorted(kinds.items(), key=lambda item: -item[1])[:25]:
            print(f"  not handled ×{count}: {key}")
        if args.kills:
            survived, tries, lost_kill, lost_rerun, notes = kills(work, args.kills, args.seed)
            print(f"kills survived / tried: {survived} / {tries}")
            print(f"committed messages lost to the kills: {lost_kill}")
            print(f"committed messages lost to a re-run over the crashed journal: {lost_rerun}")
            for note in notes[:10]:
                print(f"  {note}")
    finally:
        os.chdir(cwd)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
