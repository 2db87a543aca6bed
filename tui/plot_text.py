"""``exptui plots``: the points of DVC plots per revision, as JSON, CSV or text.

The JSON is exptui's own documented shape (README, "Plots"): one record per revision,
``{"name", "rev", "plots": [{"id", "title", "x_label", "y_label", "series": [{"file",
"x", "y", "points": [[x, y], ...]}], "images": {path: size}, "problems": [...]}]}``.
Values are kept as DVC keeps them (CSV and TSV cells are text). On a terminal each plot
is drawn as the app draws it; into a pipe each series is a line with its last value and
a sparkline of its trend.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.project.plots import PlotData, as_number
from tui.format import format_value, shown

BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 40


@dataclass(frozen=True)
class Revision:
    name: str  # the experiment's name, or the revision as the user gave it
    rev: str  # its commit SHA
    plots: list[PlotData]


def plots_json(revisions: Sequence[Revision]) -> list[dict[str, Any]]:
    return [
        {
            "name": revision.name,
            "rev": revision.rev,
            "plots": [
                {
                    "id": plot.id,
                    "title": plot.props.get("title"),
                    "x_label": plot.x_label,
                    "y_label": plot.y_label,
                    "series": [
                        {"file": s.file, "x": s.x, "y": s.y, "points": [list(p) for p in s.points]}
                        for s in plot.series
                    ],
                    "images": plot.images,
                    "problems": plot.problems,
                }
                for plot in revision.plots
            ],
        }
        for revision in revisions
    ]


def plots_csv(revisions: Sequence[Revision]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "rev", "plot", "file", "x_field", "y_field", "x", "y"])
    for revision in revisions:
        for plot in revision.plots:
            for s in plot.series:
                for x, y in s.points:
                    row = [revision.name, revision.rev, plot.id, s.file, s.x, s.y, x, y]
                    writer.writerow([shown(str(v)) for v in row])
    return out.getvalue()


def plots_charts(revisions: Sequence[Revision], width: int, height: int = 20) -> list[str]:
    """Per plot, the app's chart as terminal text (ANSI colours): every revision's
    curves overlaid, or its confusion matrices side by side; problems below."""
    import io

    import plotext
    from rich.console import Console

    from tui.plot_draw import Curve, confusion, draw_curves, is_confusion

    out: list[str] = []
    for plot_id in dict.fromkeys(p.id for r in revisions for p in r.plots):
        curves = [Curve(r.name, p) for r in revisions for p in r.plots if p.id == plot_id]
        if is_confusion(curves):
            buffer = io.StringIO()
            Console(file=buffer, width=width, force_terminal=True).print(confusion(curves))
            out += [shown(plot_id), buffer.getvalue().rstrip("\n")]
        elif any(c.plot.series for c in curves):
            draw_curves(plotext, curves)
            plotext.theme("clear")
            plotext.plotsize(width, height)
            out.append(plotext.build())
        else:
            out.append(shown(plot_id))
        out += [f"  {shown(c.label)}: {shown(why)}" for c in curves for why in c.plot.problems]
        out.append("")
    return out


def plots_text(revisions: Sequence[Revision]) -> list[str]:
    """Per plot, one line per revision and series: last value and its trend."""
    lines: list[str] = []
    ids = list(dict.fromkeys(p.id for r in revisions for p in r.plots))
    width = max((len(shown(r.name)) for r in revisions), default=4)
    for plot_id in ids:
        lines.append(shown(plot_id))
        for revision in revisions:
            for plot in (p for p in revision.plots if p.id == plot_id):
                lines += _plot_lines(revision, plot, width)
        lines.append("")
    return lines


def _plot_lines(revision: Revision, plot: PlotData, width: int) -> list[str]:
    name = shown(revision.name).ljust(width)
    lines = []
    for s in plot.series:
        values = [as_number(y) for _, y in s.points]
        numbers = [v for v in values if v is not None]
        last = format_value(numbers[-1]) if numbers else "-"
        label = shown(s.y if len(plot.series) == 1 else f"{s.y} ({s.file})")
        lines.append(f"  {name}  {label}: {last:>8}  {sparkline(numbers)}  {len(s.points)} points")
    lines += [f"  {name}  image {shown(path)}" for path in plot.images]
    lines += [f"  {name}  {shown(problem)}" for problem in plot.problems]
    return lines


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH) -> str:
    """``values`` squeezed into ``width`` bars (each the mean of its share)."""
    if not values:
        return ""
    buckets = min(width, len(values))
    means = []
    for index in range(buckets):
        share = values[index * len(values) // buckets : (index + 1) * len(values) // buckets]
        means.append(sum(share) / len(share))
    low, high = min(means), max(means)
    if high == low:
        return BARS[len(BARS) // 2] * buckets
    return "".join(BARS[round((m - low) / (high - low) * (len(BARS) - 1))] for m in means)
