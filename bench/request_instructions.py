"""Client cost per LLM request in instructions, which the shared machine's load does not move.

    python bench/request_instructions.py [--dialogues 48] [--in-flight 16] [--python PY] [--loop asyncio|uvloop]

Starts bench/fast_fake_server.py (its own process, not counted), then runs the client
under `valgrind --tool=callgrind` (instructions of every thread of the process; the
kernel's work in syscalls is not counted) twice per variant: `base` (imports, a
warm-up batch of `--in-flight` dialogues) and `eval` (the same, then a batch of
`--dialogues`). (eval - base) / requests of that batch is the client's marginal cost
per request, start-up removed. Variants, one event loop, the batch path of `generate`
(`AsyncExecutor(processes=1)`, exchange log recorded, journal and snapshot per dialogue):

- dialogues: whole dialogues (task, user, assistant roles on the endpoint, SQL tools, `--tasks 1`)
- without files: the same with the journal, snapshot and exchange log left out
- HTTP alone: `Endpoint.chat` replaying the batch's own requests with no exchange log (the
  request path without the dialogue: encoding, the aiohttp wire, reply parsing; no key, which
  only a log or a cache asks for)

`--python` runs another checkout's interpreter (e.g. main's .venv/bin/python) on the same
script, for before/after. Valgrind runs the client ~50x slower, so the server's latency
is irrelevant here; this measures work, not rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = ("dialogues", "without files", "HTTP alone")


def _loop_factory(kind: str):
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


def client(variant: str, phase: str, url: str, dialogues: int, in_flight: int, loop: str) -> None:
    """What runs under valgrind: warm up, then (phase `eval`) the measured batch; prints its request count."""
    import turnloom.core

    # the fake_run of the checkout this interpreter runs (an older checkout's bench follows its own layout)
    sys.path.insert(0, str(Path(turnloom.core.__file__).resolve().parent.parent / "bench"))
    import generate_throughput as gt

    factory = _loop_factory(loop)

    def run(n: int, out: Path, record: bool = True) -> dict:
        # fake_run calls asyncio.run; the loop kind is set through the policy for that call
        if factory is not None:
            import uvloop

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return gt.fake_run(url, in_flight, n, out, None, processes=1, record=record)

    with tempfile.TemporaryDirectory() as tmp:
        run(in_flight, Path(tmp) / "warm")
        if phase == "base":
            print("requests 0")
            return
        if variant == "dialogues":
            result = run(dialogues, Path(tmp) / "batch")
            print(f"requests {result['requests']}")
        elif variant == "without files":
            import turnloom.core.lifecycle.live_session as live_session

            live_session.Journal.open = lambda *a, **k: gt._NoFiles()  # type: ignore[method-assign]
            live_session.compact = lambda *a, **k: None
            result = run(dialogues, Path(tmp) / "batch", record=False)
            print(f"requests {result['requests']}")
        else:
            raise SystemExit(f"not a client variant: {variant}")


def http_alone(url: str, dialogues: int, in_flight: int, loop: str, python: str) -> int:
    """Instructions per request of `Endpoint.chat` alone: replay a recorded batch, base = the same without sending."""
    with tempfile.TemporaryDirectory() as tmp:
        # record a batch's requests outside valgrind
        subprocess.run(
            [python, __file__, "--record", tmp, "--url", url, "--dialogues", str(dialogues)],
            check=True,
            cwd=os.getcwd(),
        )
        counts = {}
        for phase in ("base", "eval"):
            counts[phase] = _callgrind(
                [
                    python,
                    __file__,
                    "--replay",
                    tmp,
                    "--phase",
                    phase,
                    "--url",
                    url,
                    "--in-flight",
                    str(in_flight),
                    "--loop",
                    loop,
                ]
            )
        requests = int((Path(tmp) / "requests").read_text())
        # base replays the first `in_flight` requests (endpoint and client made, connections open)
        return (counts["eval"][0] - counts["base"][0]) // (requests - in_flight)


def record(out: str, url: str, dialogues: int) -> None:
    sys.path.insert(0, str(HERE))
    import generate_throughput as gt

    result = gt.fake_run(url, 16, dialogues, Path(out), None, processes=1)
    (Path(out) / "requests").write_text(str(result["requests"]))


def replay(folder: str, phase: str, url: str, in_flight: int, loop: str) -> None:
    sys.path.insert(0, str(HERE))
    import generate_throughput as gt

    from turnloom.core.cli.generate_cmd import EXCHANGE_LOG
    from turnloom.core.config import Profile
    from turnloom.core.endpoint.endpoint import Endpoint

    requests = gt.recorded_requests(Path(folder) / EXCHANGE_LOG)
    endpoint = Endpoint(
        "fake",
        Profile(base_url=url, model="fake", api_key_env=None, max_concurrency=in_flight, stream=False),
        batch=True,
    )

    async def go() -> None:
        queue = list(reversed(requests if phase == "eval" else requests[:in_flight]))

        async def lane() -> None:
            while queue:
                await endpoint.chat(queue.pop())

        await asyncio.gather(*(lane() for _ in range(in_flight)))
        await endpoint.aclose()

    factory = _loop_factory(loop)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(go())
    print(f"replayed {len(requests) if phase == 'eval' else in_flight}")


def _callgrind(command: list[str]) -> tuple[int, str]:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=True,
    )
    collected = re.search(r"Collected : (\d+)", done.stderr)
    assert collected, done.stderr[-2000:]
    return int(collected.group(1)), done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dialogues", type=int, default=48)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    # internal: what runs under valgrind
    parser.add_argument("--client", choices=VARIANTS)
    parser.add_argument("--phase", choices=("base", "eval"))
    parser.add_argument("--url")
    parser.add_argument("--record")
    parser.add_argument("--replay")
    args = parser.parse_args()
    if args.client:
        client(args.client, args.phase, args.url, args.dialogues, args.in_flight, args.loop)
        return
    if args.record:
        record(args.record, args.url, args.dialogues)
        return
    if args.replay:
        replay(args.replay, args.phase, args.url, args.in_flight, args.loop)
        return
    server = subprocess.Popen(
        [sys.executable, str(HERE / "fast_fake_server.py"), "--latency", "0.01"], stdout=subprocess.PIPE, text=True
    )
    url = server.stdout.readline().strip()
    try:
        print(f"{args.python} · {args.dialogues} dialogues, {args.in_flight} in flight, one {args.loop} loop")
        for variant in args.variants.split(","):
            if variant == "HTTP alone":
                per = http_alone(url, args.dialogues, args.in_flight, args.loop, args.python)
            else:
                counts = {}
                for phase in ("base", "eval"):
                    counts[phase] = _callgrind(
                        [
                            args.python,
                            __file__,
                            "--client",
                            variant,
                            "--phase",
                            phase,
                            "--url",
                            url,
                            "--dialogues",
                            str(args.dialogues),
                            "--in-flight",
                            str(args.in_flight),
                            "--loop",
                            args.loop,
                        ]
                    )
                requests = int(re.search(r"requests (\d+)", counts["eval"][1]).group(1))
                per = (counts["eval"][0] - counts["base"][0]) // requests
            print(f"  {variant:<14} {per / 1e6:6.2f} M instructions per request", flush=True)
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
