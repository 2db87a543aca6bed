"""Finding and choosing experiments: the / filter, s sort, v/a/u marks, c compare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Static

from tests.helpers import plain, settle, status_text
from tui.app import ExptuiApp
from tui.query import QueryError, parse
from tui.screens.compare import CompareScreen
from tui.screens.help import HelpScreen
from tui.screens.plots import PlotsScreen
from tui.view import ExpRow, flat_params
from tui.widgets.exp_tree import ExpTree
from tui.widgets.filter_input import FilterInput
from tui.widgets.plots_panel import PlotsPanel


def shown(tree: ExpTree) -> list[str]:
    return [
        leaf.data.exp.name
        for group in tree.root.children
        for leaf in group.children
        if isinstance(leaf.data, ExpRow)
    ]


def test_query_words_and_errors() -> None:
    assert [(t.field, t.operator, t.value) for t in parse("acc>=0.9 lr=0.01 drop")] == [
        ("acc", ">=", "0.9"),
        ("lr", "=", "0.01"),
        (None, "~", "drop"),
    ]
    for bad, why in ((">0.9", "compares nothing"), ("acc>", "needs a value")):
        try:
            parse(bad)
        except QueryError as exc:
            assert why in str(exc)
        else:
            raise AssertionError(bad)


async def test_filter_by_metric_as_you_type_then_enter_goes_to_the_first_match(
    fresh_demo: Path,
) -> None:
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
        everything = shown(tree)
        accuracy = {name: row.metric("accuracy") for name, row in _rows(app).items()}
        await pilot.press("slash")
        box = app.query_one(FilterInput)
        assert box.has_focus
        await pilot.press(*"accuracy>0.8")
        expected = [n for n in everything if (accuracy[n] or 0) > 0.8]
        assert 0 < len(expected) < len(everything)
        assert shown(tree) == expected
        assert f"filter 'accuracy>0.8': {len(expected)} shown" in status_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert tree.has_focus and not box.display
        assert tree.current_row is not None and tree.current_row.exp.name == expected[0]
        await pilot.press("slash", "escape")
        assert shown(tree) == everything and tree.has_focus


async def test_the_readmes_filter_examples_work_on_the_demo(fresh_demo: Path) -> None:
    """The README's own example, acc>0.9, matched nothing (the metric is accuracy) and
    said nothing; "N shown" counted the local pane only."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `/` |"))
    example = re.findall(r"`([^`]*[<>=~][^`]*)`", row)[0]
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        box = app.query_one(FilterInput)
        for word in example.split():
            await pilot.press("slash", *word)
            counted = re.search(r"filter '[^']*': (\d+) shown", status_text(app))
            assert counted and int(counted.group(1)) > 0, (word, status_text(app))
            assert not box.border_subtitle, (word, box.border_subtitle)
            await pilot.press("escape")
        await pilot.press("slash", *"name~drop")  # alice-drop is only on the remote
        assert "1 shown (0 local, 1 remote)" in status_text(app)
        await pilot.press("escape", "slash", *"acuracy>0.5")
        assert box.border_subtitle == "no field 'acuracy' (closest: accuracy)"


async def test_a_bad_word_keeps_the_last_good_filter_and_says_why(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"lr=0.02")
        assert shown(app.main.local_tree) == ["tuned-lr"]  # train.lr, by its last part
        await pilot.press("space", *">")
        assert shown(app.main.local_tree) == ["tuned-lr"]
        assert "compares nothing" in str(app.query_one(FilterInput).border_subtitle)


