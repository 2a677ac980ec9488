"""What the offline roles know about a domain: its pack, and a parser for its phrasings.

Built-in domains have hand-written packs; any other database gets a pack derived
from its tools (`generic`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domains.base import DomainPack, Intent
from ..models import Session
from .language import RequestParser


@dataclass
class DomainKnowledge:
    pack: DomainPack
    parser: RequestParser = field(init=False)

    def __post_init__(self) -> None:
        self.parser = RequestParser(self.pack)

    def intent(self, name: str) -> Intent:
        return self.pack.intent(name)

    def writes(self, intent: Intent, session: Session) -> bool:
        """Whether the intent's chain changes data."""
        for step in intent.steps:
            spec = session.tool(step.tool)
            if spec is not None and spec.writes:
                return True
        return False


def knowledge_for(session: Session, environment=None) -> DomainKnowledge:
    """The domain knowledge for a session: its built-in pack, or one derived from its tools."""
    if session.db_path is None:
        from ..domains import get_pack

        return DomainKnowledge(get_pack(session.domain))
    from .generic import derive_pack

    return DomainKnowledge(derive_pack(session, environment))
