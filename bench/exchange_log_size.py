"""Exchange-log bytes per message as a dialogue grows (issue 18, item 1).

    python bench/exchange_log_size.py [--messages 100 300 1000] [--seed 3]

Runs `turnloom run --profile fake --max-messages N` (task, user and assistant on the
test server tests/backends/fake_openai.py, in this process, auto replies) for each N,
then reports the session file and the exchange log beside it: bytes, bytes per
message, and that every record reads back (`read_exchanges` checks each request
against its key). Sizes are deterministic for a seed, so one run each is enough.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "backends"))
from fake_openai import FakeOpenAI  # noqa: E402

KEY_ENV = "TURNLOOM_BENCH_KEY"


def measure(server: FakeOpenAI, folder: Path, messages: int, seed: int) -> tuple[int, int, int, int]:
    """(messages made, session bytes, log bytes, records) of one `run` of at most `messages` messages."""
    from turnloom.core.cli import main
    from turnloom.core.endpoint.exchange_log import exchange_log_path, read_exchanges
    from turnloom.core.storage.snapshot import load_session

    out = folder / f"n{messages}.session.json"
    args = ["--config", str(folder / "turnloom.toml"), "run", "--profile", "fake", "--quiet"]
    args += ["--seed", str(seed), "--tasks", str(max(2, messages // 8)), "--max-messages", str(messages)]
    with contextlib.redirect_stdout(io.StringIO()):
        code = main([*args, "--out", str(out)])
    if code != 0:
        raise SystemExit(f"run --max-messages {messages} failed with exit code {code}")
    log = exchange_log_path(out)
    records = sum(1 for _ in read_exchanges(log))
    return len(load_session(out).messages), out.stat().st_size, log.stat().st_size, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    os.environ[KEY_ENV] = "bench-key-not-secret"
    with FakeOpenAI() as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "turnloom.toml").write_text(
            f'[profiles.fake]\nbase_url = "{server.base_url}"\nmodel = "fake"\napi_key_env = "{KEY_ENV}"\n'
            "retry_backoff = 0.0\n",
            encoding="utf-8",
        )
        print(f"{'messages':>8} {'records':>8} {'session KB':>11} {'log KB':>9} {'log B/message':>14}")
        for n in args.messages:
            made, session_bytes, log_bytes, records = measure(server, folder, n, args.seed)
            server.requests.clear()
            print(f"{made:8d} {records:8d} {session_bytes / 1e3:11.1f} {log_bytes / 1e3:9.1f} {log_bytes / made:14.0f}")


if __name__ == "__main__":
    main()
