"""The offline backend: every role played deterministically from the seed, no network.

offline_roles(session, environment) -> RoleSet
"""

from __future__ import annotations

from turnloom.core.models import DIALOGUE_ROLES, Session
from turnloom.core.players.roles import RoleSet


def offline_roles(session: Session, environment=None) -> RoleSet:
    """Offline players for every role of `session`."""
    from turnloom.core.players.offline.assistant import OfflineAssistant
    from turnloom.core.players.offline.knowledge import knowledge_for
    from turnloom.core.players.offline.tasks import OfflineTaskGenerator
    from turnloom.core.players.offline.toolsim import OfflineToolSimulator
    from turnloom.core.players.offline.user import OfflineUserSimulator

    knowledge = knowledge_for(session, environment)
    return RoleSet(
        tasks=OfflineTaskGenerator(knowledge),
        user=OfflineUserSimulator(knowledge),
        assistant=OfflineAssistant(knowledge),
        tool=OfflineToolSimulator(environment),
        describe={role: "offline" for role in DIALOGUE_ROLES},
    )
