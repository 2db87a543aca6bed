"""Asked when an HTTP(S) Git remote answers 401 and no credential helper knows better."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from core.redact import redact
from tui.format import shown


class CredentialScreen(ModalScreen[tuple[str, str] | None]):
    """Username and password (or token); enter moves on and submits, escape gives up."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    CredentialScreen { align: center middle; }
    CredentialScreen > Vertical {
        width: 70; max-width: 100%; height: auto;
        border: round $warning; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text.assemble(("Credentials for ", "bold"), (shown(redact(self.url)), "bold cyan"))
            )
            yield Static(Text("Tokens go in the password field. escape cancels.", style="dim"))
            yield Input(placeholder="username", id="username")
            yield Input(placeholder="password or token", password=True, id="password")

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "username":
            self.query_one("#password", Input).focus()
            return
        user = self.query_one("#username", Input).value
        self.dismiss((user, event.value) if user else None)
