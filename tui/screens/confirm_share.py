"""The confirmation before a push or pull: it restates core's plan, nothing more or less.

Which experiments, which Git and DVC remotes, how many objects and bytes, what is missing
everywhere, and which experiments diverged, each with its own force toggle (off by
default). ``y``/enter confirms, ``n``/escape cancels. The answer is the set of refs to
force, or None.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
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


class ConfirmShare(ModalScreen[frozenset[ExpRef] | None]):
    """y/enter confirms (with the forces toggled below), n/escape cancels."""

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

    def __init__(self, plan: SharePlan) -> None:
        super().__init__()
        self.plan = plan
        self.diverged = [u.ref for u in plan.refs.updates if u.action is Action.DIVERGED]

    def compose(self) -> ComposeResult:
        head, table = summary(self.plan)
        with Vertical():
            yield Static(head)
            with VerticalScroll():
                yield Static(table)
            if self.diverged:
                yield Static(Text("Diverged: space toggles force (replaces the other side)",
                                  style="bold red"))  # fmt: skip
                yield SelectionList[int](*((r.name, n) for n, r in enumerate(self.diverged)))
            yield Static(Text("y / enter: go   n / escape: cancel", style="dim"))

    def on_mount(self) -> None:
        if self.diverged:
            self.query_one(SelectionList).focus()

    def action_confirm(self) -> None:
        forced: set[ExpRef] = set()
        if self.diverged:
            chosen = self.query_one(SelectionList).selected
            forced = {self.diverged[i] for i in chosen}
        self.dismiss(frozenset(forced))
