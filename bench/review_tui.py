"""The review view on a 10,000-session folder (issue 20, the TUI): time from launch to the first
painted list, and how long a key press in the list takes to reach the screen.

    python bench/review_tui.py [--dir /tmp/turnloom-review-tui-10000] [--n 10000] [--runs 5] [--keys 40]

The folder is made once by `bench/review_index.py`'s builder (`generate --n 200`, then copies
up to N) and its index is built once before timing (the ≤ 1 s target is for a folder whose
index exists; a cold build is `review_index.py`'s figure). Each run starts the real
`turnloom review DIR` on a fresh 140x45 pseudo-terminal and reads its output until the frame
holding the first row and the progress line (`labelled …/N (keep …`) arrives: interpreter
start, imports, reading the index file (in a worker) and the first paint of the list, with
the rows as last indexed; then until the progress line is painted again without "checking the
files…" (every file's stamp checked, `core.review.index.load_index`). In the last
run, keys are then sent one at a time: cursor down (`j`) and the label keys (`1` keep, then
`k` `0` `k` to put the row back unlabelled), each timed from the write to the first bytes of
the repaint it causes (a label's file is written in a worker afterwards; the script waits for
that repaint too before the next key). The process is ours and is terminated by pid. The
machine has 2 cores shared with other work: the figures are upper bounds.
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

sys.path.insert(0, str(Path(__file__).parent))

from review_index import make_folder  # noqa: E402

from turnloom.core.review.index import load_index  # noqa: E402


def _command(folder: Path) -> list[str]:
    script = Path(sys.executable).parent / "turnloom"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "turnloom"]
    return [*base, "review", str(folder)]


def _read_until(master: int, wanted: list[bytes], timeout: float) -> bytes:
    seen = b""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([master], [], [], 0.02)
        if ready:
            seen += os.read(master, 1 << 20)
            if all(w in seen for w in wanted):
                return seen
    raise RuntimeError(f"not seen within {timeout}s: {wanted}; output tail: {seen[-300:]!r}")


def _drain(master: int, quiet: float) -> None:
    """Read until the terminal has been silent for `quiet` seconds."""
    while select.select([master], [], [], quiet)[0]:
        os.read(master, 1 << 20)


def _key_latency(master: int, key: bytes, settle: float) -> float:
    _drain(master, settle)
    started = time.perf_counter()
    os.write(master, key)
    if not select.select([master], [], [], 5.0)[0]:
        raise RuntimeError(f"no repaint after {key!r}")
    return time.perf_counter() - started


def one_run(folder: Path, n: int, keys: int = 0) -> tuple[float, float, dict[str, list[float]]]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 140, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "140", "LINES": "45"}
    started = time.perf_counter()
    process = subprocess.Popen(
        _command(folder),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=tempfile.gettempdir(),
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    latencies: dict[str, list[float]] = {"down (j)": [], "label (1 / 0)": []}
    progress = f"/{n} (keep".encode()
    try:
        seen = _read_until(master, [b"seed-0000000", progress], 30.0)
        to_list = time.perf_counter() - started
        if seen.count(progress) < 2 and b"checking the files" in seen:
            _read_until(master, [progress], 30.0)  # the progress line again, without "checking the files…"
        to_checked = time.perf_counter() - started
        for _ in range(keys):
            latencies["down (j)"].append(_key_latency(master, b"j", 0.1))
        for _ in range(max(1, keys // 4)):
            latencies["label (1 / 0)"].append(_key_latency(master, b"1", 0.1))
            _key_latency(master, b"k", 1.5)  # after the label's file is written and repainted
            latencies["label (1 / 0)"].append(_key_latency(master, b"0", 0.1))
            _key_latency(master, b"k", 1.5)
        return to_list, to_checked, latencies
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        os.close(master)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "turnloom-review-tui-10000"))
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--base", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    folder = Path(args.dir)
    make_folder(folder, args.n, args.base)
    rows = len(load_index(folder))  # the index exists before timing
    print(f"{rows} sessions, {os.cpu_count()} core(s), 140x45 terminal", flush=True)
    one_run(folder, rows)  # warm the file cache and bytecode
    times, checked = [], []
    latencies: dict[str, list[float]] = {}
    for run in range(args.runs):
        to_list, to_checked, keyed = one_run(folder, rows, keys=args.keys if run == args.runs - 1 else 0)
        times.append(to_list)
        checked.append(to_checked)
        latencies = keyed or latencies
    for name, values in (("launch to first painted list", times), ("launch to list checked", checked)):
        print(
            f"  {name:<32}  median {statistics.median(values) * 1000:7.0f} ms"
            f"  (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}; {len(values)} runs)"
        )
    for name, values in latencies.items():
        print(
            f"  key {name:<16} to repaint    median {statistics.median(values) * 1000:7.1f} ms"
            f"  p95 {p95(values) * 1000:.1f} ms  ({len(values)} presses)"
        )


if __name__ == "__main__":
    main()
