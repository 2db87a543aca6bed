"""``enter`` on an experiment: its details on the whole screen, readable at 80x24, with
its plots below (its baseline's dimmed beside them)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import RenderableType
from textual.binding import Binding
from textual.widget import Widget

from tui.keys import live_key
from tui.screens.plots import PlotsScreen
from tui.screens.reading import ReadingScreen
from tui.view import ExpRow, GroupView
from tui.widgets.detail import describe
from tui.widgets.plots_panel import PlotsPanel, beside_baseline


class DetailScreen(ReadingScreen):
    """Full-screen details of one experiment against its baseline, its plots below
    (``]``/``[`` step through them; ``t`` shows them on a screen of their own)."""

    BINDINGS = [
        Binding("t", "plots", "Plots"),
        Binding("right_square_bracket", "step(1)", "Next plot", show=False),
        Binding("left_square_bracket", "step(-1)", "Previous plot", show=False),
    ]

    def __init__(
        self,
        row: ExpRow,
        group: GroupView | None,
        clock: Callable[[], float] = time.time,
        path: Path | None = None,
    ) -> None:
        super().__init__()
        self.row, self.group, self.clock = row, group, clock
        self.path = path  # the project, for the plots

    def extra(self) -> list[Widget]:
        """The experiment's plots under its values, its baseline's dimmed beside them."""
        if self.path is None or not self.row.present:
            return []
        return [PlotsPanel(self.path, beside_baseline(self.row, self.group))]

    def action_step(self, delta: int) -> None:
        for panel in self.query(PlotsPanel):
            panel.step(delta)

    def action_plots(self) -> None:
        if self.path is None or not self.row.present:
            return
        self.app.push_screen(PlotsScreen(self.path, beside_baseline(self.row, self.group)))

    def body(self) -> RenderableType:
        return describe(self.row, self.group, self.clock(), live_key(self, "refresh", "R"))
