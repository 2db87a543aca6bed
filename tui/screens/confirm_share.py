"""The confirmation before a push or pull: it restates core's plan, nothing more or less.

Which experiments, which Git and DVC remotes, how many objects and bytes, what is missing
everywhere, and which experiments diverged, each with its own force toggle (off by
default). Toggling a force plans again and redraws the summary in place, so the answer
is always the very plan on screen (or None for cancel): a plan confirmed is the plan run.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from core.ops import Action
from core.refs import ExpRef
from core.sharing import SharePlan
from tui.format import format_size, shown

MAX_ROWS = 12


def summary(plan: SharePlan) -> tuple[Text, Table]:
    """The headline and one row per experiment, from the plan value."""
    refs = plan.refs
    data = plan.data.items if plan.data else []
    verb = "Push" if refs.operation == "push" else "Pull"
    prep = "to" if refs.operation == "push" else "from"
    remotes = sorted({shown(i.remote.name) for i in data})
    objects = sum(len(i.to_move) for i in data)
    size = sum(i.bytes_to_move for i in data)
    head = Text.assemble(
        (f"{verb} {len(refs.updates)} experiment{'s' if len(refs.updates) != 1 else ''} ", "bold"),
        f"{prep} Git remote ",
        (shown(refs.remote.display) if refs.remote else "?", "bold cyan"),
    )
    if plan.data is None:
        head.append(" (refs only)")
    else:
        where = ", ".join(remotes) or "no DVC remote needed"
        head.append(f" and DVC remote {where}: {objects} objects, {format_size(size)}")
    table = Table.grid(padding=(0, 1))
    for column in ("action", "experiment", "data"):
        table.add_column(column, no_wrap=column != "experiment")
    for update in refs.updates[:MAX_ROWS]:
        items = [i for i in data if i.ref == update.ref]
        moving = sum(len(i.to_move) for i in items)
        missing = sum(len(i.required_missing) for i in items)
        note = f"{moving} obj, {format_size(sum(i.bytes_to_move for i in items))}"
        if missing:
            note += f", {missing} missing: ref held"
        style = "bold red" if update.action is Action.DIVERGED else ""
        table.add_row(Text(update.action.value, style=style), Text(shown(update.ref.name)), note)
    if len(refs.updates) > MAX_ROWS:
        table.add_row("", Text(f"and {len(refs.updates) - MAX_ROWS} more", style="dim"), "")
    return head, table


Replan = Callable[[frozenset[ExpRef]], SharePlan]
"""The same push or pull, planned again with these diverged refs forced."""


class ConfirmShare(ModalScreen[SharePlan | None]):
    """y/enter confirms the plan shown, n/escape cancels; a force toggle re-plans."""

    BINDINGS = [
        Binding("y,enter", "confirm", "Yes", priority=True),
        Binding("n,escape", "dismiss(None)", "No"),
    ]
    DEFAULT_CSS = """
    ConfirmShare { align: center middle; }
    ConfirmShare > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ConfirmShare VerticalScroll { height: auto; max-height: 14; }
    ConfirmShare SelectionList { height: auto; max-height: 8; }
    """

    def __init__(self, plan: SharePlan, replan: Replan | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.replan = replan
        self.planning = False  # a toggled force is being planned: nothing to confirm yet
        self.diverged = [u.ref for u in plan.refs.updates if u.action is Action.DIVERGED]

    def compose(self) -> ComposeResult:
        head, table = summary(self.plan)
        with Vertical():
            yield Static(head, id="share-head")
            with VerticalScroll():
                yield Static(table, id="share-table")
            if self.diverged:
                yield Static(
                    Text(
                        "Diverged: space toggles force (replaces the other side)", style="bold red"
                    )
                )
                yield SelectionList[int](*((r.name, n) for n, r in enumerate(self.diverged)))
            yield Static(Text("y / enter: go   n / escape: cancel", style="dim"))

    def on_mount(self) -> None:
        if self.diverged:
            self.query_one(SelectionList).focus()

    def _forced(self) -> frozenset[ExpRef]:
        if not self.diverged:
            return frozenset()
        return frozenset(self.diverged[i] for i in self.query_one(SelectionList).selected)

    def on_selection_list_selected_changed(self, _event: SelectionList.SelectedChanged) -> None:
        if self.replan is not None:
            self.planning = True
            self.query_one("#share-head", Static).update(Text("planning again…", style="dim"))
            self._plan_again(self._forced())

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _plan_again(self, forced: frozenset[ExpRef]) -> None:
        assert self.replan is not None
        plan = self.replan(forced)  # asks the remotes again: off the UI thread
        self.app.call_from_thread(self._show, plan, forced)

    def _show(self, plan: SharePlan, forced: frozenset[ExpRef]) -> None:
        if forced != self._forced():
            return  # toggled again meanwhile: that newer plan is on its way
        self.plan, self.planning = plan, False
        head, table = summary(plan)
        self.query_one("#share-head", Static).update(head)
        self.query_one("#share-table", Static).update(table)

    def action_confirm(self) -> None:
        if not self.planning:
            self.dismiss(self.plan)
