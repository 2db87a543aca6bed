"""A yes/no question: y or enter says yes, n or escape says no."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import screen_keys


class Confirm(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "dismiss(True)", "Yes", priority=True),
        Binding("n,escape", "dismiss(False)", "No"),
    ]
    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical {
        width: 80; max-width: 100%; height: auto;
        border: round $warning; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, question: Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question)
            hint = f"{screen_keys(self, 'dismiss(True)')}: yes   "
            hint += f"{screen_keys(self, 'dismiss(False)')}: no"
            yield Static(Text(hint, style="dim"))


class ConfirmRisky(Confirm):
    """The same question where yes loses something for good: only y says yes; enter,
    like n and escape, says no."""

    BINDINGS = [
        Binding("y", "dismiss(True)", "Yes", priority=True),
        Binding("n,escape,enter", "dismiss(False)", "No", priority=True),
    ]
    DEFAULT_CSS = """
    ConfirmRisky { align: center middle; }
    ConfirmRisky > Vertical {
        width: 80; max-width: 100%; height: auto;
        border: round $error; background: $surface; padding: 0 1;
    }
    """
