"""``r``: choose which Git remote the right pane shows."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.format import shown


class _RemoteList(OptionList):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class RemotePicker(ModalScreen[str | None]):
    """A list of the repository's Git remotes; enter picks, escape keeps the current one."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    RemotePicker { align: center middle; }
    RemotePicker > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    RemotePicker OptionList { height: auto; max-height: 16; }
    """

    def __init__(self, remotes: list[tuple[str, str]], current: str | None) -> None:
        super().__init__()
        self.remotes = remotes
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Show experiments of which Git remote?", style="bold"))
            width = max((len(shown(name)) for name, _ in self.remotes), default=0)
            options = [
                Option(
                    Text.assemble((shown(name).ljust(width), "bold"), "  ", (shown(url), "dim")),
                    id=name,
                )
                for name, url in self.remotes
            ]
            yield _RemoteList(*options)

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        names = [name for name, _ in self.remotes]
        if self.current in names:
            option_list.highlighted = names.index(self.current)
        option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
