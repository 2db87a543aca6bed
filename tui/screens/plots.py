"""``t``: the DVC plots of the highlighted experiment (its baseline dimmed beside it), or of
every marked one overlaid, on the whole screen; ``]`` and ``[`` step through them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer

from tui.widgets.plots_panel import PlotsPanel, Wanted


class PlotsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "Back"),
        Binding("right_square_bracket,n", "step(1)", "Next plot"),
        Binding("left_square_bracket,N", "step(-1)", "Previous plot"),
    ]
    DEFAULT_CSS = """
    PlotsScreen { background: $surface; }
    """

    def __init__(self, path: Path, wanted: Sequence[Wanted]) -> None:
        super().__init__()
        self.panel = PlotsPanel(path, wanted)

    @property
    def wanted(self) -> list[Wanted]:
        return self.panel.wanted

    @property
    def note(self) -> str:
        return self.panel.note

    def compose(self) -> ComposeResult:
        yield self.panel
        yield Footer()

    def action_step(self, delta: int) -> None:
        self.panel.step(delta)
