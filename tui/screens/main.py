"""The main screen: the local pane, the remote pane, details, filter, sort and status.

It owns everything the user browses and every batch started from it; the app around it
keeps only what is global (quit, help, the keymap, the palette, hang-ups). Workers read
the repository and the remotes off the UI thread and hand plain values back through
messages; only handlers on the UI thread change rows and widgets.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Static, Tree
from textual.worker import Worker, WorkerState, get_current_worker

from core import porcelain
from core.data.datastate import DataStatus
from core.errors import ExptuiError, Stopped, TransferCancelled, explain
from core.git.exchange import RefResult, Status
from core.git.refs import ExpRef, describe_skipped
from core.git.sync import RemoteListing, SyncState
from core.git.transport import Credentials
from core.operation import Operation
from core.porcelain import (
    ApplyPlan,
    BranchPlan,
    BranchResult,
    NeedsPull,
    Session,
    SharePlan,
    ShareResult,
)
from core.progress import ProgressBoard
from core.project.dvcfiles import ProjectState
from core.project.repo import Repository
from core.redact import redact
from core.stopping import Stop
from core.workspace.apply import ApplyResult, has_local_changes
from tui.format import format_age, format_size, format_value, shown
from tui.keys import live_key
from tui.plot_text import sparkline
from tui.query import QueryError, Term, fields, parse, shape, unknown_fields
from tui.render import share_headline
from tui.screens.branch_name import BranchName
from tui.screens.compare import CompareScreen
from tui.screens.confirm import Confirm, ConfirmRisky
from tui.screens.confirm_share import ConfirmShare
from tui.screens.credentials import CredentialScreen
from tui.screens.detail import DetailScreen
from tui.screens.plots import PlotsScreen
from tui.screens.remote_picker import RemotePicker
from tui.view import (
    CommitStates,
    Details,
    ExpRow,
    GroupView,
    LocalRefs,
    LocalView,
    RemoteView,
    apply_details,
    cached_remote,
    commits_to_read,
    default_remote,
    fetch_listing,
    fetch_row_values,
    git_remote_names,
    keep_peeked_commits,
    listing_view,
    load_data_status,
    load_groups,
    metric_columns,
    quiet_listing,
    read_details,
    read_trends,
    still_current,
)
from tui.widgets.detail import DetailPanel
from tui.widgets.exp_tree import ExpTree, MoreRows
from tui.widgets.filter_input import FilterInput
from tui.widgets.key_footer import KeyFooter
from tui.widgets.plots_panel import Wanted, beside_baseline
from tui.widgets.transfer_panel import TransferPanel

Answer = TypeVar("Answer")
NARROW_BELOW = 100
FIRST_SCREEN_WAIT = 3.0  # s the local details wait for the remote pane's rows, at most
WATCH_EVERY = 60.0  # s between quiet checks of the remote pane's refs (one listing, no data)
DETAILS_SETTLE = 0.1  # s details may keep arriving before the panes show them (see _show_details)
WIDE_FROM = 160
PANE_CHROME = 3  # a pane's border and column titles around its tree
MIN_PANES = 8  # the trees keep at least this many rows when the summary shows under them
MIN_PEEK = 7  # the summary needs its border, a headline and a few values to be worth it


class MainScreen(Screen[None]):
    """Local and remote experiments side by side, grouped by baseline."""

    BINDINGS = [
        # The app's own, repeated here so the footer shows them first, as before.
        Binding("q", "app.quit", "Quit", id="quit"),
        Binding("question_mark,f1", "app.help", "Help", id="help"),
        Binding("R", "refresh", "Refresh", id="refresh"),
        Binding("r", "pick_remote", "Remote", id="pick_remote"),
        Binding("P", "push", "Push", id="push"),
        Binding("p", "pull", "Pull", id="pull"),
        Binding("A", "apply", "Apply", id="apply"),
        Binding("b", "branch", "Branch", id="branch"),
        Binding("d", "remove", "Remove", id="remove"),
        Binding("z", "cancel", "Cancel", id="cancel"),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("s", "sort", "Sort", id="sort"),
        Binding("c", "compare", "Compare", id="compare"),
        Binding("t", "plots", "Plots", id="plots"),
        Binding("T", "trend", "Trend column", show=False, id="trend"),
        Binding("w", "toggle_transfers", "Transfers", show=False, id="transfers"),
        Binding(
            "tab,shift+tab",
            "switch_pane",
            "Switch pane",
            show=False,
            priority=True,
            id="switch_pane",
        ),
        Binding("1", "focus_local", "Local pane", show=False, id="focus_local"),
        Binding("2", "focus_remote", "Remote pane", show=False, id="focus_remote"),
    ]
    DEFAULT_CSS = """
    MainScreen { layout: vertical; }
    #panes { height: 1fr; }
    .pane { border: round $primary-darken-2; height: 1fr; width: 1fr; }
    .pane:focus-within { border: round $accent; }
    .pane-header { height: 1; color: $text-muted; }
    #details { display: none; }
    #peek { display: none; border: round $primary-darken-2; height: 0; overflow-y: hidden; }
    #status { height: 1; background: $panel; color: $text; padding: 0 1; }
    /* Wide terminals show the details beside both panes. */
    MainScreen.wide #details { display: block; width: 1fr; }
    MainScreen.wide .pane { width: 1fr; }
    /* Below 100 columns only the focused pane shows; tab or 1/2 switch. */
    MainScreen.narrow #remote-pane { display: none; }
    MainScreen.narrow.remote-focused #remote-pane { display: block; }
    MainScreen.narrow.remote-focused #local-pane { display: none; }
    """

    class LocalLoaded(Message):
        """Phase one of the local pane: refs and commit headers."""

        def __init__(self, view: LocalView) -> None:
            super().__init__()
            self.view = view

    class DetailsLoaded(Message):
        """Phase two of a pane: headers, params, metrics and outputs per commit, read off
        the UI thread. ``final`` is False for a cached remote listing a fresh one will
        replace."""

        def __init__(self, pane: str, details: Details, final: bool = True) -> None:
            super().__init__()
            self.pane, self.details, self.final = pane, details, final

    class RemoteMoved(Message):
        """A quiet check found the remote's experiments changed since the pane's listing."""

        def __init__(self, name: str, news: str) -> None:
            super().__init__()
            self.name, self.news = name, news

    class ValuesWanted(Message):
        """Rows whose values sit in outputs the local cache lacks: phase four starts."""

    class ValuesFetched(Message):
        """Phase four: states re-read after their cached values were fetched, and what
        could not be fetched."""

        def __init__(self, states: dict[str, ProjectState], problem: str) -> None:
            super().__init__()
            self.states, self.problem = states, problem

    class TrendsLoaded(Message):
        """Step metrics per commit, from the plots, for the trend column."""

        def __init__(self, trends: dict[str, dict[str, list[float]]]) -> None:
            super().__init__()
            self.trends = trends

    class DataStatusLoaded(Message):
        """Where each experiment's data is, for the data badges."""

        def __init__(self, statuses: dict[str, DataStatus]) -> None:
            super().__init__()
            self.statuses = statuses

    class PlanReady(Message):
        """A push or pull plan, with the session that made it (handed over, never shared:
        the planning worker has finished with it)."""

        def __init__(self, session: Session, plan: SharePlan) -> None:
            super().__init__()
            self.session, self.plan = session, plan

    class WorkspacePlanned(Message):
        """An apply or branch plan (or what it needs first), with its session (handed
        over, never shared) and whether apply would stash local changes."""

        def __init__(
            self,
            session: Session,
            plan: ApplyPlan | BranchPlan | NeedsPull,
            stash: bool = False,
        ) -> None:
            super().__init__()
            self.session, self.plan, self.stash = session, plan, stash

    busy = reactive(False, bindings=True)

    class RemoteLoaded(Message):
        """A listing of the chosen remote: the cached one first, then a fresh one."""

        def __init__(self, view: RemoteView) -> None:
            super().__init__()
            self.view = view

    class Warned(Message):
        """Something a worker could not do that the user should hear of."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class RemoteConfirmed(Message):
        """A fresh listing that lays out as the cached one shown: the rows stand."""

        def __init__(self, listing: RemoteListing) -> None:
            super().__init__()
            self.listing = listing

    def __init__(
        self,
        path: Path,
        clock: Callable[[], float] = time.time,
        remote: str | None = None,
        network: bool = True,
    ) -> None:
        super().__init__()
        self.path = path
        self.clock = clock
        self.network = network
        self.remote_name = remote
        self.local: LocalView | None = None
        self.remote: RemoteView | None = None
        self.remote_note = ""
        self.board: ProgressBoard | None = None
        self.operation = Operation.PUSH  # the running (or last) batch verb
        self.data_status: dict[str, DataStatus] = {}
        self.query_text = ""
        self.terms: list[Term] = []
        self.sort_by: str | None = None
        self.trends: dict[str, dict[str, list[float]]] | None = None  # None: not read yet
        self.trend_by: str | None = None  # the step metric of the trend column
        self.fetching_values = False  # phase four: values fetched from DVC remotes
        self.watch_every = WATCH_EVERY
        self.remote_news = ""  # what the last quiet check found changed on the remote
        self.transfers_hidden = False
        self.ready_panes: set[str] = set()  # panes whose details are in: see _pane_ready
        self.local_listed = threading.Event()  # the local pane's rows are read (or failed)
        self.local_refs: LocalRefs | None = None  # what they were: the remote pane compares
        self.remote_shown = threading.Event()  # the remote pane has rows (or never will)
        self.local_detailed = threading.Event()  # the local pane's details are in
        self.states = CommitStates()  # parsed commits, shared by the loading workers
        self._fields: set[str] | None = None  # what a filter can name: see _field_names
        self._column_names: list[str] | None = None  # see _columns
        self._details_pending = False  # a refresh for arrived details is queued

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            with Vertical(id="local-pane", classes="pane"):
                yield Static(classes="pane-header", id="local-header")
                yield ExpTree(clock=self.clock, id="local-tree")
            with Vertical(id="remote-pane", classes="pane"):
                yield Static(classes="pane-header", id="remote-header")
                yield ExpTree(clock=self.clock, id="remote-tree")
            yield DetailPanel(clock=self.clock, id="details", classes="pane")
        yield DetailPanel(clock=self.clock, compact=True, id="peek")
        yield TransferPanel(id="transfer")
        yield FilterInput(id="filter")
        yield Static(Text("loading experiments…"), id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#local-pane").border_title = "Local"
        self.query_one("#remote-pane").border_title = "Remote"
        self.query_one("#details").border_title = "Details"
        self.query_one("#peek").border_title = "Highlighted"
        self.query_one("#peek").can_focus = False
        self.local_tree.focus()
        self.load_local()
        self.start_remote()
        self.set_interval(15, self._show_remote_title)
        self.set_interval(0.25, self._show_progress)
        if self.network:
            self.set_interval(self.watch_every, self._watch_remote)

    def on_unmount(self) -> None:
        """Wake the loading threads waiting on each other: the process waits for them
        before it ends, and a wait for rows that will never come lasted its whole
        timeout after q."""
        for event in (self.local_listed, self.remote_shown, self.local_detailed):
            event.set()

    def _alive(self) -> bool:
        """False while the app tears down: workers may still deliver late messages."""
        return self.is_mounted and bool(self.query("#local-tree"))

    @property
    def local_tree(self) -> ExpTree:
        return self.query_one("#local-tree", ExpTree)

    @property
    def remote_tree(self) -> ExpTree:
        return self.query_one("#remote-tree", ExpTree)

    @property
    def focused_tree(self) -> ExpTree:
        return self.remote_tree if self.remote_tree.has_focus else self.local_tree

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW_BELOW, "narrow")
        self.set_class(event.size.width >= WIDE_FROM, "wide")
        self.call_after_refresh(self._refresh_trees)  # columns follow the panes' widths
        self.call_after_refresh(self._fit_peek)

    # -- local pane ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="local", exit_on_error=False, description="local")
    def load_local(self) -> None:
        try:
            view = load_groups(self.path)
            self.local_refs = view.refs()
        finally:
            self.local_listed.set()
        commits = commits_to_read(view.groups)  # before the rows go to the UI thread
        self.post_message(self.LocalLoaded(view))
        # Details after the remote pane's rows: the first screen is both panes' rows.
        self.remote_shown.wait(timeout=FIRST_SCREEN_WAIT)
        details = read_details(self.path, commits, self.states, _cancelled())
        self.local_detailed.set()
        self.post_message(self.DetailsLoaded("local", details))

    def on_main_screen_local_loaded(self, message: LocalLoaded) -> None:
        if not self._alive():
            return
        self._rows_changed()
        self.local = message.view
        self._apply_sync()
        self._apply_data()
        self._show(self.local_tree, message.view.groups)
        self.query_one("#local-pane").border_subtitle = str(message.view.root)
        self._show_headers()
        self._update_status()
        if message.view.skipped_refs:
            text = describe_skipped(message.view.skipped_refs, "here")
            self.notify(text.capitalize(), severity="warning", markup=False)

    def _pane_ready(self, pane: str) -> None:
        """Data badges are phase three: they start once both panes show their details,
        so they never compete with the first screen for the interpreter."""
        self.ready_panes.add(pane)
        if pane == "remote":
            self.remote_shown.set()
        if {"local", "remote"} <= self.ready_panes:
            self.load_data([v for v in (self.local, self.remote) if v is not None])

    def on_main_screen_values_wanted(self, _message: ValuesWanted) -> None:
        if not self._alive():
            return
        self.fetching_values = True
        self._update_status()
        self.load_values()

    @work(thread=True, exclusive=True, group="values", exit_on_error=False, description="values")
    def load_values(self) -> None:
        """Values inside cached outputs, fetched from the DVC remote for rows whose cache
        lacks them (remote-only rows, experiments pulled without data)."""
        states: dict[str, ProjectState] = {}
        problem = ""
        try:
            states, problem = fetch_row_values(self.path, self.states)
        except ExptuiError as exc:
            problem = f"values not fetched: {exc}"
        finally:
            self.post_message(self.ValuesFetched(states, problem))

    def on_main_screen_values_fetched(self, message: ValuesFetched) -> None:
        if not self._alive():
            return
        self.fetching_values = False
        self._update_status()
        if message.states:
            details = Details(states=message.states)
            self.on_main_screen_details_loaded(self.DetailsLoaded("values", details, False))
        if message.problem:
            self.notify(message.problem, severity="warning", markup=False)

    @work(thread=True, exclusive=True, group="data", exit_on_error=False, description="data")
    def load_data(self, views: list[LocalView | RemoteView]) -> None:
        """Phase three. The walk over both panes' rows is here too: 20,000 rows took
        20 ms of the UI thread, while keys waited."""
        rows = [row for view in views for group in view.groups for row in group.rows]
        if any(row.state is not None and row.state.uncached for row in rows):
            self.post_message(self.ValuesWanted())
        experiments = [(row.exp.ref, row.exp.sha) for row in rows]
        statuses = load_data_status(self.path, experiments, self.states)
        self.post_message(self.DataStatusLoaded(statuses))

    def on_main_screen_data_status_loaded(self, message: DataStatusLoaded) -> None:
        if not self._alive():
            return
        self.data_status.update(message.statuses)
        self._apply_data()
        for tree in (self.local_tree, self.remote_tree):
            tree.redraw_rows()  # badges change no width: no column to fit again
        self._show_cursor_details()

    def _apply_data(self) -> None:
        if not self.data_status:
            return  # none yet: the first screen's 10,000 rows need no visit
        for view in (self.local, self.remote):
            for group in view.groups if view else []:
                for row in group.rows:
                    row.data = self.data_status.get(row.exp.sha, row.data)

    def on_main_screen_details_loaded(self, message: DetailsLoaded) -> None:
        if not self._alive():
            return
        self._rows_changed()
        for view in (self.local, self.remote):  # a commit's state is the same in any pane
            if view is not None:
                apply_details(view.groups, message.details)
        if message.final:
            self._pane_ready(message.pane)
        if not self._details_pending:  # both panes' details come close together
            self._details_pending = True
            self.set_timer(DETAILS_SETTLE, self._show_details)

    @property
    def details_shown(self) -> bool:
        """No arrived details wait for their refresh (tests wait on this)."""
        return not self._details_pending

    def _show_details(self) -> None:
        """Columns fitted and rows redrawn once for details that arrive close together
        (the two panes' at start, 20-60 ms apart): each arrival's own refresh held keys
        back 60-110 ms at 10,000 rows, and two in a row 130-180 ms."""
        self._details_pending = False
        if not self._alive():
            return
        if self.terms or self.sort_by:
            self._reshape()  # filtered/sorted groups are copies: rebuild them with details
        self._refresh_trees()
        self._show_cursor_details()

    # -- remote pane ---------------------------------------------------------------------

    def start_remote(self) -> None:
        if self.remote_name is None:
            try:
                self.remote_name = default_remote(self.path)
            except ExptuiError:
                self._pane_ready("remote")
                return  # the local load reports a broken repository
        if self.remote_name is None:
            self.remote_note = "no Git remote: add one with 'git remote add origin URL'"
            self._show_remote_title()
            self._pane_ready("remote")
            return
        self.ready_panes.discard("remote")
        self.remote_note = "listing…"
        self._show_remote_title()
        self.load_remote(self.remote_name)

    @work(thread=True, exclusive=True, group="remote", exit_on_error=False, description="remote")
    def load_remote(self, name: str) -> None:
        # The rows after the local pane's: the commits both panes show are then parsed
        # once, not twice by two threads racing for one interpreter (10,000 experiments:
        # 2 s of the first screen).
        self.local_listed.wait(timeout=FIRST_SCREEN_WAIT)
        stopped = _cancelled()  # checked between steps: the process waits for this thread
        with contextlib.suppress(Stopped):  # the app quit: nothing was written
            self._load_remote(name, stopped)

    def _load_remote(self, name: str, stopped: Stop) -> None:
        cached = None if stopped() else cached_remote(self.path, name, self.local_refs, stopped)
        if cached is not None:
            commits = commits_to_read(cached.groups)
            self.post_message(self.RemoteLoaded(cached))
            details = read_details(self.path, commits, self.states, stopped)
            self.post_message(self.DetailsLoaded("remote", details, final=not self.network))
        elif not self.network:
            self.post_message(self.DetailsLoaded("remote", Details()))
        if self.network and not stopped():
            listing, error = fetch_listing(self.path, name, self._ask_credentials, stopped)
            if cached is not None and still_current(cached, listing, error):
                self.post_message(self.RemoteConfirmed(listing))
            else:
                view = listing_view(self.path, listing, error, self.local_refs, stopped)
                commits = commits_to_read(view.groups)
                self.post_message(self.RemoteLoaded(view))
                self.local_detailed.wait(timeout=FIRST_SCREEN_WAIT)  # then reuse its states
                details = read_details(self.path, commits, self.states, stopped)
                self.post_message(self.DetailsLoaded("remote", details))
            # Last: rows first (100,000 new peek refs take a second to write).
            problem = None if error or stopped() else keep_peeked_commits(self.path, listing)
            if problem:
                self.post_message(self.Warned(problem))

    def _watch_remote(self) -> None:
        """Every ``watch_every`` seconds, when nothing else talks to the remote: one quiet
        listing of its refs; the pane reloads (cursor kept) only if colleagues moved some."""
        if self.busy or self.remote is None or self.remote.error or not self.remote_name:
            return
        if any(w.is_running and w.group in ("remote", "transfer", "plan") for w in self.workers):
            return
        self.check_remote(self.remote_name, dict(self.remote.listing.refs))

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False, description="watch")
    def check_remote(self, name: str, known: dict[ExpRef, str]) -> None:
        listing = quiet_listing(self.path, name)
        if listing is None or listing.refs == known:
            return
        new = len(listing.refs.keys() - known.keys())
        moved = sum(1 for ref, sha in listing.refs.items() if known.get(ref, sha) != sha)
        gone = len(known.keys() - listing.refs.keys())
        parts = [f"{n} {what}" for n, what in ((new, "new"), (moved, "updated"), (gone, "gone"))]
        news = ", ".join(part for part in parts if not part.startswith("0 "))
        self.post_message(self.RemoteMoved(name, f"{news} on {name}"))

    def on_main_screen_remote_moved(self, message: RemoteMoved) -> None:
        if not self._alive() or message.name != self.remote_name or self.busy:
            return
        self.remote_news = message.news
        self._update_status()
        self.ready_panes.discard("remote")
        self.load_remote(message.name)  # the listing and peek of the start; cursor kept

    def _ask_credentials(self, url: str) -> Credentials | None:
        return self._ask(CredentialScreen(url))

    def _ask(self, screen: ModalScreen[Answer]) -> Answer | None:
        """From a worker thread: show ``screen`` on the UI thread and wait for its answer,
        giving up (None) if the worker is cancelled, so quitting never hangs here. Only
        for credentials: dulwich asks for them in the middle of a synchronous call; every
        confirmation opens with a callback instead."""
        worker = get_current_worker()
        answered = threading.Event()
        answer: list[Answer | None] = [None]

        def done(result: Answer | None) -> None:
            answer[0] = result
            answered.set()

        self.app.call_from_thread(self.app.push_screen, screen, done)
        while not answered.wait(0.2):
            if worker.is_cancelled:
                return None
        return answer[0]

    def on_main_screen_remote_loaded(self, message: RemoteLoaded) -> None:
        if not self._alive():
            return
        self._rows_changed()
        view = message.view
        if view.spec.display != redact(self.remote_name or ""):
            return  # a late answer about a remote the user has since switched away from
        self.remote = view
        self.remote_shown.set()
        self.remote_note = view.error or ""
        self._apply_sync()
        self._apply_data()
        self.remote_tree.show_sync = self.local_tree.show_sync = True
        self._show(self.remote_tree, view.groups)
        self._refresh_trees()
        self._show_remote_title()
        self._show_headers()
        self._update_status()
        if view.error:
            self.notify(view.error, severity="warning", markup=False)
        if view.fresh:
            self._tell_skipped(view.listing)

    def on_main_screen_remote_confirmed(self, message: RemoteConfirmed) -> None:
        """The fresh listing is the cached one: only the title changes ("listed")."""
        listing = message.listing
        if not self._alive() or self.remote is None:
            return
        chosen = redact(self.remote_name or "")
        if listing.remote.display != chosen or self.remote.spec.display != chosen:
            return  # a late answer about a remote the user has since switched away from
        self.remote.listing, self.remote.fresh = listing, True
        self._show_remote_title()
        self._pane_ready("remote")
        self._tell_skipped(listing)

    def on_main_screen_warned(self, message: Warned) -> None:
        if self._alive():
            self.notify(message.text, severity="warning", markup=False)

    def _tell_skipped(self, listing: RemoteListing) -> None:
        if listing.skipped:
            text = describe_skipped(listing.skipped, f"on {listing.remote.display}")
            self.notify(text.capitalize(), severity="warning", markup=False)

    def _apply_sync(self) -> None:
        if self.local is None or self.remote is None:
            return
        for group in self.local.groups:
            for row in group.rows:
                row.sync = self.remote.sync.get(row.key, SyncState.LOCAL_ONLY)

    def _show_remote_title(self) -> None:
        pane = self.query_one("#remote-pane")
        if self.remote is None:
            pane.border_title = f"Remote {self.remote_name}" if self.remote_name else "Remote"
            pane.border_subtitle = self.remote_note
            return
        pane.border_title = f"Remote {self.remote.spec.display}"
        age = format_age(self.remote.listing.age(self.clock()))
        age = "just now" if age == "now" else f"{age} ago"
        when = f"listed {age}" if self.remote.fresh else f"cached {age}, refreshing…"
        pane.border_subtitle = f"{when}{' · ' + self.remote_note if self.remote_note else ''}"

    # -- both panes ----------------------------------------------------------------------

    def _rows_changed(self) -> None:
        """Rows or their details changed: what is derived from all of them is stale."""
        self._fields = None
        self._column_names = None

    def _columns(self) -> list[str]:
        """The metric columns both trees show; kept until rows or details change (10,000
        rows with distinct values: 30 ms a call, several calls per arrival)."""
        if self._column_names is None:
            views = [v for v in (self.local, self.remote) if v is not None]
            columns: list[str] = []
            for view in views:
                columns += [c for c in metric_columns(view) if c not in columns]  # type: ignore[arg-type]
            self._column_names = columns[:3]
        return self._column_names

    def _show(self, tree: ExpTree, groups: list[GroupView]) -> None:
        """A pane's groups as the filter and sort order shape them."""
        tree.show_groups(shape(groups, self.terms, self.sort_by), self._columns())

    def _reshape(self) -> None:
        if self.local is not None:
            self._show(self.local_tree, self.local.groups)
        if self.remote is not None:
            self._show(self.remote_tree, self.remote.groups)
        self._show_headers()
        self._update_status()
        self.call_after_refresh(self._fit_peek)

    def _refresh_trees(self) -> None:
        columns = self._columns()
        for tree in (self.local_tree, self.remote_tree):
            if tree.wanted_columns != columns:
                tree.wanted_columns = columns  # its watcher relabels: not twice
            else:
                tree.refresh_labels()
        self._show_headers()

    def _show_headers(self) -> None:
        self.query_one("#local-header", Static).update(self.local_tree.header())
        self.query_one("#remote-header", Static).update(self.remote_tree.header())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if not self._alive():
            return
        if event.worker.group == "transfer":
            self._transfer_state(event.worker, event.state)
            return
        if event.state is not WorkerState.ERROR:
            return
        text = error_text(event.worker.error)
        if event.worker.group == "plan":
            title = f"{self.operation.value.capitalize()} failed"
            self.notify(text, title=title, severity="error", timeout=10, markup=False)
            return
        if event.worker.group == "data":
            self.notify(f"Data badges unavailable: {text}", severity="warning", markup=False)
            return
        if event.worker.group == "remote":
            self._pane_ready("remote")  # badges still come for the local pane
            self.remote_note = "unreachable" if self.remote else text
            self._show_remote_title()
            self._update_status()
            title = f"Could not list Git remote '{self.remote_name}'"
        else:
            title = "Could not read the repository"
            self.query_one("#status", Static).update(Text(text, style="bold red"))
        self.notify(text, title=title, severity="error", timeout=10, markup=False)

    # -- reacting to the trees -----------------------------------------------------------

    def on_tree_node_highlighted(self, _event: Tree.NodeHighlighted[object]) -> None:
        if self._alive():
            self._show_cursor_details()

    def on_tree_node_selected(self, event: Tree.NodeSelected[object]) -> None:
        tree = event.control
        if isinstance(event.node.data, GroupView) and isinstance(tree, ExpTree):
            tree.toggle_group(event.node)  # type: ignore[arg-type]
        elif isinstance(event.node.data, MoreRows) and isinstance(tree, ExpTree):
            tree.show_more(event.node)  # type: ignore[arg-type]
        else:
            self.action_details()

    def on_exp_tree_marks_changed(self, _message: ExpTree.MarksChanged) -> None:
        self._update_status()

    def on_descendant_focus(self) -> None:
        self.set_class(self.remote_tree.has_focus, "remote-focused")
        self._show_cursor_details()
        self.call_after_refresh(self._fit_peek)  # below 100 columns the other pane shows

    def on_tree_node_expanded(self) -> None:
        self.call_after_refresh(self._fit_peek)

    def on_tree_node_collapsed(self) -> None:
        self.call_after_refresh(self._fit_peek)

    def _fit_peek(self) -> None:
        """The highlighted experiment's summary in the rows the trees leave empty, when
        the wide layout does not already show its details beside them."""
        if not self._alive():
            return
        peek = self.query_one("#peek", DetailPanel)
        # The screen less its one-line bars: the panes' own size lags a resize by a frame.
        bars = ("#transfer", "#filter", "#status", "KeyFooter")
        room = self.size.height - sum(
            w.outer_size.height for w in map(self.query_one, bars) if w.display
        )
        trees = [t for t in (self.local_tree, self.remote_tree) if t.parent and t.parent.display]
        needed = max((t.last_line + 1 for t in trees), default=0) + PANE_CHROME
        spare = room - max(needed, MIN_PANES)
        show = not self.has_class("wide") and spare >= MIN_PEEK
        if show:
            peek.styles.height = spare
        peek.display = show

    def _show_cursor_details(self) -> None:
        tree = self.focused_tree
        row, group = tree.current_row, tree.current_group
        for panel in self.query(DetailPanel):
            if row is not None:
                panel.show_row(row, group)
            elif group is not None:
                panel.show_group(group)

    def _update_status(self) -> None:
        if self.local is None:
            return
        groups = len(self.local.groups)
        text = Text.assemble(
            (f"{self.local.count} local", "bold"),
            f" in {groups} baseline{'s' if groups != 1 else ''}",
        )
        if self.remote is not None and not self.remote.error:
            shared = sum(len(g.rows) for g in self.remote.groups)
            text.append(f" · {shared} on {self.remote.spec.display}")
        elif self.remote_name:
            failed = self.remote is not None or self.remote_note not in ("", "listing…")
            state = "unreachable" if failed else "listing…" if self.network else "offline"
            text.append(f" · {shown(self.remote_name)} {state}", style="yellow")
        marked = self._marked_rows(self.local_tree) + self._marked_rows(self.remote_tree)
        if marked:
            size = sum(r.state.data_size for r in marked if r.state is not None)
            known = all(r.state is not None for r in marked)
            text.append(f" · {len(marked)} marked", style="bold cyan")
            text.append(f" ({'' if known else '≥'}{format_size(size)})", style="cyan")
        if self.terms:
            # Both panes, counted when shown, not re-filtered per key.
            local, remote = self.local_tree.row_count, self.remote_tree.row_count
            where = f" ({local} local, {remote} remote)" if remote else ""
            text.append(
                f" · filter '{self.query_text}': {local + remote} shown{where}", style="yellow"
            )
        if self.sort_by:
            text.append(f" · sorted by {self.sort_by}", style="yellow")
        if self.remote_news:
            text.append(f" · {self.remote_news}", style="bold green")
        if self.fetching_values:
            text.append(" · fetching values from the DVC remote…", style="dim")
        if not self.local.count:
            text.append(" · no local experiments yet: run 'dvc exp run' or try 'exptui demo'")
        self.query_one("#status", Static).update(text)

    # -- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pane keys belong to the main screen; a modal keeps tab for its own widgets."""
        if action in {"push", "pull", "pick_remote", "apply", "branch", "remove"}:
            return None if self.busy else True  # shown dimmed while a batch runs
        if action == "cancel":
            return True if self.busy else None
        return True

    # -- filter, sort, compare -----------------------------------------------------------------

    def action_filter(self) -> None:
        """/: the filter box, filtering as you type; enter goes back to the pane."""
        box = self.query_one(FilterInput)
        box.returning_to = self.focused_tree
        box.value = self.query_text
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if not isinstance(event.input, FilterInput):
            return
        try:
            self.terms = parse(event.value)
        except QueryError as exc:
            event.input.border_subtitle = str(exc)
            return
        self.query_text = event.value.strip()
        self._reshape()
        named = any(term.field for term in self.terms)
        hints = unknown_fields(self.terms, self._field_names()) if named else []
        event.input.border_subtitle = "; ".join(hints)

    def _field_names(self) -> set[str]:
        """Every key a filter can name on the rows of both panes (details loaded), found
        once per change of the rows, not on every key typed: flattening each row's params
        and metrics is the filter's own cost, and 10,000 rows paid it twice per key."""
        if self._fields is None:
            views = [v for v in (self.local, self.remote) if v is not None]
            self._fields = {k for v in views for g in v.groups for r in g.rows for k in fields(r)}
        return self._fields

    def on_filter_input_done(self, message: FilterInput.Done) -> None:
        box = message.box
        box.display = False
        if message.cleared:
            self.query_text, self.terms = "", []
            self._reshape()
        tree = box.returning_to or self.local_tree
        self._focus_pane(tree)
        if not message.cleared and self.terms and not tree.first_row():
            self.notify(
                f"No experiment matches '{self.query_text}'.", severity="warning", markup=False
            )

    def action_sort(self) -> None:
        """s: sort rows by the next metric column (highest first), then back to unsorted."""
        choices: list[str | None] = [None, *self._columns()]
        at = choices.index(self.sort_by) if self.sort_by in choices else 0
        self.sort_by = choices[(at + 1) % len(choices)]
        self._reshape()
        self.notify(
            f"Sorted by {self.sort_by} (highest first)" if self.sort_by else "Original order",
            timeout=2,
        )

    def action_trend(self) -> None:
        """T: a column with the next step metric's sparkline and last value (the plots'
        y columns, read from Git and the local cache in the background), then none."""
        if self.trends is None:
            self.trends = {}
            self.notify("Reading the plots for a trend column…", timeout=2, markup=False)
            views = [v for v in (self.local, self.remote) if v is not None]
            shas = [r.exp.sha for v in views for g in v.groups for r in g.rows if r.present]
            self.load_trends(list(dict.fromkeys(shas)))
            return
        names = sorted({name for per in self.trends.values() for name in per})
        choices: list[str | None] = [*names, None]
        at = choices.index(self.trend_by) if self.trend_by in choices else -1
        self.trend_by = choices[(at + 1) % len(choices)]
        self._show_trend()

    @work(thread=True, exclusive=True, group="trends", exit_on_error=False, description="trends")
    def load_trends(self, shas: list[str]) -> None:
        self.post_message(self.TrendsLoaded(read_trends(self.path, shas, _cancelled())))

    def on_main_screen_trends_loaded(self, message: TrendsLoaded) -> None:
        if not self._alive():
            return
        self.trends = message.trends
        if not any(self.trends.values()):
            self.notify("No step metrics in these experiments' plots.", markup=False)
            return
        self.action_trend()

    def _show_trend(self) -> None:
        trend = None
        if self.trend_by is not None and self.trends:
            series = {
                sha: per[self.trend_by]
                for sha, per in self.trends.items()
                if per.get(self.trend_by)
            }
            cells = {
                sha: f"{sparkline(values, 10):<10} {format_value(values[-1])}"
                for sha, values in series.items()
            }
            trend = (self.trend_by, cells)
        for tree in (self.local_tree, self.remote_tree):
            tree.show_trend(trend)
        self._show_headers()

    def action_compare(self) -> None:
        """c: the two marked experiments (from either pane) side by side."""
        marked = self._marked_rows(self.local_tree) + self._marked_rows(self.remote_tree)
        unique = list({row.key: row for row in marked}.values())
        if len(unique) != 2:
            self.notify(
                f"Mark exactly two experiments to compare ({len(unique)} marked).",
                severity="warning",
                markup=False,
            )
            return
        self.app.push_screen(CompareScreen(unique[0], unique[1], path=self.path))

    def action_plots(self) -> None:
        """t: the plots of every marked experiment (either pane) overlaid, their common
        baseline dimmed when they share one; or of the highlighted one beside its own."""
        marked = self._marked_rows(self.local_tree) + self._marked_rows(self.remote_tree)
        rows = list({row.key: row for row in marked}.values())
        wanted = [Wanted(row.exp.name, row.exp.sha) for row in rows if row.present]
        baselines = {row.exp.ref.baseline for row in rows}
        shared = self._group(baselines.pop()) if len(baselines) == 1 else None
        if wanted and shared is not None and shared.info is not None:  # their common one
            wanted.append(Wanted(f"{shared.group.label} (baseline)", shared.key, True))
        tree = self.focused_tree
        row, group = tree.current_row, tree.current_group
        if not rows and row is not None and row.present:
            wanted = beside_baseline(row, group)
        if not wanted:
            refresh = live_key(self, "refresh", "R")
            self.notify(
                f"Nothing to plot: highlight or mark experiments ({refresh} peeks at the "
                "remote's first).",
                severity="warning",
                markup=False,
            )
            return
        self.app.push_screen(PlotsScreen(self.path, wanted))

    def _group(self, baseline: str) -> GroupView | None:
        views = [v for v in (self.local, self.remote) if v is not None]
        return next((g for v in views for g in v.groups if g.key == baseline), None)

    def action_details(self) -> None:
        tree = self.focused_tree
        row: ExpRow | None = tree.current_row
        if row is not None:
            self.app.push_screen(DetailScreen(row, tree.current_group, self.clock, self.path))

    def action_refresh(self) -> None:
        """R: reload both panes; failed rows' marks from the last batch are cleared too."""
        self.remote_news = ""
        for tree in (self.local_tree, self.remote_tree):
            tree.clear_statuses()
        self._reload()

    def _reload(self) -> None:
        self.states = CommitStates()  # what a batch changed (pulled data, say) is read anew
        self.ready_panes.clear()
        self.local_listed.clear()
        self.local_refs = None
        self.remote_shown.clear()
        self.local_detailed.clear()
        self.load_local()
        if self.remote_name:
            self.load_remote(self.remote_name)
        else:
            self.ready_panes.add("remote")

    def action_pick_remote(self) -> None:
        remotes = git_remote_names(self.path)
        if not remotes:
            self.notify(
                "No Git remote configured: add one with 'git remote add origin URL'.",
                severity="warning",
                markup=False,
            )
            return

        def chosen(name: str | None) -> None:
            if name and name != self.remote_name:
                self.remote_name, self.remote = name, None
                self._rows_changed()
                self.remote_tree.show_groups([], self._columns())
                self.start_remote()
                self._update_status()  # it named the old remote until the new one answers

        self.app.push_screen(RemotePicker(remotes, self.remote_name), chosen)

    def action_switch_pane(self) -> None:
        target = self.local_tree if self.remote_tree.has_focus else self.remote_tree
        self._focus_pane(target)

    def action_focus_local(self) -> None:
        self._focus_pane(self.local_tree)

    def action_focus_remote(self) -> None:
        self._focus_pane(self.remote_tree)

    def _focus_pane(self, tree: ExpTree) -> None:
        self.set_class(tree is self.remote_tree, "remote-focused")
        self.call_after_refresh(tree.focus)

    # -- push and pull -------------------------------------------------------------------

    def _marked_rows(self, tree: ExpTree) -> list[ExpRow]:
        """A pane's marked rows, in display order, including any a filter hides now."""
        view = self.local if tree is self.local_tree else self.remote
        if not tree.marked or view is None:
            return []
        groups = view.groups
        return [row for group in groups for row in group.rows if row.key in tree.marked]

    def _targets(self, tree: ExpTree) -> list[ExpRef]:
        """The marked rows of a pane, or the row under the cursor when nothing is marked."""
        rows = self._marked_rows(tree)
        if not rows and tree.current_row is not None:
            rows = [tree.current_row]
        return [row.exp.ref for row in rows]

    def action_push(self) -> None:
        self._start_share(Operation.PUSH, self._targets(self.local_tree))

    def action_pull(self) -> None:
        self._start_share(Operation.PULL, self._targets(self.remote_tree))

    def _start_share(self, operation: Operation, refs: list[ExpRef]) -> None:
        if not self.remote_name:
            self.notify(
                "No Git remote: add one with 'git remote add origin URL'.",
                severity="warning",
                markup=False,
            )
            return
        if not refs:
            pane = "local" if operation.uploads else "remote"
            self.notify(
                f"Nothing to {operation}: mark experiments in the {pane} pane with space.",
                severity="warning",
                markup=False,
            )
            return
        self.operation = operation
        self.plan_share(operation, refs, self.remote_name)

    def _session(self) -> Session:
        """A session for one action: the connection the plan opened is the one its run
        uses (one handshake, credentials asked once). Closed by whoever ends the action."""
        return Session(Repository.open(self.path), prompt=self._ask_credentials)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, description="plan")
    def plan_share(self, operation: Operation, refs: list[ExpRef], remote: str) -> None:
        """Plan off the UI thread; the plan (a value) comes back in a message."""
        session = self._session()
        try:
            planner = porcelain.plan_push if operation.uploads else porcelain.plan_pull
            plan = planner(session, remote, refs=refs)
        except BaseException:
            session.repo.close()
            raise
        self.post_message(self.PlanReady(session, plan))

    def on_main_screen_plan_ready(self, message: PlanReady) -> None:
        """Show the plan; only the confirmation's answer starts the run, with the very
        plan on screen (forcing redraws it there, see ConfirmShare)."""
        session = message.session
        if not self._alive():
            session.repo.close()
            return

        def answered(plan: SharePlan | None) -> None:
            if plan is None:
                session.repo.close()
                return
            self.busy, self.board = True, ProgressBoard()
            self.run_share(session, plan, self.board)

        self.app.push_screen(ConfirmShare(message.plan), answered)

    @work(
        thread=True, exclusive=True, group="transfer", exit_on_error=False, description="transfer"
    )
    def run_share(self, session: Session, plan: SharePlan, board: ProgressBoard) -> ShareResult:
        worker = get_current_worker()
        try:
            result = porcelain.run(
                session, plan, progress=board, cancelled=lambda: worker.is_cancelled
            )
        finally:
            session.repo.close()
        assert isinstance(result, ShareResult)
        return result

    # -- remove ----------------------------------------------------------------------------

    def action_remove(self) -> None:
        on_remote = self.remote_tree.has_focus
        refs = self._targets(self.remote_tree if on_remote else self.local_tree)
        if not refs:
            self.notify(
                "Nothing to remove: mark experiments with space.", severity="warning", markup=False
            )
            return
        if on_remote and not self.remote_name:
            return
        remote = self.remote_name if on_remote else None
        names = ", ".join(shown(r.name) for r in refs[:8]) + (" …" if len(refs) > 8 else "")
        where = f"from Git remote '{remote}' (one push)" if remote else "locally"
        question = Text.assemble(
            (f"Remove {len(refs)} experiment{'s' if len(refs) != 1 else ''} {where}?\n", "bold"),
            names,
            ("\nOnly the refs go; cached data and DVC storage are not touched.", "dim"),
        )
        only_copies = [] if on_remote else self._only_here(refs)
        if only_copies:
            listed = ", ".join(shown(r.name) for r in only_copies[:8])
            known = self.remote is not None and not self.remote.error
            where_else = f"on '{self.remote_name}'" if known else "known on any Git remote"
            question.append(
                f"\n{listed}: not {where_else}; removing deletes what may be the only copy.",
                "bold red",
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self.busy, self.operation = True, Operation.REMOVE
                self.remove_refs(refs, remote)

        self.app.push_screen((ConfirmRisky if only_copies else Confirm)(question), answered)

    def _only_here(self, refs: list[ExpRef]) -> list[ExpRef]:
        """The local experiments the remote pane lacks (↑), or all of them while no
        listing says otherwise: removing them may lose the only copy."""
        if self.remote is None or self.remote.error or self.local is None:
            return refs
        sync = {row.exp.ref: row.sync for group in self.local.groups for row in group.rows}
        return [ref for ref in refs if sync.get(ref) is SyncState.LOCAL_ONLY]

    @work(thread=True, exclusive=True, group="transfer", exit_on_error=False, description="remove")
    def remove_refs(self, refs: list[ExpRef], remote: str | None) -> str:
        """Remove locally, or on the Git remote in one push; the cache and DVC storage are
        never touched."""
        session = self._session()
        with session.repo:
            result = porcelain.run(
                session, porcelain.plan_remove(session, refs=refs, remote=remote)
            )
        assert isinstance(result, RefResult)
        gone = result.names(Status.SUCCESS)
        place = f"from Git remote '{remote}'" if remote else "locally"
        return f"Removed {len(gone)} experiment{'s' if len(gone) != 1 else ''} {place}."

    # -- apply and branch ------------------------------------------------------------------

    def _one_target(self) -> ExpRef | None:
        tree = self.focused_tree
        refs = self._targets(tree)
        if len(refs) != 1:
            self.notify(
                "Apply and branch take one experiment: move to it, or mark just one.",
                severity="warning",
                markup=False,
            )
            return None
        return refs[0]

    def action_apply(self) -> None:
        if (ref := self._one_target()) is not None:
            self.operation = Operation.APPLY
            self.plan_workspace(Operation.APPLY, ref)

    def action_branch(self) -> None:
        if (ref := self._one_target()) is not None:
            self.operation = Operation.BRANCH
            self.plan_workspace(Operation.BRANCH, ref)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, description="plan")
    def plan_workspace(self, kind: Operation, ref: ExpRef) -> None:
        """Plan apply or branch off the UI thread; refusals come before any question."""
        session = self._session()
        try:
            self.post_message(self.WorkspacePlanned(session, *_workspace_plan(session, kind, ref)))
        except BaseException:
            session.repo.close()
            raise

    def on_main_screen_workspace_planned(self, message: WorkspacePlanned) -> None:
        """Ask what the plan needs asked, then start the one worker that does it."""
        session, plan = message.session, message.plan
        if not self._alive():
            session.repo.close()
            return
        if isinstance(plan, NeedsPull):
            self._ask_pull_first(session, plan)
        elif isinstance(plan, BranchPlan):
            self._ask_branch_name(session, plan)
        else:
            question = _apply_question(plan, message.stash)
            self._confirm(session, question, lambda: self.run_workspace(session, plan))

    def _confirm(self, session: Session, question: Text, then: Callable[[], object]) -> None:
        """Ask ``question``; yes marks the screen busy and calls ``then`` (which starts a
        worker that closes the session), no closes the session here."""

        def answered(yes: bool | None) -> None:
            if not yes:
                session.repo.close()
                return
            self.busy = True
            then()

        self.app.push_screen(Confirm(question), answered)

    def _ask_pull_first(self, session: Session, needs: NeedsPull) -> None:
        ref, remote = needs.ref, self.remote_name
        if remote is None:
            session.repo.close()
            self.notify(
                f"'{ref.name}' cannot be used here: {needs.why}, and no Git remote is set.",
                severity="error",
                markup=False,
            )
            return
        question = Text.assemble(
            (shown(ref.name), "bold cyan"), f": {needs.why}. Pull it from {remote} first?"
        )

        def pull() -> None:
            self.board = ProgressBoard()
            self.pull_first(session, needs, remote, self.board)

        self._confirm(session, question, pull)

    @work(thread=True, exclusive=True, group="transfer", exit_on_error=False, description="pull")
    def pull_first(
        self, session: Session, needs: NeedsPull, remote: str, board: ProgressBoard
    ) -> None:
        """Pull one experiment (its data too unless only the commit is needed), then plan
        the verb again: its confirmation comes next, in a message."""
        worker = get_current_worker()
        try:
            options = porcelain.ShareOptions(with_data=needs.with_data)
            plan = porcelain.plan_pull(session, remote, refs=[needs.ref], options=options)
            result = porcelain.run(
                session, plan, progress=board, cancelled=lambda: worker.is_cancelled
            )
            assert isinstance(result, ShareResult)
            if result.exit_code:
                raise ExptuiError(
                    f"Pulling '{needs.ref.name}' did not complete; nothing was applied.",
                    "See the pull's messages, or run exptui pull from a shell.",
                )
            planned = _workspace_plan(session, needs.operation, needs.ref)
            if isinstance(planned[0], NeedsPull):
                raise ExptuiError(f"'{needs.ref.name}' still cannot be used: {planned[0].why}.")
        except BaseException:
            session.repo.close()
            raise
        self.post_message(self.WorkspacePlanned(session, *planned))

    def _ask_branch_name(self, session: Session, plan: BranchPlan) -> None:
        def named(name: str | None) -> None:
            if not name:
                session.repo.close()
                return
            self.busy = True
            self.run_workspace(session, plan, name)

        self.app.push_screen(BranchName(plan.ref.name), named)

    @work(
        thread=True, exclusive=True, group="transfer", exit_on_error=False, description="workspace"
    )
    def run_workspace(
        self, session: Session, plan: ApplyPlan | BranchPlan, branch: str | None = None
    ) -> str:
        """Run the confirmed apply, or create the named branch; the toast's text back."""
        with session.repo:
            if isinstance(plan, BranchPlan):
                named = porcelain.plan_branch(session, plan.ref, branch)
                assert isinstance(named, BranchPlan)
                made = porcelain.run(session, named)
                assert isinstance(made, BranchResult)
                name = made.branch
                return f"Git branch '{name}' created from '{plan.ref.name}' (git checkout {name})."
            applied = porcelain.run(session, plan)
        assert isinstance(applied, ApplyResult)
        stashed = " Local changes stashed to refs/exps/apply/stash." if applied.stashed else ""
        if applied.kept_in_stash:
            kept = len(applied.kept_in_stash)
            stashed += f" {kept} untracked file(s) had no room and stay there."
        return f"Applied {plan.ref.name} to the workspace.{stashed}"

    def _transfer_state(self, worker: Worker[object], state: WorkerState) -> None:
        if state in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        self.busy = False
        self.query_one(TransferPanel).hide()
        self.board = None
        for tree in (self.local_tree, self.remote_tree):
            tree.clear_statuses()
        if state is WorkerState.CANCELLED or isinstance(worker.error, TransferCancelled):
            self.notify(
                "Cancelled. Refs of unfinished experiments were not moved; run it again to resume.",
                severity="warning",
                markup=False,
            )
        elif state is WorkerState.ERROR:
            self.notify(
                error_text(worker.error),
                title=f"{self.operation.capitalize()} failed",
                severity="error",
                timeout=10,
                markup=False,
            )
        elif isinstance(worker.result, ShareResult):
            self._announce(worker.result)
        elif isinstance(worker.result, str):
            self.notify(worker.result, markup=False)
        for tree in (self.local_tree, self.remote_tree):
            tree.marked.clear()
        self._reload()

    def _announce(self, result: ShareResult) -> None:
        text, problems = share_headline(result)
        self.notify(
            text,
            severity="warning" if problems else "information",
            timeout=10 if problems else 5,
            markup=False,
        )
        for outcome in result.refs.outcomes:
            if outcome.status in (Status.SUCCESS, Status.UP_TO_DATE):
                continue
            for tree in (self.local_tree, self.remote_tree):
                tree.set_statuses(
                    {outcome.update.ref.ref: ("✗ " + outcome.status.value, "bold red")}
                )

    def _show_progress(self) -> None:
        """Four times a second: the panel and the rows' inline status, from the board."""
        if not self._alive():
            return
        if self.board is None:
            return
        snap = self.board.snapshot()
        if not self.transfers_hidden:
            self.query_one(TransferPanel).show(self.operation, snap)
        glyph = "↑" if self.operation is Operation.PUSH else "↓"
        updates: dict[str, tuple[str, str]] = {}
        for key, item in snap.items.items():
            if item.status == "moving" and item.bytes_total:
                updates[key] = (
                    f"{glyph} {100 * item.bytes_done // item.bytes_total}%",
                    "bold cyan",
                )
            else:
                updates[key] = {
                    "queued": ("⋯", "dim"),
                    "done": ("✓", "bold green"),
                    "failed": ("✗", "bold red"),
                }.get(item.status, ("", ""))
        for tree in (self.local_tree, self.remote_tree):
            tree.set_statuses(updates)

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "transfer")

    def action_toggle_transfers(self) -> None:
        """w: hide the transfer panel for more rows (rows keep their inline status)."""
        self.transfers_hidden = not self.transfers_hidden
        if self.transfers_hidden:
            self.query_one(TransferPanel).hide()


