"""The command palette: every action of `ACTIONS` that applies to the current screen, as "Category: Action"."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from turnloom.tui.actions import ACTIONS, ActionSpec


class ActionCommands(Provider):
    """Palette entries for the app's actions and the active screen's actions."""

    def _specs(self) -> list[tuple[ActionSpec, object]]:
        screen = self.screen
        scopes = getattr(screen, "ACTION_SCOPES", (getattr(screen, "ACTION_SCOPE", None),))
        found: list[tuple[ActionSpec, object]] = []
        for spec in ACTIONS:
            if spec.id in ("palette", "help_alt"):
                continue
            if spec.scope == "app":
                found.append((spec, self.app))
            elif spec.scope in scopes:
                found.append((spec, screen))
        return found

    async def _run(self, target: object, action: str) -> None:
        await target.run_action(action)  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for spec, target in self._specs():
            yield DiscoveryHit(spec.palette_name, partial(self._run, target, spec.action), help=spec.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec, target in self._specs():
            score = matcher.match(spec.palette_name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(spec.palette_name), partial(self._run, target, spec.action), help=spec.help
                )
