"""``enter`` on an experiment: its details on the whole screen, readable at 80x24."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import RenderableType

from tui.keys import live_key
from tui.screens.reading import ReadingScreen
from tui.view import ExpRow, GroupView
from tui.widgets.detail import describe


class DetailScreen(ReadingScreen):
    """Full-screen details of one experiment against its baseline."""

    def __init__(
        self, row: ExpRow, group: GroupView | None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self.row, self.group, self.clock = row, group, clock

    def body(self) -> RenderableType:
        return describe(self.row, self.group, self.clock(), live_key(self, "refresh", "R"))
