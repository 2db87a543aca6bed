"""The confirmation before a push or pull: it restates core's plan, nothing more or less.

Which experiments, which Git and DVC remotes, how many objects and bytes, what is missing
everywhere, and which experiments diverged, each with its own force toggle (off by
default). Toggling a force derives the new plan from the one shown (``SharePlan.forcing``:
no second round trip) and redraws in place, so the answer is always the very plan on
screen (or None for cancel): a plan confirmed is the plan run.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from core.git.exchange import Action
from core.git.refs import ExpRef
from core.porcelain import SharePlan
from tui.format import shown
from tui.keys import screen_keys
from tui.render import share_summary


class ConfirmShare(ModalScreen[SharePlan | None]):
    """y/enter confirms the plan shown, n/escape cancels; space toggles a force."""

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
    ConfirmShare SelectionList { height: auto; max-height: 8; width: 1fr; }
    """

    def __init__(self, plan: SharePlan) -> None:
        super().__init__()
        self.plan = plan
        self.diverged = plan.refs.diverged

    def compose(self) -> ComposeResult:
        head, table = share_summary(self.plan)
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
                yield SelectionList[int](*self._choices())
            yield Static(Text(self._hint(), style="dim"), id="share-keys")

    def _choices(self) -> list[tuple[Text, int, bool]]:
        """One line per diverged experiment that says what confirming will do to it, so
        on and off differ in words and colour, not only in the checkbox."""
        side = self.plan.operation.replaced_side
        return [
            (
                Text.assemble(
                    (shown(ref.name), "bold"),
                    ("  force: replaces the " + side + " version", "bold red")
                    if ref in self.forced
                    else ("  not forced: left as it is", "dim"),
                ),
                index,
                ref in self.forced,
            )
            for index, ref in enumerate(self.diverged)
        ]

    def _hint(self) -> str:
        """The keys as this screen binds them, shown as the footer would."""
        return f"{screen_keys(self, 'confirm')}: go   {screen_keys(self, 'dismiss(None)')}: cancel"

    def on_mount(self) -> None:
        if self.diverged:
            self.query_one(SelectionList).focus()

    @property
    def forced(self) -> frozenset[ExpRef]:
        return frozenset(u.ref for u in self.plan.refs.updates if u.action is Action.FORCE)

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        """Forcing is a function of the plan already made: redrawn at once, no question
        asked again, and the plan on screen is the one confirming runs."""
        forced = frozenset(self.diverged[i] for i in event.selection_list.selected)
        self.plan = self.plan.forcing(forced)
        head, table = share_summary(self.plan)
        self.query_one("#share-head", Static).update(head)
        self.query_one("#share-table", Static).update(table)
        choices = event.selection_list
        where = choices.highlighted
        with choices.prevent(SelectionList.SelectedChanged):
            choices.clear_options()
            choices.add_options(self._choices())
        choices.highlighted = where

    def action_confirm(self) -> None:
        self.dismiss(self.plan)
