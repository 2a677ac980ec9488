"""The offline backend: every role played deterministically from the seed, no network.

Owns: `knowledge` (a domain's pack and the parser of its phrasings; `knowledge_or_none` is
what the rule checks get), `user` (the user simulator), `assistant`, `tasks` (the task
generator), `toolsim` and `world` (simulated execution), `generic` and `nouns` (a pack derived
from any database's tools and names), `language`, `voice`, `plans`, `values` (phrasings,
register, task plans, values by field meaning).
Leaves to others: the role protocols (`players.roles`), a task's progress
(`domains.progress`), running the tools (tools).

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
