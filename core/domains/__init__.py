"""The built-in domain packs, and a task's progress read against a pack's intents.

Owns: the registry (below), `base` (what a pack is: schema, data, intents with their
phrasings and tool chains, task templates), one module per pack, and `progress` (which
subtasks a transcript's successful tool calls served: read by the offline user simulator and
by the rule checks alike).
Leaves to others: the database a pack becomes (`tools.dbimage`), the tools derived from it
(`tools.derive`), playing a pack's users and assistants (players).

Pack modules are imported lazily, on first use, so importing this package
costs nothing beyond defining names.

    pack_names()        -> ["airline", "clinic", "football", "retail", "telecom"]
    get_pack("retail")  -> DomainPack   (DomainError for an unknown name)
    all_packs()         -> every pack, in name order
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from turnloom.core.errors import DomainError

if TYPE_CHECKING:
    from turnloom.core.domains.base import DomainPack

# pack name -> module (relative to this package) that exposes PACK
_MODULES = {
    "airline": ".airline",
    "clinic": ".clinic",
    "football": ".football",
    "retail": ".retail",
    "telecom": ".telecom",
}


def pack_names() -> list[str]:
    """The names of the built-in packs, sorted."""
    return sorted(_MODULES)


def get_pack(name: str) -> DomainPack:
    """The built-in pack called `name`.

    Raises:
        DomainError: for an unknown name; the message lists the known domains.
    """
    module_name = _MODULES.get(str(name).strip().lower())
    if module_name is None:
        known = ", ".join(pack_names())
        raise DomainError(f"unknown domain {name!r}; known domains: {known}")
    module = importlib.import_module(module_name, __name__)
    return module.PACK


def all_packs() -> list[DomainPack]:
    """Every built-in pack, in name order."""
    return [get_pack(name) for name in pack_names()]


__all__ = ["all_packs", "get_pack", "pack_names"]
