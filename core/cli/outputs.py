"""One rule for the files a command writes: an existing file is never replaced without `--force`.

`run --out`, `fork --out`, `export --out` and `forge --out` all follow it, with the same
option and the same message. (`generate --out` names a folder that a re-run resumes; its
`--force` accepts a changed config instead.)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from turnloom.core.errors import UsageError


def add_force_option(parser: argparse.ArgumentParser) -> None:
    """--force: replace the --out file if it exists."""
    parser.add_argument("--force", action="store_true", help="replace the --out file if it already exists")


def checked_output(out: Path, force: bool, option: str = "--out") -> Path:
    """`out` made ready before any work is done: its folder made and writable, an existing file kept unless `force`.

    Raises:
        UsageError: `out` is a folder, its folder cannot be made or written, or it exists and `force` is off.
    """
    if out.is_dir():
        raise UsageError(f"{option} {out}: is a folder; give a file name in it")
    if out.exists() and not force:
        raise UsageError(f"{option} {out} already exists; pass --force to replace it, or choose another {option}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{option} {out}: cannot create its folder ({exc.strerror or exc})") from None
    if not os.access(out.parent, os.W_OK):
        raise UsageError(f"{option} {out}: the folder {out.parent} is not writable")
    return out
