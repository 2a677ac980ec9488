"""Usage, latency and cost per role, from a session's messages and a price table.

User-simulator turns carry the task generator's usage too (a task is generated
inside the user's proposal); `meta.usage_by_role` splits it. Tool
results are built by the engine, so a simulated tool's cost comes from the
`LLMToolSimulator.spent` ledger when given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from turnloom.core.config import Price
from turnloom.core.endpoint.structured import Spend
from turnloom.core.models import Role, Session, Usage


@dataclass
class RoleCost:
    """What one role spent in a session."""

    usage: Usage = field(default_factory=Usage)
    latency_ms: float = 0.0
    messages: int = 0
    cost: float = 0.0


def price_of(usage: Usage, price: Price | None) -> float:
    """Dollars for `usage` at `price` (per million tokens); 0 without a price."""
    if price is None:
        return 0.0
    return (usage.prompt_tokens * price.prompt + usage.completion_tokens * price.completion) / 1_000_000


def role_costs(
    session: Session, prices: dict[str, Price] | None = None, tool_spend: Spend | None = None
) -> dict[str, RoleCost]:
    """Role -> usage, latency, message count and cost.

    Args:
        session: the session.
        prices: model name -> price (the config's `[prices]`).
        tool_spend: the LLM tool simulator's ledger, if tools were simulated by a model.
    """
    prices = prices or {}
    out: dict[str, RoleCost] = {}

    def add(role: str, usage: Usage, model: str | None, latency: float = 0.0, count: int = 1) -> None:
        entry = out.setdefault(role, RoleCost())
        entry.usage = entry.usage + usage
        entry.latency_ms = round(entry.latency_ms + latency, 3)
        entry.messages += count
        entry.cost += price_of(usage, prices.get(model or ""))

    for message in session.messages:
        meta = message.meta
        if meta.usage is None or message.role not in (Role.USER, Role.ASSISTANT):
            continue
        split = meta.usage_by_role
        if message.role is Role.USER and split and {"user", "task"} <= split.keys():
            add("user", split["user"], meta.model, meta.latency_ms or 0.0)
            add("task", split["task"], meta.model, 0.0, count=0)
        else:
            add(str(message.role), meta.usage, meta.model, meta.latency_ms or 0.0)
    judge = session.verdict.judge if session.verdict is not None else None
    if judge is not None and judge.requests:
        add("judge", judge.usage, judge.model, 0.0, judge.requests)
    if tool_spend is not None and tool_spend.requests:
        add("tool", tool_spend.usage, tool_spend.model, tool_spend.latency_ms, tool_spend.requests)
    return out
