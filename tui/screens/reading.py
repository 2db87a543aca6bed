"""A full screen of text to read (details, a comparison): scrolls with j/k, readable at
80x24; escape, enter or q returns to the tree."""

from __future__ import annotations

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Footer, Static


class ReadingScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,enter,q", "dismiss", "Back"),
        Binding("j,down", "scroll('down')", "Down", show=False),
        Binding("k,up", "scroll('up')", "Up", show=False),
    ]
    DEFAULT_CSS = """
    ReadingScreen > VerticalScroll {
        background: $surface; padding: 0 1; scrollbar-size-vertical: 1;
    }
    ReadingScreen PlotsPanel { height: 24; margin-top: 1; }
    """

    def body(self) -> RenderableType:
        raise NotImplementedError

    def extra(self) -> list[Widget]:
        """Widgets under the text (a details screen's plots), scrolled with it."""
        return []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="reading-scroll"):
            yield Static(self.body())
            yield from self.extra()
        yield Footer()

    def action_scroll(self, direction: str) -> None:
        scroller = self.query_one("#reading-scroll", VerticalScroll)
        if direction == "down":
            scroller.scroll_down()
        else:
            scroller.scroll_up()
