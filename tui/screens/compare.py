"""``c`` with two experiments marked: their params and metrics side by side, only what
differs, as ``dvc exp diff`` shows them."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget

from tui.format import shown
from tui.keys import live_key
from tui.screens.plots import PlotsScreen
from tui.screens.reading import ReadingScreen
from tui.view import ExpRow, flat_metrics, flat_params
from tui.widgets.detail import compare_values
from tui.widgets.plots_panel import PlotsPanel, Wanted


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
    """Two experiments' differences on the whole screen, their curves overlaid below
    (``]``/``[`` step through the plots, ``t`` shows them on a screen of their own)."""

    BINDINGS = [
        Binding("t", "plots", "Plots"),
        Binding("right_square_bracket", "step(1)", "Next plot", show=False),
        Binding("left_square_bracket", "step(-1)", "Previous plot", show=False),
    ]

    def __init__(self, first: ExpRow, second: ExpRow, path: Path | None = None) -> None:
        super().__init__()
        self.first, self.second = first, second
        self.path = path  # the project, for the plots

    def _wanted(self) -> list[Wanted]:
        rows = [row for row in (self.first, self.second) if row.present]
        return [Wanted(row.exp.name, row.exp.sha) for row in rows] if self.path else []

    def extra(self) -> list[Widget]:
        """The two experiments' curves overlaid, under their differences."""
        wanted = self._wanted()
        return [PlotsPanel(self.path, wanted)] if self.path is not None and wanted else []

    def action_step(self, delta: int) -> None:
        for panel in self.query(PlotsPanel):
            panel.step(delta)

    def action_plots(self) -> None:
        if self.path is not None and self._wanted():
            self.app.push_screen(PlotsScreen(self.path, self._wanted()))

    def body(self) -> RenderableType:
        return difference(self.first, self.second, live_key(self, "refresh", "R"))
