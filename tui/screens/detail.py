"""``enter`` on an experiment: its details on the whole screen, readable at 80x24."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import RenderableType
from textual.binding import Binding

from tui.keys import live_key
from tui.screens.plots import PlotsScreen, beside_baseline
from tui.screens.reading import ReadingScreen
from tui.view import ExpRow, GroupView
from tui.widgets.detail import describe


class DetailScreen(ReadingScreen):
    """Full-screen details of one experiment against its baseline; ``t`` its plots."""

    BINDINGS = [Binding("t", "plots", "Plots")]

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

    def action_plots(self) -> None:
        if self.path is None or self.row.info is None:
            return
        self.app.push_screen(PlotsScreen(self.path, beside_baseline(self.row, self.group)))

    def body(self) -> RenderableType:
        return describe(self.row, self.group, self.clock(), live_key(self, "refresh", "R"))
