"""Density and legibility: aligned numbers, the room under a short tree used, a footer
that keeps the batch keys at 80 columns, a force toggle that says what it does, and
errors whose hint stands apart from their cause."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import SelectionList
from textual.widgets._footer import FooterKey

from core.errors import RemoteError
from tests.app.test_app_browse import use_settings
from tests.helpers import plain, rows, settle, wait_for
from tui.app import ExptuiApp
from tui.screens.confirm_share import ConfirmShare
from tui.screens.main import error_text
from tui.widgets.detail import DetailPanel
from tui.widgets.exp_tree import ExpTree


def point_columns(tree: ExpTree) -> list[set[int]]:
    """Per metric column, the label offsets where its rows' decimal points fall."""
    found: list[set[int]] = [set() for _ in tree.columns]
    for row in rows(tree).values():
        label = str(tree.row_label(row))
        end = len(label) - sum(tree.column_width(c) + 2 for c in tree.columns)
        for index, name in enumerate(tree.columns):
            width = tree.column_width(name) + 2
            cell = label[end : end + width]
            end += width
            if "." in cell:
                found[index].add(end - width + cell.index("."))
    return found


async def test_metric_columns_line_up_on_the_decimal_point(fresh_demo: Path) -> None:
    """ci-nightly's loss showed as 0.167 under 0.1856: one precision per column now."""
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 32)) as pilot:
        await settle(app, pilot)
        tree = app.main.remote_tree
        await wait_for(pilot, lambda: all(r.state for r in rows(tree).values()))
        nightly = str(tree.row_label(rows(tree)["ci-nightly"]))
        assert "0.1670" in nightly, nightly
        columns = point_columns(tree)
        assert columns and all(len(points) == 1 for points in columns), columns


async def test_the_room_under_a_short_tree_shows_the_highlighted_experiment(
    fresh_demo: Path,
) -> None:
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        peek = app.main.query_one("#peek", DetailPanel)
        assert peek.display and peek.size.height >= 7
        await pilot.press("down", "down")
        name = app.main.local_tree.current_row.exp.name  # type: ignore[union-attr]
        text = plain(peek._body)
        assert text.split()[0] == name and "accuracy" in text and "baseline" in text
        await pilot.press("home", "left")  # the first group collapsed: more room still
        await pilot.pause()
        assert peek.display
        await pilot.resize_terminal(80, 15)  # the tree needs the rows: no summary
        await pilot.pause()
        await pilot.pause()
        assert not peek.display
        await pilot.resize_terminal(172, 34)  # the wide layout shows details beside
        await pilot.pause()
        await pilot.pause()
        assert not peek.display


def footer_keys(app: ExptuiApp) -> dict[str, str]:
    return {key.action: key.key_display for key in app.screen.query(FooterKey)}


async def test_the_footer_keeps_the_batch_keys_at_80_columns_as_remapped(
    fresh_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 80 columns Pull, Apply and Remove fell off the right edge behind Details,
    Refresh and Remote, and the palette key was cut in two."""
    use_settings(tmp_path, monkeypatch, "keymap:\n  push: U\n")
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        keys = footer_keys(app)
        for action in ("push", "pull", "apply", "branch", "remove", "app.help", "app.quit"):
            assert action in keys, keys
        assert keys["push"] == "U"
        assert "refresh" not in keys and "cancel" not in keys
        await pilot.resize_terminal(140, 30)
        await pilot.pause()
        await pilot.pause()
        keys = footer_keys(app)
        assert {"refresh", "sort", "compare", "push"} <= set(keys), keys


async def test_the_footer_is_rebuilt_when_its_keys_change_and_only_then(
    fresh_demo: Path,
) -> None:
    """A batch running hides the actions it disables and shows Cancel; focus moving
    between panes changes no key, and the footer's keys are not rebuilt for it."""
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        shown = list(app.screen.query(FooterKey))
        assert "push" in footer_keys(app) and "cancel" not in footer_keys(app)
        await pilot.press("tab")
        await pilot.pause()
        await pilot.pause()
        assert list(app.screen.query(FooterKey)) == shown  # the same widgets, not new ones
        app.main.busy = True
        await pilot.pause()
        await pilot.pause()
        keys = footer_keys(app)
        assert "cancel" in keys and "push" not in keys, keys
        app.main.busy = False
        await pilot.pause()
        await pilot.pause()
        keys = footer_keys(app)
        assert "push" in keys and "cancel" not in keys, keys


async def test_forcing_a_diverged_experiment_says_what_it_will_do(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
        await wait_for(pilot, lambda: rows(tree)["big-batch"].sync is not None)
        tree.marked = {rows(tree)["big-batch"].key}
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))
        choices = app.screen.query_one(SelectionList)
        assert "not forced: left as it is" in str(choices.get_option_at_index(0).prompt)
        await pilot.press("space")
        await pilot.pause()
        prompt = str(choices.get_option_at_index(0).prompt)
        assert "force: replaces the remote version" in prompt, prompt
        assert app.screen.forced  # type: ignore[attr-defined]
        await pilot.press("n")


def test_a_toast_puts_the_hint_on_its_own_line_and_hides_secrets() -> None:
    error = RemoteError(
        "Cannot reach https://bob:s3cret@example.com/\x1b[2Jrepo.git.", "Check the URL."
    )
    text = error_text(error)
    cause, hint = text.split("\n")
    assert hint == "Check the URL."
    assert "s3cret" not in cause and "\x1b" not in cause and "\\u001b" in cause
