"""What a check reports: the messages it points at and why.

A `Finding` is one problem a named check found; `Severity.WARNING` findings are shown but do
not reject the dialogue. Running the checks and turning findings into a verdict is `checks`'s
and `verdict`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """Whether a finding rejects the dialogue or only warns."""

    REJECT = "reject"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem: the check that found it, the messages it points at, and the reason."""

    check: str
    messages: tuple[int, ...]
    reason: str
    severity: Severity = Severity.REJECT
