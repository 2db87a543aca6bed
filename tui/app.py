"""The exptui app: local experiments grouped by baseline, with details and marks.

The app never blocks on I/O: repository reads run in one thread worker per load, which
opens its own repository and hands plain values back through messages.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.widgets import Footer, Static, Tree
from textual.worker import Worker, WorkerState

from core.errors import ExptuiError
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.view import ExpRow, GroupView, LocalView, load_groups, load_states, metric_columns
from tui.widgets.detail import DetailPanel
from tui.widgets.exp_tree import ExpTree

NARROW_BELOW = 100


class ExptuiApp(App[None]):
    """Browse a DVC project's experiments from the keyboard."""

    CSS_PATH = "app.tcss"
    TITLE = "exptui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("R", "refresh", "Refresh", id="refresh"),
    ]

    class GroupsLoaded(Message):
        """Phase one: refs and commit headers of every local experiment."""

        def __init__(self, view: LocalView) -> None:
            super().__init__()
            self.view = view

    class StatesLoaded(Message):
        """Phase two: params, metrics and outputs are now filled in."""

    def __init__(self, path: Path | str = ".", clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.path = Path(path)
        self.clock = clock
        self.view: LocalView | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            with Vertical(id="local-pane", classes="pane"):
                yield Static(id="local-header")
                yield ExpTree(clock=self.clock, id="local-tree")
            yield DetailPanel(clock=self.clock, id="details", classes="pane")
        yield Static(Text("loading experiments…"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        pane = self.query_one("#local-pane")
        pane.border_title = "Local experiments"
        self.query_one("#details").border_title = "Details"
        self.query_one(ExpTree).focus()
        self.load_local()
        if not self.is_headless:
            self.set_interval(2.0, self._check_tty)

    def on_resize(self, event: Resize) -> None:
        self.screen.set_class(event.size.width < NARROW_BELOW, "narrow")

    # -- loading -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False, description="load")
    def load_local(self) -> None:
        view = load_groups(self.path)
        self.post_message(self.GroupsLoaded(view))
        load_states(self.path, view)
        self.post_message(self.StatesLoaded())

    def on_exptui_app_groups_loaded(self, message: GroupsLoaded) -> None:
        self.view = message.view
        tree = self.query_one(ExpTree)
        tree.show_groups(message.view.groups, [])
        self.query_one("#local-pane").border_subtitle = str(message.view.root)
        self.query_one("#local-header", Static).update(tree.header())
        self._update_status()
        for ref in message.view.skipped_refs:
            self.notify(f"Skipped malformed experiment ref {ref}", severity="warning", markup=False)

    def on_exptui_app_states_loaded(self, _message: StatesLoaded) -> None:
        if self.view is None:
            return
        tree = self.query_one(ExpTree)
        tree.columns = metric_columns(self.view)
        tree.refresh_labels()
        self.query_one("#local-header", Static).update(tree.header())
        self._show_cursor_details()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        text = str(error) if isinstance(error, ExptuiError) else f"{type(error).__name__}: {error}"
        self.notify(text, title="Could not read the repository", severity="error",
                    timeout=10, markup=False)  # fmt: skip
        self.query_one("#status", Static).update(Text(text, style="bold red"))

    # -- reacting to the tree ------------------------------------------------------------

    def on_tree_node_highlighted(self, _event: Tree.NodeHighlighted[object]) -> None:
        self._show_cursor_details()

    def on_tree_node_selected(self, event: Tree.NodeSelected[object]) -> None:
        if isinstance(event.node.data, GroupView):
            self.query_one(ExpTree).toggle_group(event.node)  # type: ignore[arg-type]
        else:
            self.action_details()

    def on_exp_tree_marks_changed(self, _message: ExpTree.MarksChanged) -> None:
        self._update_status()

    def _show_cursor_details(self) -> None:
        tree = self.query_one(ExpTree)
        panel = self.query_one(DetailPanel)
        row, group = tree.current_row, tree.current_group
        if row is not None:
            panel.show_row(row, group)
        elif group is not None:
            panel.show_group(group)

    def _update_status(self) -> None:
        if self.view is None:
            return
        tree = self.query_one(ExpTree)
        groups = len(self.view.groups)
        text = Text.assemble(
            (f"{self.view.count} experiments", "bold"),
            f" in {groups} baseline{'s' if groups != 1 else ''}",
        )
        if tree.marked:
            text.append(f" · {len(tree.marked)} marked", style="bold cyan")
        if not self.view.count:
            text.append(" · no experiments yet: run 'dvc exp run' or try 'exptui demo'")
        self.query_one("#status", Static).update(text)

    # -- actions -------------------------------------------------------------------------

    def action_details(self) -> None:
        tree = self.query_one(ExpTree)
        row: ExpRow | None = tree.current_row
        if row is not None:
            self.push_screen(DetailScreen(row, tree.current_group, self.clock))

    def action_help(self) -> None:
        sections = [
            ("App", [b for b in self.BINDINGS if isinstance(b, Binding)]),
            ("Experiment tree", [b for b in ExpTree.BINDINGS if isinstance(b, Binding)]),
        ]
        self.push_screen(HelpScreen(sections))

    def action_refresh(self) -> None:
        self.load_local()

    def _check_tty(self) -> None:
        """Exit when the terminal is gone (SSH hang-up with SIGHUP ignored), never spin."""
        if sys.__stdin__ is None or not sys.__stdin__.isatty():
            self.workers.cancel_all()
            self.exit(return_code=129)
