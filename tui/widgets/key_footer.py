"""The footer, with the keys that matter most kept in sight on a narrow terminal.

Textual's footer shows every binding in order and lets the rest fall off the right edge:
at 80 columns that was Details, Mark, Quit, Help, Refresh, Remote and Push, with Pull,
Apply and Remove out of sight and the palette key cut in two. Below :data:`FULL_FROM`
columns this one keeps the batch actions that work right now and the way to the rest
(``?``): while a batch runs, Cancel takes the place of the actions it disables.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

FULL_FROM = 120
ESSENTIAL = frozenset(
    {
        "toggle_mark",
        "push",
        "pull",
        "apply",
        "branch",
        "remove",
        "cancel",
        "app.help",
        "app.quit",
    }
)


class KeyFooter(Footer):
    """Every shown binding on a wide terminal; the essential ones below ``FULL_FROM``.
    Keys come from the live bindings, so a remapped key shows as remapped."""

    _composed_for: tuple[object, ...] | None = None
    _rebuild_due = False

    def compose(self) -> ComposeResult:
        narrow = self.app.size.width < FULL_FROM
        self.narrow = narrow
        self.show_command_palette = not narrow
        if self._bindings_ready:
            self._composed_for = self._shown(self.screen)
        keys = [widget for widget in super().compose() if not narrow or _essential(widget)]
        self.styles.grid_size_columns = len(keys)
        yield from keys

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Rebuild the keys once the bindings have settled, and only when what they show
        changed: Textual's footer rebuilt all 17 (mounted and styled anew) on every
        bindings signal, three times before the first screen and twice per focus move,
        whose first signal comes halfway through the move."""
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._rebuild_due:
            self._rebuild_due = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_due = False
        if self.is_attached and self._shown(self.screen) != self._composed_for:
            await self.recompose()

    def _shown(self, screen: Screen[object]) -> tuple[object, ...]:
        """What the composed keys depend on: the width class and each shown binding."""
        bindings = screen.active_bindings.values()
        return (
            self.app.size.width < FULL_FROM,
            *((b.key, b.action, b.description, on, tip) for _, b, on, tip in bindings if b.show),
        )

    def on_resize(self, event: Resize) -> None:
        if (event.size.width < FULL_FROM) != getattr(self, "narrow", None):
            self.call_after_refresh(self.recompose)


def _essential(widget: Widget) -> bool:
    if not isinstance(widget, FooterKey):
        return True
    return widget.action in ESSENTIAL and not widget.has_class("-disabled")
