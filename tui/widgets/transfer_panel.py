"""The transfer panel: one aggregate bytes bar and one line of counts, rate and ETA,
redrawn from the progress board a few times a second, hidden when idle."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from core.progress import Snapshot
from tui.format import format_size
from tui.keys import live_key


class TransferPanel(Vertical):
    DEFAULT_CSS = """
    TransferPanel { height: 2; display: none; background: $panel; padding: 0 1; }
    TransferPanel.active { display: block; }
    TransferPanel ProgressBar { width: 100%; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="transfer-line")
        yield ProgressBar(total=None, show_eta=False, id="transfer-bar")

    def show(self, operation: str, snap: Snapshot) -> None:
        self.add_class("active")
        eta = f" · ETA {int(snap.eta)}s" if snap.eta is not None else ""
        line = Text.assemble(
            (f"{operation} ", "bold"),
            f"{snap.phase} · {snap.files_done}/{snap.files_total} files · ",
            f"{format_size(snap.bytes_done)}/{format_size(snap.bytes_total)} · ",
            f"{format_size(int(snap.rate))}/s{eta} · {live_key(self, 'cancel', 'z')} cancels",
        )
        self.query_one("#transfer-line", Static).update(line)
        bar = self.query_one(ProgressBar)
        bar.update(total=snap.bytes_total or None, progress=snap.bytes_done)

    def hide(self) -> None:
        self.remove_class("active")
