"""``enter`` on an experiment: its details on the whole screen, readable at 80x24."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.view import ExpRow, GroupView
from tui.widgets.detail import describe


class DetailScreen(ModalScreen[None]):
    """Full-screen details; escape, enter or q returns to the tree."""

    BINDINGS = [
        Binding("escape,enter,q", "dismiss", "Back"),
        Binding("j,down", "scroll('down')", "Down", show=False),
        Binding("k,up", "scroll('up')", "Up", show=False),
    ]
    DEFAULT_CSS = """
    DetailScreen > VerticalScroll { background: $surface; padding: 0 1; }
    """

    def __init__(
        self, row: ExpRow, group: GroupView | None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self.row, self.group, self.clock = row, group, clock

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-scroll"):
            yield Static(describe(self.row, self.group, self.clock()))
        yield Footer()

    def action_scroll(self, direction: str) -> None:
        scroller = self.query_one("#detail-scroll", VerticalScroll)
        if direction == "down":
            scroller.scroll_down()
        else:
            scroller.scroll_up()