async def test_sort_cycles_through_metric_columns(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        assert app.main.sort_by == "accuracy"
        main = app.main.local_tree.root.children[0]
        values = [leaf.data.metric("accuracy") for leaf in main.children]  # type: ignore[union-attr]
        assert values == sorted(values, reverse=True)
        assert "sorted by accuracy" in status_text(app)
        await pilot.press("s", "s", "s")  # loss, f1, then back to the original order
        assert app.main.sort_by is None


async def test_range_group_and_clear_marks_then_compare_two(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
        await pilot.press("down", "space", "down", "down", "v")  # rows 1..4 of main
        names = shown(tree)
        assert {_name(app, k) for k in tree.marked} == set(names[0:4])
        assert "4 marked" in status_text(app)
        await pilot.press("u")
        assert not tree.marked
        await pilot.press("a")  # the cursor's whole group
        main_rows = [leaf.data.key for leaf in tree.root.children[0].children]  # type: ignore[union-attr]
        assert tree.marked == set(main_rows)
        await pilot.press("a")
        assert not tree.marked
        await pilot.press("c")
        assert not isinstance(app.screen, CompareScreen)  # needs exactly two
        await pilot.press("g", "down", "space", "space", "c")
        assert isinstance(app.screen, CompareScreen)
        text = plain(app.screen.query_one(Static))
        first, second = app.screen.first, app.screen.second
        assert first.exp.name in text and second.exp.name in text
        a, b = flat_params(first.state), flat_params(second.state)  # type: ignore[arg-type]
        differ = {k for k in a if a[k] != b.get(k)}
        same = {k for k in a if a[k] == b.get(k)}
        assert differ and same
        starts = {line.split()[0] for line in text.splitlines() if line.strip()}
        assert differ <= starts and not (same & starts)  # only what differs, as exp diff
        (panel,) = app.screen.query(PlotsPanel)  # their curves, overlaid below
        assert [w.label for w in panel.wanted] == [first.exp.name, second.exp.name]
        await pilot.press("t")  # and on a screen of their own
        assert isinstance(app.screen, PlotsScreen)
        assert [w.label for w in app.screen.wanted] == [first.exp.name, second.exp.name]
        await pilot.press("escape")
        assert isinstance(app.screen, CompareScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareScreen)


def _rows(app: ExptuiApp) -> dict[str, ExpRow]:
    assert app.main.local is not None
    return {row.exp.name: row for group in app.main.local.groups for row in group.rows}


def _name(app: ExptuiApp, key: str) -> str:
    return next(row.exp.name for row in _rows(app).values() if row.key == key)


def use_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """The app reads this settings file (EXPTUI_CONFIG_FILE), as a user's would be."""
    settings = tmp_path / "config.yaml"
    settings.write_text(text)
    monkeypatch.setenv("EXPTUI_CONFIG_FILE", str(settings))


async def test_a_keymap_from_the_settings_file_rebinds_keys(
    fresh_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(tmp_path, monkeypatch, "keymap:\n  sort: o\n  mark: x\n  no-such-thing: y\n")
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        assert app.main.sort_by is None  # s no longer sorts
        await pilot.press("o")
        assert app.main.sort_by == "accuracy"
        await pilot.press("down", "x")
        assert len(app.main.local_tree.marked) == 1
        warnings = [m.notification.message for m in messages if isinstance(m, Notify)]
        assert any("no binding 'no-such-thing'" in w for w in warnings)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        lines = plain(app.screen.query(Static).first()).splitlines()
        assert any(line.split()[:2] == ["o", "Sort"] for line in lines if line.strip())


async def test_a_keymap_cannot_take_over_a_key_or_name_an_impossible_one(
    fresh_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`push: q` silently took over quit, and a key Textual never sends silently disabled
    pull; each is now refused with a toast naming both sides, and the default stays."""
    use_settings(tmp_path, monkeypatch, "keymap:\n  push: q\n  pull: ctrl+nosuchkey\n  sort: o\n")
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        warnings = [m.notification.message for m in messages if isinstance(m, Notify)]
        assert any("'q' for 'push' is already quit's key" in w for w in warnings), warnings
        assert any("'ctrl+nosuchkey' for 'pull' is not a key name" in w for w in warnings)
        assert app.settings.keymap == {"sort": "o"}
        await pilot.press("o")
        assert app.main.sort_by == "accuracy"  # the valid entry still applies
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running  # q still quits


async def test_hints_name_the_remapped_keys(
    fresh_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transfer panel said "z cancels" whatever cancel was bound to."""
    from core.operation import Operation
    from core.progress import ProgressBoard
    from tui.screens.confirm import Confirm
    from tui.widgets.transfer_panel import TransferPanel

    use_settings(tmp_path, monkeypatch, "keymap:\n  cancel: x\n")
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(TransferPanel)
        panel.show(Operation.PUSH, ProgressBoard().snapshot())
        line = plain(panel.query_one("#transfer-line", Static))
        assert "x cancels" in line and "z cancels" not in line
        await pilot.press("down", "d")  # remove asks first
        assert isinstance(app.screen, Confirm)
        hint = plain(app.screen.query(Static).last())
        # offline, no listing says the experiment is elsewhere: only y removes it
        assert "y: yes" in hint and "n / esc / ⏎: no" in hint
        await pilot.press("n")


async def test_the_command_palette_runs_actions_by_name(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Sort")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.main.sort_by == "accuracy"


async def test_a_huge_group_shows_a_page_of_rows_and_enter_shows_the_next(
    fresh_demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group of 100,000 rows added to the tree at once held the app for seconds (q
    too): a group adds a page at a time, its last line says how many are left."""
    import tui.widgets.exp_tree as exp_tree

    monkeypatch.setattr(exp_tree, "ROW_PAGE", 2)
    app = ExptuiApp(fresh_demo, network=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
        head = tree.root.children[0]
        assert isinstance(head.data, exp_tree.GroupView) and len(head.data.rows) == 6
        assert len(shown(tree)) == 2 + 2  # the HEAD group's first page, v1.0's 2 rows
        last = head.children[-1]
        assert str(last.label) == "… 4 more: enter shows 2, / filters"
        tree.move_cursor(last)
        await pilot.press("enter")
        await settle(app, pilot)
        assert [str(n.label) for n in head.children if not isinstance(n.data, ExpRow)] == [
            "… 2 more: enter shows 2, / filters"
        ]
        assert tree.cursor_node is not None and isinstance(tree.cursor_node.data, ExpRow)
        assert len(shown(tree)) == 4 + 2
        assert "8 local" in status_text(app)  # counts every row, shown or not
        here = tree.cursor_node.data.key
        await pilot.press("R")  # a reload pages the group in again up to the cursor's row
        await settle(app, pilot)
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        assert tree.cursor_node.data.key == here
        await pilot.press("slash", *"wide", "enter")  # a filter finds rows of any page
        await settle(app, pilot)
        assert shown(tree) == ["wide-net"]
