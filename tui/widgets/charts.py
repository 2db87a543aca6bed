"""One DVC plot as a chart widget: plotext through Textualize's ``textual-plotext``,
resized with the terminal; the figure itself is :func:`tui.plot_draw.draw_curves`'s."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

from tui.plot_draw import Curve, draw_curves


class PlotChart(PlotextPlot):
    """The curves of one plot id across experiments."""

    DEFAULT_CSS = """
    PlotChart { height: 1fr; min-height: 10; }
    """

    def __init__(self, curves: Sequence[Curve], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.curves = list(curves)

    def on_mount(self) -> None:
        self.draw()

    def draw(self) -> None:
        draw_curves(self.plt, self.curves)
        self.refresh()
