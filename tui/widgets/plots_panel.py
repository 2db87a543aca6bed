"""The plots of some commits as a panel: the plots screen (``t``), the details and the
comparison all show it. Reading the plots' files is I/O (the commit's tree, the cache),
so it runs in a worker; the head says "loading" until then and lists each plot's
problems (a file neither in Git nor in the cache, a missing column), its images (listed,
not drawn) and, for a colleague's experiment, the fetching from its DVC remote. One
chart at a time, two side by side from :data:`SIDE_BY_SIDE_FROM` columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from core.data.values import fetch_plot_data
from core.errors import ExptuiError
from core.project.plots import PlotData
from core.project.repo import Repository
from tui.format import format_size, shown
from tui.plot_draw import Curve, confusion, is_confusion
from tui.view import ExpRow, GroupView

SIDE_BY_SIDE_FROM = 160


@dataclass(frozen=True)
class Wanted:
    """A commit whose plots to draw, and how its curves are labelled."""

    label: str
    sha: str
    baseline: bool = False


def beside_baseline(row: ExpRow, group: GroupView | None) -> list[Wanted]:
    """One experiment's plots, its baseline's dimmed beside them when it is here."""
    wanted = [Wanted(row.exp.name, row.exp.sha)]
    if group is not None and group.info is not None:
        wanted.append(Wanted(f"{group.group.label} (baseline)", group.key, True))
    return wanted


class PlotsPanel(Vertical):
    """The charts of some commits' plots, loaded in a worker: a head line (which plot,
    problems, images, fetching) over one chart, or two side by side when wide."""

    DEFAULT_CSS = """
    PlotsPanel { height: 1fr; }
    PlotsPanel #plots-head { height: auto; max-height: 8; padding: 0 1; }
    PlotsPanel #charts { height: 1fr; }
    PlotsPanel .confusion { width: 1fr; padding: 1 2; }
    """

    def __init__(self, path: Path, wanted: Sequence[Wanted], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.path = path
        self.wanted = list(wanted)
        self.ids: list[str] = []
        self.curves: dict[str, list[Curve]] = {}
        self.index = 0
        self._per_page = 0
        self.note = ""  # fetching, or why something could not be fetched

    def compose(self) -> ComposeResult:
        yield Static(Text("loading plots…", style="italic dim"), id="plots-head")
        yield Horizontal(id="charts")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False, group="plots", description="plots")
    def load(self) -> None:
        """Local plots first; then, if the cache lacked some files (a colleague's
        experiment not pulled), those fetched from the DVC remote and the charts again."""
        try:
            with Repository.open(self.path) as repo:
                wanted = [w for w in self.wanted if repo.has_commit(w.sha)]
                found = [(w, repo.plots(w.sha)) for w in wanted]
                self.app.call_from_thread(self._loaded, [(w, p.plots) for w, p in found])
                lacking = [w.sha for w, p in found if p.uncached]
                if not lacking:
                    return
                self.app.call_from_thread(self._note, "fetching plot data from the DVC remote…")
                fetched = fetch_plot_data(repo, lacking)
                again = [(w, repo.plots(w.sha).plots) for w in wanted]
        except ExptuiError as exc:
            self.app.call_from_thread(self._note, exc.message)
            return
        self.app.call_from_thread(self._loaded, again)
        if fetched.summary:
            self.app.call_from_thread(self._note, fetched.summary)

    def _note(self, text: str) -> None:
        self.note = text
        self._show()

    def _loaded(self, found: list[tuple[Wanted, list[PlotData]]]) -> None:
        self.curves, self.note = {}, ""
        for wanted, plots in found:
            for plot in plots:
                curve = Curve(wanted.label, plot, wanted.baseline)
                self.curves.setdefault(plot.id, []).append(curve)
        self.ids = list(self.curves)
        self.index = min(self.index, max(0, len(self.ids) - 1))
        self._show()

    def on_resize(self) -> None:
        if self.ids and self._page_size() != self._per_page:
            self._show()

    def _page_size(self) -> int:
        return 2 if self.size.width >= SIDE_BY_SIDE_FROM and len(self.ids) > 1 else 1

    def step(self, delta: int) -> None:
        if self.ids:
            self.index = (self.index + delta * self._per_page) % len(self.ids)
            self._show()

    def _show(self) -> None:
        self._per_page = self._page_size()
        if not self.ids:
            self.query_one("#plots-head", Static).update(self._head([]))
            return
        shown_ids = [self.ids[(self.index + i) % len(self.ids)] for i in range(self._per_page)]
        shown_ids = list(dict.fromkeys(shown_ids))
        self.query_one("#plots-head", Static).update(self._head(shown_ids))
        charts = self.query_one("#charts", Horizontal)
        charts.remove_children()
        charts.mount_all(self._chart(i) for i in shown_ids if _drawable(self.curves[i]))

    def _chart(self, plot_id: str) -> Widget:
        curves = self.curves[plot_id]
        if is_confusion(curves):
            return Static(confusion(curves), classes="confusion")
        from tui.widgets.charts import PlotChart  # plotext: loaded with the first chart

        return PlotChart(curves)

    def _head(self, ids: list[str]) -> Text:
        note = Text(f"\n{shown(self.note)}", style="italic yellow") if self.note else Text()
        if not self.ids:
            names = ", ".join(shown(w.label) for w in self.wanted)
            return Text(f"no plots in {names}", style="italic dim") + note
        head = Text()
        head.append(f"plot {self.index + 1}/{len(self.ids)}  ", style="bold")
        head.append(" · ".join(shown(i) for i in ids))
        head.append("   ] next  [ previous", style="dim")
        for plot_id in ids:
            for curve in self.curves[plot_id]:
                for problem in curve.plot.problems:
                    head.append(f"\n{shown(curve.label)}: {shown(problem)}", style="yellow")
                for path, size in curve.plot.images.items():
                    head.append(
                        f"\n{shown(curve.label)}: image {shown(path)} "
                        f"({format_size(size)}, not drawn)",
                        style="dim",
                    )
        return head + note


def _drawable(curves: list[Curve]) -> bool:
    return any(curve.plot.series for curve in curves)
