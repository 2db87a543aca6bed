"""``b``: the name of the Git branch to create at an experiment, prefilled as DVC does."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.format import shown


class BranchName(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    BranchName { align: center middle; }
    BranchName > Vertical {
        width: 70; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, experiment: str) -> None:
        super().__init__()
        self.experiment = experiment

    def compose(self) -> ComposeResult:
        with Vertical():
            name = shown(self.experiment)
            yield Static(Text.assemble("New Git branch at experiment ", (name, "bold")))
            yield Input(value=f"{self.experiment}-branch", id="branch-name")
            yield Static(
                Text("enter creates it (nothing is checked out); escape cancels", style="dim")
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
