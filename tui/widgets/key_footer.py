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

    def compose(self) -> ComposeResult:
        narrow = self.app.size.width < FULL_FROM
        self.narrow = narrow
        self.show_command_palette = not narrow
        keys = [widget for widget in super().compose() if not narrow or _essential(widget)]
        self.styles.grid_size_columns = len(keys)
        yield from keys

    def on_resize(self, event: Resize) -> None:
        if (event.size.width < FULL_FROM) != getattr(self, "narrow", None):
            self.call_after_refresh(self.recompose)


def _essential(widget: Widget) -> bool:
    if not isinstance(widget, FooterKey):
        return True
    return widget.action in ESSENTIAL and not widget.has_class("-disabled")