def _workspace_plan(
    session: Session, kind: Operation, ref: ExpRef
) -> tuple[ApplyPlan | BranchPlan | NeedsPull, bool]:
    """The plan of apply or branch, checked, and whether apply would stash local changes."""
    if kind is Operation.BRANCH:
        return porcelain.plan_branch(session, ref), False
    plan = porcelain.plan_apply(session, ref)
    if isinstance(plan, NeedsPull):
        return plan, False
    porcelain.check_apply(session, plan)  # refused before the user is asked
    return plan, has_local_changes(session.repo)


def _apply_question(plan: ApplyPlan, stash: bool) -> Text:
    return Text.assemble(
        ("Apply ", "bold"),
        (shown(plan.ref.name), "bold cyan"),
        " to the workspace? ",
        f"{len(plan.writes)} tracked files written, {len(plan.deletes)} removed, "
        f"{len(plan.outputs)} outputs checked out from the cache.",
        (
            "\nYour local changes will be stashed to refs/exps/apply/stash "
            "(git stash apply refs/exps/apply/stash brings them back)."
            if stash
            else ""
        ),
    )


def error_text(error: BaseException | None) -> str:
    """A failure for a toast: the cause, then the hint on a line of its own (the CLI's
    one line would run them together in a narrow toast), secrets redacted and control
    characters made visible: the text may quote a remote's answer."""
    cause, hint = explain(error or RuntimeError("unknown error"))
    return "\n".join(shown(redact(part)) for part in (cause, hint) if part)


def _cancelled() -> Stop:
    """Whether the calling thread worker was cancelled (its screen closed: the app quit)."""
    worker = get_current_worker()
    return lambda: worker.is_cancelled
