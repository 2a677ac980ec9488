"""Time from starting the real `turnloom` command to its first painted frame.

Each run spawns `turnloom` on a fresh pseudo-terminal of 120x40 in an empty temporary
folder (so it opens a new offline session) and reads the terminal output until the frame
holding the "Conversation" pane title arrives. The process is then terminated (it is
ours: we started it by pid). The figure includes interpreter start, imports, building the
session (domain database, derived tools) and the first paint.

    python bench/tui_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path


def _command() -> list[str]:
    script = Path(sys.executable).parent / "turnloom"
    return [str(script)] if script.exists() else [sys.executable, "-m", "turnloom.tui"]


def one_run(timeout: float = 20.0) -> float:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    folder = tempfile.mkdtemp(prefix="tl-startup-")
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    started = time.perf_counter()
    process = subprocess.Popen(
        _command(), stdin=slave, stdout=slave, stderr=slave, cwd=folder, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
                if b"Conversation" in seen:
                    return time.perf_counter() - started
        raise RuntimeError(f"no frame within {timeout}s; output: {seen[-500:]!r}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        os.close(master)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    one_run()  # warm the file cache and bytecode
    times = [one_run() for _ in range(args.runs)]
    print(f"runs {len(times)}  median {statistics.median(times):.3f}s  min {min(times):.3f}s  max {max(times):.3f}s")


if __name__ == "__main__":
    main()
