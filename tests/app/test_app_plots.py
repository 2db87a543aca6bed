"""t: DVC plots drawn in the app, for local experiments and for a colleague's not pulled
yet (its plot files fetched from the DVC remote in the background)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.demo_train import train
from core.project.repo import Repository
from tests.helpers import rows, settle, wait_for
from tui.app import ExptuiApp
from tui.screens.plots import PlotsScreen
from tui.widgets.charts import PlotChart
from tui.widgets.plots_panel import PlotsPanel


def history(sha: str, project: Path) -> list[tuple[str, str]]:
    """(step, loss) as the demo's training loop logged them for commit ``sha``."""
    with Repository.open(project) as repo:
        params = repo.project_state(sha).params["params.yaml"]
    lines = train(params)["eval/history.tsv"].decode().splitlines()[1:]
    return [(line.split("\t")[0], line.split("\t")[2]) for line in lines]


async def plots_of(app: ExptuiApp, pilot: Any, name: str) -> PlotsScreen:
    """t on the remote pane's row ``name``: its plots screen."""
    tree = app.main.remote_tree
    app.main.action_focus_remote()
    await pilot.pause()
    leaves = [leaf for group in tree.root.children for leaf in group.children]
    tree.move_cursor(next(n for n in leaves if n.data.exp.name == name))  # type: ignore[union-attr]
    await pilot.pause()
    await pilot.press("t")
    assert isinstance(app.screen, PlotsScreen)
    return app.screen


async def test_a_remote_only_experiments_curves_are_fetched_and_drawn(
    fresh_demo: Path,
) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        tree = app.main.remote_tree
        await wait_for(pilot, lambda: "alice-drop" in rows(tree))
        assert rows(tree)["alice-drop"].data.local.value == "missing"  # type: ignore[union-attr]
        screen = await plots_of(app, pilot, "alice-drop")
        await wait_for(pilot, lambda: bool(screen.query(PlotChart)) and not screen.note)
        (chart,) = screen.query(PlotChart)
        curves = {c.label: c for c in chart.curves}
        assert set(curves) == {"alice-drop", "main (baseline)"}
        assert curves["main (baseline)"].baseline
        loss = next(s for s in curves["alice-drop"].plot.series if s.y == "loss")
        sha = rows(tree)["alice-drop"].exp.sha
        assert list(loss.points) == history(sha, fresh_demo)
        await pilot.press("escape")
        assert not isinstance(app.screen, PlotsScreen)


async def test_marked_experiments_are_overlaid_one_colour_each(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(170, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "space", "space", "space", "t")
        screen = app.screen
        assert isinstance(screen, PlotsScreen)
        await wait_for(pilot, lambda: bool(screen.query(PlotChart)))
        (chart,) = screen.query(PlotChart)
        labels = [c.label for c in chart.curves]
        assert labels == ["big-batch", "brisk-lynx", "long-run", "main (baseline)"]
        assert [c.baseline for c in chart.curves] == [False, False, False, True]
        assert all(len(c.plot.series) == 2 for c in chart.curves)  # accuracy and loss


async def test_an_unreachable_dvc_remote_is_said_plainly_on_the_plots_screen(
    fresh_demo: Path,
) -> None:
    """alice-drop's history lives only on the DVC remote: with it unreachable (a port
    nobody listens on), the screen says which remote could not be read, and why,
    instead of an empty chart."""
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        tree = app.main.remote_tree
        await wait_for(pilot, lambda: "alice-drop" in rows(tree))
        (fresh_demo / ".dvc" / "config.local").write_text(
            "['remote \"storage\"']\n    url = http://127.0.0.1:9/nowhere\n"
        )
        screen = await plots_of(app, pilot, "alice-drop")
        await wait_for(pilot, lambda: "not fetched from 'storage'" in screen.note)
        head = str(screen.query_one("#plots-head").render())
        assert "plot data not fetched from 'storage'" in head
        assert "alice-drop: eval/history.tsv: not in Git and not in the local cache" in head


async def test_a_trend_column_shows_a_step_metrics_sparkline_and_last_value(
    fresh_demo: Path,
) -> None:
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(130, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("T")  # reads the plots, then shows the first step metric
        await wait_for(pilot, lambda: app.main.trend_by is not None)
        assert app.main.trend_by == "accuracy"
        await pilot.press("T")
        assert app.main.trend_by == "loss"
        tree = app.main.local_tree
        row = rows(tree)["long-run"]
        label = str(tree.row_label(row))
        last = history(row.exp.sha, fresh_demo)[-1][1]
        assert label.rstrip().endswith(last) and any(bar in label for bar in "▁▂▃▄▅▆▇█")
        assert "loss trend" in str(tree.header())
        await pilot.press("T")  # and off again
        assert app.main.trend_by is None and "trend" not in str(tree.header())


async def test_the_details_screen_opens_the_experiments_plots(fresh_demo: Path) -> None:
    from tui.screens.detail import DetailScreen

    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "enter")
        details = app.screen
        assert isinstance(details, DetailScreen)
        (panel,) = details.query(PlotsPanel)  # the plots under the values
        await wait_for(pilot, lambda: bool(panel.query(PlotChart)))
        assert [w.baseline for w in panel.wanted] == [False, True]
        await pilot.press("t")  # and on a screen of their own
        screen = app.screen
        assert isinstance(screen, PlotsScreen)
        assert [w.baseline for w in screen.wanted] == [False, True]
        await wait_for(pilot, lambda: bool(screen.query(PlotChart)))
        await pilot.press("escape")
        assert isinstance(app.screen, DetailScreen)
