"""``c`` with two experiments marked: their params and metrics side by side, only what
differs, as ``dvc exp diff`` shows them."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding

from tui.format import shown
from tui.keys import live_key
from tui.screens.plots import PlotsScreen, Wanted
from tui.screens.reading import ReadingScreen
from tui.view import ExpRow, flat_metrics, flat_params
from tui.widgets.detail import compare_values


def difference(first: ExpRow, second: ExpRow, refresh_key: str = "R") -> RenderableType:
    """Metrics then params of ``first`` against ``second``; rows not loaded say so."""
    one, two = shown(first.exp.name), shown(second.exp.name)
    title = Text.assemble(
        (one, "bold"), f" {first.exp.sha[:7]}  vs  ", (two, "bold"), f" {second.exp.sha[:7]}"
    )
    if first.state is None or second.state is None:
        missing = first if first.state is None else second
        return Group(
            title,
            Text(
                f"\n{shown(missing.exp.name)}: not fetched yet ({refresh_key} refreshes and "
                "peeks at the remote)",
                style="italic dim",
            ),
        )
    headers = (one[:20], two[:20])
    a, b = first.state, second.state
    return Group(
        title,
        compare_values("metrics", flat_metrics(a), flat_metrics(b), headers, only_changed=True),
        compare_values("params", flat_params(a), flat_params(b), headers, only_changed=True),
    )


class CompareScreen(ReadingScreen):
    """Two experiments' differences on the whole screen; ``t`` their curves overlaid."""

    BINDINGS = [Binding("t", "plots", "Plots")]

    def __init__(self, first: ExpRow, second: ExpRow, path: Path | None = None) -> None:
        super().__init__()
        self.first, self.second = first, second
        self.path = path  # the project, for the plots

    def action_plots(self) -> None:
        rows = [row for row in (self.first, self.second) if row.info is not None]
        if self.path is not None and rows:
            self.app.push_screen(
                PlotsScreen(self.path, [Wanted(row.exp.name, row.exp.sha) for row in rows])
            )

    def body(self) -> RenderableType:
        return difference(self.first, self.second, live_key(self, "refresh", "R"))
