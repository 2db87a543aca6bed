"""DVC plots drawn as text, without Textual: the app's chart widget and ``exptui plots``
on a terminal draw the same figures (plotext: braille-dot lines with axes, ticks, labels
and a legend in 256 colours), and confusion templates as count matrices (rich tables).
Points are DVC's values (CSV cells are text): each becomes a number or is left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from core.project.plots import PlotData, as_number
from tui.format import shown

# 256-colour indexes that stay apart on dark and light backgrounds; the baseline is grey.
COLOURS = (39, 208, 76, 170, 220, 45, 203, 141, 118, 214)
BASELINE = 244
SCATTER = ("scatter",)
MARKERS = ("braille", "•", "+", "x")


@dataclass(frozen=True)
class Curve:
    """One experiment's version of a plot."""

    label: str
    plot: PlotData
    baseline: bool = False  # drawn dimmed, for comparison


def draw_curves(plt: Any, curves: Sequence[Curve]) -> None:
    """Draw ``curves`` (one plot id) on a plotext figure: title, axis labels, one colour
    per experiment, its series by marker, the baseline grey and drawn first."""
    plt.clear_figure()
    first = curves[0].plot if curves else None
    if first is None:
        return
    title = first.props.get("title") or first.id
    plt.title(shown(str(title)))
    plt.xlabel(shown(first.x_label))
    plt.ylabel(shown(first.y_label))
    scatter = first.props.get("template") in SCATTER
    colour = iter(COLOURS * 10)
    # The baseline first, so every experiment's curve is drawn over it. One colour
    # per experiment; its series (loss, accuracy) differ by marker.
    for curve in sorted(curves, key=lambda c: not c.baseline):
        several = len(curve.plot.series) > 1
        tint = BASELINE if curve.baseline else next(colour)
        for series, marker in zip(curve.plot.series, MARKERS * 10, strict=False):
            xs, ys = numeric(series.points)
            if not xs:
                continue
            label = f"{curve.label} {series.y}" if several else curve.label
            draw = plt.scatter if scatter else plt.plot
            draw(xs, ys, label=shown(label), color=tint, marker=marker)


def numeric(points: Sequence[tuple[object, object]]) -> tuple[list[float], list[float]]:
    """The points whose x and y both read as finite numbers."""
    xs: list[float] = []
    ys: list[float] = []
    for x, y in points:
        a, b = as_number(x), as_number(y)
        if a is not None and b is not None:
            xs.append(a)
            ys.append(b)
    return xs, ys


CONFUSION = ("confusion", "confusion_normalized")


def is_confusion(curves: Sequence[Curve]) -> bool:
    return bool(curves) and curves[0].plot.props.get("template") in CONFUSION


def confusion(curves: Sequence[Curve]) -> RenderableType:
    """DVC's confusion templates as text: per experiment, a matrix of how often each
    actual class (x) was predicted as each class (y); ``confusion_normalized`` as
    fractions of each actual class."""
    normalized = curves[0].plot.props.get("template") == "confusion_normalized"
    side = Table.grid(padding=(0, 4))
    side.add_row(*(_matrix(curve, normalized) for curve in curves if curve.plot.series))
    return side


def _matrix(curve: Curve, normalized: bool) -> RenderableType:
    series = curve.plot.series[0]
    pairs = Counter((str(x), str(y)) for x, y in series.points)
    classes = sorted({c for pair in pairs for c in pair})
    table = Table(box=None, header_style="bold dim")
    table.add_column("")
    for name in classes:
        table.add_column(shown(name), justify="right")
    for actual in classes:
        total = sum(pairs[(actual, p)] for p in classes) or 1
        cells = [
            f"{pairs[(actual, p)] / total:.2f}" if normalized else str(pairs[(actual, p)])
            for p in classes
        ]
        table.add_row(Text(shown(actual), style="bold dim"), *cells)
    axes = Text(f"{shown(series.x)} ↓  {shown(series.y)} →", style="dim")
    style = "dim" if curve.baseline else "bold"
    return Group(Text(shown(curve.label), style=style, no_wrap=True), axes, table)
