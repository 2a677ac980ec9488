"""The offline backend: every role played deterministically from the seed, no network.

    offline_roles(session, environment) -> RoleSet
"""

from __future__ import annotations

from ..models import Session
from ..roles import RoleSet


def offline_roles(session: Session, environment=None) -> RoleSet:
    """Offline players for every role of `session`."""
    from .assistant import OfflineAssistant
    from .knowledge import knowledge_for
    from .tasks import OfflineTaskGenerator
    from .toolsim import OfflineToolSimulator
    from .user import OfflineUserSimulator

    knowledge = knowledge_for(session, environment)
    return RoleSet(
        tasks=OfflineTaskGenerator(knowledge),
        user=OfflineUserSimulator(knowledge),
        assistant=OfflineAssistant(knowledge),
        tool=OfflineToolSimulator(),
        describe={role: "offline" for role in ("task", "user", "assistant", "tool")},
    )
