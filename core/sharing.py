"""Push and pull as users mean them: Git refs and DVC data together, data first.

This composes :mod:`core.ops` (refs) and :mod:`core.transfer` (objects) into one plan and
one run, so the command line and the app share exactly the same behaviour: plan (refs,
then the objects each moving experiment needs), run the data phase, then move only the
refs whose data made it (unless ``allow_missing``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from core import ops
from core.gitsync import list_remote
from core.ops import Action, Force, RefPlan, RefResult
from core.progress import ProgressBoard
from core.refs import ExpRef
from core.repo import Repository
from core.transfer import DataPlan, ExpTransfer, Transfer, collect
from core.transport import Connection


@dataclass
class SharePlan:
    """The ref plan and, unless refs only, the data plan of one push or pull."""

    refs: RefPlan
    transfer: Transfer | None

    @property
    def data(self) -> DataPlan | None:
        return self.transfer.plan if self.transfer else None

    def to_json(self) -> dict[str, Any]:
        return {**self.refs.to_json(), "data": self.data.to_json() if self.data else []}


@dataclass
class ShareResult:
    refs: RefResult
    data: list[ExpTransfer] = field(default_factory=list)
    with_data: bool = True

    @property
    def exit_code(self) -> int:
        return self.refs.exit_code


def plan_share(
    repo: Repository,
    conn: Connection,
    operation: str,
    refs: Collection[ExpRef] | None = None,
    selection: ops.Selection | None = None,
    force: Force = False,
    dvc_remote: str | None = None,
    jobs: int | None = None,
    with_data: bool = True,
    board: ProgressBoard | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    verify: bool = False,
) -> SharePlan:
    """Plan a push or pull of ``refs`` (or of what ``selection`` names) over ``conn``.
    The data plan is computed too (existence checks on the DVC remote), so a dry run or a
    confirmation can say how many objects and bytes will move."""
    if operation == "push":
        chosen = (
            list(refs) if refs is not None else ops.select_local(repo, selection or ops.Selection())
        )
        listing = list_remote(conn)
        ref_plan = ops.plan_push(repo, listing, chosen, force)
    else:
        listing = list_remote(conn)
        chosen = (
            list(refs)
            if refs is not None
            else ops.select_remote(repo, listing, selection or ops.Selection())
        )
        ref_plan = ops.plan_pull(repo, conn, listing, chosen, force)
    transfer = None
    if with_data:
        moving = [
            (u.ref, u.new_sha or "") for u in ref_plan.updates if u.action is not Action.DIVERGED
        ]
        items = collect(repo, moving, operation, dvc_remote)
        transfer = Transfer(
            repo, items, operation, board=board, jobs=jobs, cancelled=cancelled, verify=verify
        )
        transfer.run_plan()
    return SharePlan(ref_plan, transfer)


def run_share(
    repo: Repository, conn: Connection, plan: SharePlan, allow_missing: bool = False
) -> ShareResult:
    """Data first; then the refs whose data is complete (all of them with allow_missing)."""
    moved = plan.transfer.run() if plan.transfer else []
    hold = set() if allow_missing else {m.item.ref for m in moved if not m.complete}
    if plan.refs.operation == "push":
        result = ops.run_push(repo, conn, plan.refs, hold)
    else:
        result = ops.run_pull(repo, plan.refs, hold)
    return ShareResult(result, moved, plan.transfer is not None)
