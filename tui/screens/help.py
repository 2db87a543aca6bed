"""``?``: every key the app answers to, read from the live bindings so it never lies."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.badges import BADGES, DATA_BADGES, DATA_PENDING, UNKNOWN
from tui.widgets.exp_tree import MARKED


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; any of escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 70; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for title, bindings in self.sections:
            table.add_row(Text(title, style="bold underline"), "")
            for binding in bindings:
                keys = ", ".join(_key_name(k) for k in binding.key.split(","))
                what = Text(binding.description or binding.action)
                if binding.id:  # the name to use in the settings file's keymap
                    what.append(f"  {binding.id}", style="dim")
                table.add_row(keys, what)
        table.add_row("ctrl+p", Text("command palette: any action above by name"))
        table.add_row(Text("Sync badges", style="bold underline"), "")
        for glyph, style, meaning in [*BADGES.values(), UNKNOWN]:
            table.add_row(Text(glyph, style=style), Text(meaning))
        table.add_row(Text("Data badges", style="bold underline"), "")
        for glyph, style, meaning in [*DATA_BADGES.values(), DATA_PENDING]:
            if glyph.strip():
                table.add_row(Text(glyph, style=style), Text(meaning))
        table.add_row(Text("Marks", style="bold underline"), "")
        table.add_row(Text(MARKED.strip(), style="bold"), Text("marked for the next batch"))
        with VerticalScroll():
            yield Static(table)
            yield Static(
                Text(
                    "escape closes · remap keys by id in ~/.config/exptui/config.yaml (keymap:)",
                    style="dim",
                )
            )


def _key_name(key: str) -> str:
    return {"question_mark": "?", "slash": "/", "space": "space"}.get(key.strip(), key.strip())
