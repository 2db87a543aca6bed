"""The app, driven by keys through Textual's Pilot against a real demo repository."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Static

from tests.helpers import each, plain, settle, status_text
from tui.app import ExptuiApp
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.view import ExpRow, GroupView


async def test_local_experiments_show_grouped_by_baseline(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
        groups = [node.data for node in tree.root.children]
        assert all(isinstance(g, GroupView) for g in each(groups))
        assert [g.group.label for g in groups] == ["main", "v1.0"]  # type: ignore[union-attr]
        leaves = [leaf.data.exp.name for node in tree.root.children for leaf in node.children]
        assert sorted(leaves) == sorted(
            [
                "big-batch",
                "brisk-lynx",
                "long-run",
                "quick-test",
                "tuned-lr",
                "wide-net",
                "old-adam",
                "sgd-base",
            ]
        )
        assert tree.wanted_columns == ["accuracy", "loss", "f1"]
        assert tree.columns == ["accuracy", "loss"]  # what fits a 120-column split
        first = tree.root.children[0].children[0].data
        assert tree.row_label(first).cell_len + tree.guide_depth + 2 <= tree.size.width
        label = tree.render_label(tree.root.children[0].children[0], Style(), Style()).plain
        assert "big-batch" in label and "0.78" in label
        assert "8 local in 2 baselines · 8 on origin" in status_text(app)


async def test_moving_and_opening_details(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
        assert tree.has_focus and tree.current_group is not None
        await pilot.press("down", "j", "j", "k")
        row = tree.current_row
        assert isinstance(row, ExpRow) and row.exp.name == "brisk-lynx"
        details = plain(app.query_one("#details").query_one(Static))
        assert "brisk-lynx" in details and "train.lr" in details and "0.005" in details
        group = tree.current_group
        assert group is not None and group.state is not None  # the baseline column has values
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.row.exp.name == "brisk-lynx"
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)
        await pilot.press("G")
        assert tree.current_row is not None and tree.current_row.exp.name == "sgd-base"


async def test_enter_on_a_baseline_folds_it(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
        head_group = tree.root.children[0]
        assert head_group.is_expanded
        await pilot.press("enter")
        assert not head_group.is_expanded
        await pilot.press("l")
        assert head_group.is_expanded


async def test_space_marks_and_moves_down(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
        await pilot.press("down", "space", "space")
        assert len(tree.marked) == 2
        assert tree.current_row is not None and tree.current_row.exp.name == "long-run"
        await pilot.pause()
        assert "2 marked" in status_text(app)
        await pilot.press("u")
        await pilot.pause()
        assert not tree.marked and "marked" not in status_text(app)


async def test_help_lists_the_keys_and_closes(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = plain(app.screen.query(Static).first())
        assert "Quit" in shown and "Mark" in shown and "Details" in shown
        # every glyph the trees draw has its line, and the palette its key
        for glyph in ("✓", "↑", "↓", "≠", "·", "■", "□", "●"):
            assert any(line.startswith(glyph) for line in shown.splitlines()), glyph
        assert "ctrl+p" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_layout_follows_the_terminal_width(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        shown = lambda: {  # noqa: E731
            w: app.query_one(f"#{w}").display for w in ("local-pane", "remote-pane", "details")
        }
        assert shown() == {"local-pane": True, "remote-pane": False, "details": False}
        await pilot.press("tab")
        await pilot.pause()
        assert shown() == {"local-pane": False, "remote-pane": True, "details": False}
        assert app.main.remote_tree.has_focus
        await pilot.press("1")
        await pilot.pause()
        assert app.main.local_tree.has_focus and shown()["local-pane"]
        await pilot.resize_terminal(130, 30)
        await pilot.pause()
        assert shown() == {"local-pane": True, "remote-pane": True, "details": False}
        await pilot.resize_terminal(170, 30)
        await pilot.pause()
        assert shown() == {"local-pane": True, "remote-pane": True, "details": True}


async def test_q_quits(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0
        assert not app.is_running


async def test_an_unreadable_repository_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    messages: list[Message] = []
    app = ExptuiApp(tmp_path)
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        for _ in range(100):  # the load fails at once; wait for its toast, not for the worker
            if any(isinstance(m, Notify) for m in messages):
                break
            await pilot.pause(0.02)
        toasts = [m.notification for m in messages if isinstance(m, Notify)]
        assert toasts and toasts[0].severity == "error"
        assert "not inside a Git repository" in toasts[0].message
        assert "not inside a Git repository" in status_text(app)
        assert app.is_running


async def test_rows_take_their_styles_from_the_tree_component_classes(fresh_demo: Path) -> None:
    """A theme or the app's CSS restyles rows through ExpTree's component classes."""
    from rich.style import Style

    class Restyled(ExptuiApp):
        CSS = "ExpTree > .exp-tree--name { text-style: underline; }"

    app = Restyled(fresh_demo, network=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
        await pilot.press("down")
        node = tree.cursor_node
        assert node is not None and tree.current_row is not None
        label = tree.render_label(node, Style(), Style())
        name = tree.current_row.exp.name
        start = label.plain.index(name)
        styles = [s.style for s in label.spans if s.start <= start < s.end]
        assert any(isinstance(s, Style) and s.underline for s in styles)
