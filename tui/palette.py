"""ctrl+p: every app and list action by name, for users who do not remember the key."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import ExptuiApp


class ActionCommands(Provider):
    """Commands from the bindings, so the palette, help and keymap never disagree."""

    def _commands(self) -> list[tuple[str, Callable[[], object]]]:
        from tui.widgets.exp_tree import ExpTree

        app: ExptuiApp = self.app  # type: ignore[assignment]
        main = app.main
        found = []
        for binding in main.BINDINGS:  # the app's own are repeated there
            if isinstance(binding, Binding) and binding.id and binding.id != "quit":
                found.append((binding.description, _runner(main.run_action, binding.action)))
        for binding in ExpTree.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                tree_action = _runner(lambda a: main.focused_tree.run_action(a), binding.action)
                found.append((f"{binding.description} (list)", tree_action))
        return found

    async def discover(self) -> Hits:
        for title, callback in self._commands():
            yield DiscoveryHit(title, callback)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback)


def _runner(run: Callable[[str], object], action: str) -> Callable[[], object]:
    return lambda: run(action)
