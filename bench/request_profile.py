"""Where a batch request's client CPU goes, by area: cProfile of one event loop, bucketed by module.

    python bench/request_profile.py [--dialogues 128] [--in-flight 32] [--python PY] [--loop asyncio|uvloop]

Starts bench/fast_fake_server.py (its own process, 10 ms per reply), warms up with one
batch of `--in-flight` dialogues (imports, the session template, the HTTP client), then
profiles a batch of `--dialogues` dialogues on one event loop, the batch path of
`generate` (`AsyncExecutor(processes=1)`, exchange log recorded, journal and snapshot
per dialogue; task, user and assistant roles on the endpoint, SQL tools, `--tasks 1`).

Two tables, microseconds per request (cProfile's overhead inflates small calls, so
read the shares, and compare only runs of this script with each other):

- *self*: each function's own time, bucketed by the module it is in (our packages by
  area, libraries by name, C builtins by what they are).
- *by area*: the time of library and C code handed to the turnloom area that called it
  (through the callers cProfile records, split by the callers' share), so "endpoint"
  includes the aiohttp and json work it asked for, "quality" the pydantic and sqlite
  calls of the verdict, and so on. What no turnloom code called (the event loop itself,
  the socket transports) stays under its library.

`--python` runs another checkout's interpreter on the same script (before/after); the
script imports only what every checkout since the third batch session has.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import json
import os
import pstats
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STDLIB = sysconfig.get_paths()["stdlib"]


# what an area is, for both layouts: today's packages and the flat modules of the third batch session
# (d466d0c: core/backends/*, core/offline/*, core/journal.py, ...), so the two compare by area
OLD_MODULES = {
    "endpoint": (
        "backends/openai_backend",
        "backends/wire",
        "backends/exchange",
        "backends/cache",
        "backends/structured",
        "backends/accounting",
        "backends/probe",
    ),
    "players.llm": (
        "backends/assistant",
        "backends/user",
        "backends/tasks",
        "backends/toolsim",
        "backends/judge",
        "backends/setup",
        "backends/llmforge",
        "roles",
    ),
    "batch": ("batch", "batchjob", "executors", "event_loops", "manifest", "progress"),
    "engine": ("engine", "events", "turns", "dialogue"),
    "storage": ("journal", "store", "store_toml", "transcript"),
    "quality": ("validation", "verify", "grounding", "metrics", "rerun", "dataset_stats"),
    "tools": ("sqlenv", "environment", "toolset", "dbimage", "dbschema", "forging", "forge"),
    "rules": ("rules", "rulesets", "rulecheck", "rule_preview"),
}
NEW_PACKAGES = {
    "endpoint": "endpoint",
    "players/llm": "players.llm",
    "players/setup": "players.llm",
    "players/roles": "players.llm",
    "players/offline": "players.offline",
    "offline": "players.offline",
    "batch": "batch",
    "engine": "engine",
    "lifecycle": "engine",
    "storage": "storage",
    "quality": "quality",
    "tools": "tools",
    "rules": "rules",
    "prompts": "prompts",
    "models": "models",
    "domains": "domains",
}


def core_area(module: str) -> str:
    """The area of a module path under core/ (`players/llm/user`, `batchjob`, ...), either layout."""
    for group, names in OLD_MODULES.items():
        if module in names:
            return group
    for prefix, group in sorted(NEW_PACKAGES.items(), key=lambda kv: -len(kv[0])):
        if module == prefix or module.startswith(prefix + "/"):
            return group
    return module.split("/", 1)[0]


def area(filename: str, name: str) -> tuple[str, bool]:
    """(bucket, is ours) of a profiled function."""
    if filename == "~":  # a C builtin: '<method 'execute' of 'sqlite3.Connection' objects>' or '<built-in ...>'
        for key, bucket in (
            ("sqlite3", "C: sqlite3"),
            ("pydantic_core", "C: pydantic_core"),
            ("orjson", "C: orjson"),
            ("_json", "C: json"),
            ("_hashlib", "C: hashlib"),
            ("_sha256", "C: hashlib"),
            ("posix", "C: os"),
            ("_io", "C: io"),
            ("uvloop", "C: uvloop"),
            ("select", "C: select"),
            ("_socket", "C: socket"),
            ("re.Pattern", "C: re"),
        ):
            if key in name:
                return bucket, False
        return "C: other builtins", False
    path = filename.replace(os.sep, "/")
    if "/site-packages/" in path:
        library = path.split("/site-packages/", 1)[1].split("/", 1)[0]
        return f"lib: {library.removesuffix('.py')}", False
    if path.startswith(STDLIB):
        module = path[len(STDLIB) :].lstrip("/").split("/", 1)[0].removesuffix(".py")
        return f"std: {module}", False
    if "/core/" in path:
        module = path.rsplit("/core/", 1)[1].removesuffix(".py").removesuffix("/__init__")
        return f"core.{core_area(module)}", True
    if "/bench/" in path:
        return "event loop (no core caller)", False
    return "other", False


def bucket(stats: pstats.Stats, requests: int) -> dict[str, dict[str, float]]:
    """Self time by bucket, and self time handed up the callers to the turnloom area that asked for it."""
    raw = stats.stats  # type: ignore[attr-defined]
    own: collections.Counter[str] = collections.Counter()
    charged: collections.Counter[str] = collections.Counter()
    memo: dict[tuple, dict[str, float]] = {}

    def owners(func: tuple, depth: int = 0) -> dict[str, float]:
        """How the time of `func` splits between turnloom areas (fractions summing to 1)."""
        if func in memo:
            return memo[func]
        name, ours = area(func[0], func[2])
        if ours:
            return {name: 1.0}
        callers = raw[func][4] if func in raw else {}
        total = sum(entry[3] for entry in callers.values())
        if depth > 40 or not callers or total <= 0:
            result = {name: 1.0}
        else:
            memo[func] = {name: 1.0}  # a cycle comes back as the library itself
            result = collections.defaultdict(float)
            for caller, entry in callers.items():
                for key, share in owners(caller, depth + 1).items():
                    result[key] += share * entry[3] / total
        memo[func] = dict(result)
        return memo[func]

    for func, (_cc, _nc, tt, _ct, _callers) in raw.items():
        name, _ours = area(func[0], func[2])
        own[name] += tt
        for key, share in owners(func).items():
            charged[key] += tt * share
    scale = 1e6 / requests
    return {
        "self": {k: v * scale for k, v in own.items()},
        "by area": {k: v * scale for k, v in charged.items()},
    }


def client(url: str, dialogues: int, in_flight: int, loop: str, out_json: str) -> None:
    """Warm up, then profile one batch; write the buckets as JSON."""
    import turnloom.core

    # the fake_run of the checkout this interpreter runs (its bench follows its own module layout)
    sys.path.insert(0, str(Path(turnloom.core.__file__).resolve().parent.parent / "bench"))
    import generate_throughput as gt

    if loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with tempfile.TemporaryDirectory() as tmp:
        gt.fake_run(url, in_flight, in_flight, Path(tmp) / "warm", None, processes=1)
        profiler = cProfile.Profile(time.thread_time)  # CPU time: the shared machine's load does not count
        profiler.enable()
        result = gt.fake_run(url, in_flight, dialogues, Path(tmp) / "batch", None, processes=1)
        profiler.disable()
    stats = pstats.Stats(profiler)
    if os.environ.get("REQUEST_PROFILE_DUMP"):  # the raw profile too, to read with pstats
        stats.dump_stats(os.environ["REQUEST_PROFILE_DUMP"])
    tables = bucket(stats, result["requests"])
    tables["requests"] = result["requests"]  # type: ignore[assignment]
    tables["total"] = sum(tables["self"].values())  # type: ignore[assignment]
    Path(out_json).write_text(json.dumps(tables))


def show(tables: list[dict], labels: list[str], top: int) -> None:
    for kind in ("by area", "self"):
        keys = sorted(set().union(*(t[kind] for t in tables)), key=lambda k: -max(t[kind].get(k, 0.0) for t in tables))
        print(f"\n{kind}: µs per request (cProfile-inflated)")
        print(f"  {'':<28}" + "".join(f"{label:>12}" for label in labels))
        for key in keys[:top]:
            print(f"  {key:<28}" + "".join(f"{t[kind].get(key, 0.0):12.1f}" for t in tables))
        print(f"  {'total':<28}" + "".join(f"{t['total']:12.1f}" for t in tables))
    print("  requests                    " + "".join(f"{t['requests']:12d}" for t in tables))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dialogues", type=int, default=128)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--python", action="append", help="interpreter(s) to compare (default: this one)")
    parser.add_argument("--label", action="append", help="a label per --python")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client(args.url, args.dialogues, args.in_flight, args.loop, args.out)
        return
    pythons = args.python or [sys.executable]
    labels = args.label or [Path(p).parent.parent.parent.name for p in pythons]
    server = subprocess.Popen(
        [sys.executable, str(HERE / "fast_fake_server.py"), "--latency", "0.01"], stdout=subprocess.PIPE, text=True
    )
    url = server.stdout.readline().strip()
    tables = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i, python in enumerate(pythons):
                out = str(Path(tmp) / f"{i}.json")
                subprocess.run(
                    [
                        python,
                        __file__,
                        "--client",
                        "--url",
                        url,
                        "--dialogues",
                        str(args.dialogues),
                        "--in-flight",
                        str(args.in_flight),
                        "--loop",
                        args.loop,
                        "--out",
                        out,
                    ],
                    check=True,
                )
                tables.append(json.loads(Path(out).read_text()))
    finally:
        server.terminate()
    print(f"{args.dialogues} dialogues, {args.in_flight} in flight, one {args.loop} loop")
    show(tables, labels, args.top)


if __name__ == "__main__":
    main()
