"""The ``/`` filter box: one line at the bottom, filtering as the user types (the app
parses and applies); enter keeps the filter, escape clears it."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from tui.widgets.exp_tree import ExpTree

PLACEHOLDER = "filter: name words, or acc>0.9 lr=0.01 name~drop (enter keeps, esc clears)"


class FilterInput(Input):
    BINDINGS = [Binding("escape", "clear_filter", "Clear filter", show=False)]
    DEFAULT_CSS = """
    FilterInput { display: none; dock: bottom; height: 3; border: round $accent; }
    """

    class Done(Message):
        """Enter (keep the filter) or escape (``cleared``): back to the pane."""

        def __init__(self, box: FilterInput, cleared: bool) -> None:
            super().__init__()
            self.box, self.cleared = box, cleared

        @property
        def control(self) -> FilterInput:
            return self.box

    def __init__(self, **kwargs: object) -> None:
        super().__init__(placeholder=PLACEHOLDER, **kwargs)  # type: ignore[arg-type]
        self.returning_to: ExpTree | None = None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Done(self, cleared=False))

    def action_clear_filter(self) -> None:
        self.value = ""
        self.post_message(self.Done(self, cleared=True))
