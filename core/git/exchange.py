"""Push, pull and remove experiment refs: select, plan, run (DVC_FORMAT §7.3–§7.5).

The plan is a plain value (``RefPlan``): what ``--dry-run``, ``--json`` and the app's
confirmation all show. Running it takes one connection for the Git phase: one
``send_pack`` for a push or a remote removal, one fetch for a pull (done while planning,
so ancestry and diverged states are exact before anything changes). Local refs are only
ever changed by compare-and-swap, and a diverged ref is never replaced without force.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from dulwich.objects import ZERO_SHA, ObjectID
from dulwich.refs import Ref

from core.errors import ExptuiError, UnknownExperimentError
from core.git.ids import oid, refname
from core.git.refs import EXEC_APPLY, EXPS_PREFIX, ExpRef
from core.git.refstore import read_namespace, write_packed
from core.git.select import resolve_names, select_baselines
from core.git.sync import RemoteListing, SyncState, peek, sync_state
from core.git.transport import Connection, GitRemoteSpec
from core.operation import Operation
from core.project.repo import Repository
from core.workspace.dvclock import dvc_lock


class Action(str, Enum):
    CREATE = "create"
    FAST_FORWARD = "fast-forward"
    UP_TO_DATE = "up-to-date"
    DIVERGED = "diverged"  # skipped: needs force
    FORCE = "force"  # diverged, replaced because forced
    DELETE = "delete"


class Status(str, Enum):
    SUCCESS = "success"
    UP_TO_DATE = "up_to_date"
    DIVERGED = "diverged"
    REJECTED = "rejected"
    INCOMPLETE = "incomplete"  # held back: its data is not complete (data before refs)


_MOVES = (Action.CREATE, Action.FAST_FORWARD, Action.FORCE, Action.DELETE)
PACKED_FROM = 100  # new refs a pull writes as one packed-refs file rather than loose files
HELD = "its data is incomplete, so its ref was not moved (--allow-missing moves it anyway)"
Force = bool | Collection[ExpRef]
"""``True`` forces every diverged ref; a collection forces only those (the app's per-row
toggles); ``False`` forces none."""


def _forced(force: Force, ref: ExpRef) -> bool:
    return force is True or (not isinstance(force, bool) and ref in force)


@dataclass(frozen=True)
class RefUpdate:
    """One ref and what will happen to it at the destination."""

    ref: ExpRef
    new_sha: str | None  # what the destination will hold; None deletes
    old_sha: str | None  # what the destination holds now
    state: SyncState
    action: Action

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.ref.name,
            "baseline": self.ref.baseline,
            "ref": self.ref.ref,
            "state": self.state.value,
            "action": self.action.value,
            "old_sha": self.old_sha,
            "new_sha": self.new_sha,
        }


@dataclass(frozen=True)
class RefPlan:
    """Everything a ref operation will do, decided before it does any of it."""

    operation: Operation
    remote: GitRemoteSpec | None
    updates: tuple[RefUpdate, ...]

    @property
    def moves(self) -> list[RefUpdate]:
        return [u for u in self.updates if u.action in _MOVES]

    @property
    def diverged(self) -> list[ExpRef]:
        """Every ref that needs force, forced in this plan or not."""
        return [u.ref for u in self.updates if u.action in (Action.DIVERGED, Action.FORCE)]

    def forcing(self, force: Force) -> RefPlan:
        """The same plan with ``force`` deciding each diverged ref: no question asked
        again, since a ref's state, not the force, is what planning found out."""
        updates = tuple(
            replace(u, action=Action.FORCE if _forced(force, u.ref) else Action.DIVERGED)
            if u.action in (Action.DIVERGED, Action.FORCE)
            else u
            for u in self.updates
        )
        return replace(self, updates=updates)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "remote": self.remote.display if self.remote else None,
            "url": self.remote.shown_url if self.remote else None,
            "experiments": [u.to_json() for u in self.updates],
        }


@dataclass
class RefOutcome:
    update: RefUpdate
    status: Status
    reason: str = ""

    @property
    def forced(self) -> bool:
        return self.update.action is Action.FORCE and self.status is Status.SUCCESS


@dataclass
class RefResult:
    """What happened to each ref; the three DVC status keys are always present."""

    plan: RefPlan
    outcomes: list[RefOutcome] = field(default_factory=list)

    def names(self, status: Status) -> list[str]:
        return [o.update.ref.name for o in self.outcomes if o.status is status]

    @property
    def exit_code(self) -> int:
        """0: everything asked for happened; 3: some diverged ones skipped; 1: failures."""
        if self.names(Status.REJECTED) or self.names(Status.INCOMPLETE):
            return 1
        return 3 if self.names(Status.DIVERGED) else 0

    def to_json(self) -> dict[str, Any]:
        detail = []
        for outcome in self.outcomes:
            row = outcome.update.to_json()
            row.update(status=outcome.status.value, forced=outcome.forced)
            if outcome.reason:
                row["reason"] = outcome.reason
            detail.append(row)
        return {
            **{s.value: self.names(s) for s in Status},
            "remote": self.plan.remote.display if self.plan.remote else None,
            "url": self.plan.remote.shown_url if self.plan.remote else None,
            "experiments": detail,
        }


# -- selection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What the user typed: names or full refs, ``-A``, ``--rev`` (repeatable), ``-n``."""

    names: tuple[str, ...] = ()
    all_commits: bool = False
    revs: tuple[str, ...] = ()
    num: int = 1


def select_local(repo: Repository, selection: Selection) -> list[ExpRef]:
    """Local experiments: names replace the rev selection, and ``-A`` adds all (push)."""
    local = [exp.ref for exp in repo.experiments()]
    chosen: list[ExpRef] = []
    if selection.names:
        chosen = resolve_names(selection.names, local, repo.head_sha())
    if selection.all_commits:
        chosen += local
    elif not selection.names:
        baselines = select_baselines(repo, selection.revs, selection.num)
        chosen = [ref for ref in local if baselines.includes(ref.baseline)]
    return list(dict.fromkeys(chosen))


def select_remote(repo: Repository, listing: RemoteListing, selection: Selection) -> list[ExpRef]:
    """Remote experiments: ``-A`` wins, else names resolved against the remote's refs,
    else the remote refs whose baseline is in the locally resolved ``--rev``/``-n`` set."""
    remote = sorted(listing.refs)
    if selection.all_commits:
        return remote
    if selection.names:
        try:
            return resolve_names(
                selection.names, remote, repo.head_sha(), where=listing.remote.display
            )
        except UnknownExperimentError as exc:
            raise UnknownExperimentError(
                exc.message.replace(" is not an experiment in", " does not exist in").replace(
                    " are not experiments in", " do not exist in"
                ),
                exc.hint,
            ) from None
    baselines = select_baselines(repo, selection.revs, selection.num)
    return [ref for ref in remote if baselines.includes(ref.baseline)]


def require_remove_selection(selection: Selection) -> None:
    """``remove`` takes names or selector flags, never both, and at least one."""
    selectors = selection.all_commits or bool(selection.revs)
    if selection.names and selectors:
        raise ExptuiError(
            "Give experiment names or --rev/-A, not both.",
            "Names pick single experiments; --rev and -A pick whole baselines.",
        )
    if not selection.names and not selectors:
        raise ExptuiError(
            "Nothing selected to remove.",
            "Provide experiment names, or use --rev REV or -A/--all-commits.",
        )


# -- planning -----------------------------------------------------------------------------


def _action(state: SyncState, force: bool, fast_forward: SyncState) -> Action:
    if state is SyncState.IN_SYNC:
        return Action.UP_TO_DATE
    if state in (SyncState.LOCAL_ONLY, SyncState.REMOTE_ONLY):
        return Action.CREATE
    if state is fast_forward:
        return Action.FAST_FORWARD
    return Action.FORCE if force else Action.DIVERGED


def plan_push(
    repo: Repository, listing: RemoteListing, refs: Sequence[ExpRef], force: Force = False
) -> RefPlan:
    """Local refs onto the remote; a remote SHA that is not an ancestor is diverged."""
    local = {exp.ref: exp.sha for exp in repo.experiments()}
    updates = []
    for ref in refs:
        remote_sha = listing.refs.get(ref)
        state = sync_state(repo, local[ref], remote_sha)
        action = _action(state, _forced(force, ref), fast_forward=SyncState.AHEAD)
        updates.append(RefUpdate(ref, local[ref], remote_sha, state, action))
    return RefPlan(Operation.PUSH, listing.remote, tuple(updates))


def plan_pull(
    repo: Repository,
    conn: Connection,
    listing: RemoteListing,
    refs: Sequence[ExpRef],
    force: Force = False,
) -> RefPlan:
    """Remote refs into the local repository. The commits are fetched first (one fetch,
    into the peek namespace), so the plan knows exactly which pulls fast-forward."""
    selected = RemoteListing(listing.remote, {r: listing.refs[r] for r in refs}, listing.fetched_at)
    if selected.refs:
        peek(repo, conn, selected, prune=False)
    local = {exp.ref: exp.sha for exp in repo.experiments()}
    updates = []
    for ref in refs:
        remote_sha = listing.refs[ref]
        state = sync_state(repo, local.get(ref), remote_sha)
        action = _action(state, _forced(force, ref), fast_forward=SyncState.BEHIND)
        updates.append(RefUpdate(ref, remote_sha, local.get(ref), state, action))
    return RefPlan(Operation.PULL, listing.remote, tuple(updates))


def plan_remove_local(repo: Repository, refs: Sequence[ExpRef]) -> RefPlan:
    local = {exp.ref: exp.sha for exp in repo.experiments()}
    updates = tuple(
        RefUpdate(ref, None, local[ref], SyncState.LOCAL_ONLY, Action.DELETE) for ref in refs
    )
    return RefPlan(Operation.REMOVE, None, updates)


def plan_remove_remote(listing: RemoteListing, refs: Sequence[ExpRef]) -> RefPlan:
    updates = tuple(
        RefUpdate(ref, None, listing.refs[ref], SyncState.REMOTE_ONLY, Action.DELETE)
        for ref in refs
    )
    return RefPlan(Operation.REMOVE, listing.remote, updates)


# -- running ------------------------------------------------------------------------------


def run_push(
    repo: Repository, conn: Connection, plan: RefPlan, hold: Collection[ExpRef] = ()
) -> RefResult:
    """Send every moving ref in one ``send_pack``. Refs that moved on the remote since
    planning are re-checked inside the push, so a race never overwrites someone's work.
    Refs in ``hold`` (their data did not make it) are not sent."""
    result = RefResult(plan)
    pending = {refname(u.ref.ref): u for u in plan.moves if u.ref not in hold}
    late: dict[Ref, Status] = {}

    def update_refs(remote_refs: dict[Ref, ObjectID]) -> dict[Ref, ObjectID]:
        wanted = dict(remote_refs)
        for name, update in pending.items():
            current = remote_refs.get(name)
            now = current.decode() if current and current != ZERO_SHA else None
            if now != update.old_sha and update.action is not Action.FORCE:
                state = sync_state(repo, update.new_sha, now)
                if state is SyncState.IN_SYNC:
                    late[name] = Status.UP_TO_DATE
                    continue
                if state not in (SyncState.LOCAL_ONLY, SyncState.AHEAD):
                    late[name] = Status.DIVERGED
                    continue
            wanted[name] = oid(update.new_sha) if update.new_sha else ZERO_SHA
        return wanted

    statuses: dict[bytes, str | None] = {}
    if pending:
        sent = conn.send_pack(update_refs, repo.git.generate_pack_data)
        statuses = dict(sent.ref_status or {})
        conn.approve_credentials()
    for update in plan.updates:
        if update.ref in hold and update.action in _MOVES:
            result.outcomes.append(RefOutcome(update, Status.INCOMPLETE, HELD))
            continue
        result.outcomes.append(_outcome(update, pending, late, statuses))
    return result


def _outcome(
    update: RefUpdate,
    pending: dict[Ref, RefUpdate],
    late: dict[Ref, Status],
    statuses: dict[bytes, str | None],
) -> RefOutcome:
    name = refname(update.ref.ref)
    if update.action is Action.UP_TO_DATE:
        return RefOutcome(update, Status.UP_TO_DATE)
    if update.action is Action.DIVERGED:
        return RefOutcome(update, Status.DIVERGED)
    if name in late:
        return RefOutcome(update, late[name], "the remote ref changed while pushing")
    reason = statuses.get(name)
    if name in pending and reason:
        return RefOutcome(update, Status.REJECTED, reason)
    return RefOutcome(update, Status.SUCCESS)


def run_remove_remote(repo: Repository, conn: Connection, plan: RefPlan) -> RefResult:
    """Delete every selected ref in one ``send_pack``; nothing changes locally."""
    return run_push(repo, conn, plan)


def run_pull(repo: Repository, plan: RefPlan, hold: Collection[ExpRef] = ()) -> RefResult:
    """Set the local refs the plan moves (objects were fetched while planning), except
    those in ``hold``. Never touches HEAD, branches, the index or the workspace."""
    return _move_local_refs(repo, plan, hold)


def _move_local_refs(repo: Repository, plan: RefPlan, hold: Collection[ExpRef]) -> RefResult:
    """Create, update or delete local refs as planned, each by compare-and-swap, under
    DVC's repository lock as ``dvc exp pull`` and ``dvc exp remove`` hold it. (A pull's
    data phase does not: cache writes are atomic and content-addressed, and holding the
    lock for a long download would make a running ``dvc exp run`` fail to commit.)"""
    with dvc_lock(repo.dvc_dir):
        return _swap_planned_refs(repo, plan, hold)


def _swap_planned_refs(repo: Repository, plan: RefPlan, hold: Collection[ExpRef]) -> RefResult:
    result = RefResult(plan)
    creations = [u for u in plan.updates if u.action is Action.CREATE and u.ref not in hold]
    created = _create_packed(repo, creations) if len(creations) >= PACKED_FROM else {}
    for update in plan.updates:
        if update.ref in hold and update.action in _MOVES:
            result.outcomes.append(RefOutcome(update, Status.INCOMPLETE, HELD))
            continue
        if update.action not in _MOVES:
            status = Status.UP_TO_DATE if update.action is Action.UP_TO_DATE else Status.DIVERGED
            result.outcomes.append(RefOutcome(update, status))
            continue
        ok = created.get(update.ref)
        if ok is None:
            ok = _swap_local_ref(repo, update.ref.ref, update.old_sha, update.new_sha)
        result.outcomes.append(
            RefOutcome(update, Status.SUCCESS)
            if ok
            else RefOutcome(update, Status.REJECTED, "the local ref changed meanwhile")
        )
    return result


def _create_packed(repo: Repository, creations: list[RefUpdate]) -> dict[ExpRef, bool]:
    """Many new refs in one packed-refs write, as ``git clone`` leaves them: dulwich
    writes and fsyncs one loose file per ref, and 100,000 pulled refs took minutes.
    A name that exists by now is refused, as ``add_if_new`` would (read under DVC's
    lock, which ``dvc exp`` takes to write these refs too)."""
    existing = read_namespace(repo.git, EXPS_PREFIX)
    fresh = {u.ref: u.new_sha for u in creations if u.ref.ref not in existing and u.new_sha}
    write_packed(repo.git, {refname(ref.ref): oid(sha) for ref, sha in fresh.items()})
    return {u.ref: u.ref in fresh for u in creations}


def run_remove_local(repo: Repository, plan: RefPlan) -> RefResult:
    """Delete local refs; DVC's EXEC_APPLY goes too when it points at a removed one."""
    result = _move_local_refs(repo, plan, ())
    removed = {o.update.old_sha for o in result.outcomes if o.status is Status.SUCCESS}
    exec_apply = repo.ref_sha(EXEC_APPLY)
    if exec_apply and exec_apply in removed:
        repo.git.refs.remove_if_equals(refname(EXEC_APPLY), oid(exec_apply))
    return result


def _swap_local_ref(repo: Repository, ref: str, old: str | None, new: str | None) -> bool:
    refs = repo.git.refs
    name = refname(ref)
    if new is None:
        return bool(refs.remove_if_equals(name, oid(old) if old else None))
    if old is None:
        return bool(refs.add_if_new(name, oid(new)))
    return bool(refs.set_if_equals(name, oid(old), oid(new)))


# -- rename -----------------------------------------------------------------------------------


def plan_rename(
    old: ExpRef,
    sha: str,
    new_name: str,
    existing: dict[ExpRef, str],
    force: bool,
    remote: GitRemoteSpec | None = None,
) -> RefPlan:
    """Rename = the new ref on the same commit, then the old one deleted. ``existing`` are
    the refs where the rename happens (local, or the remote's listing); an existing new
    name is refused unless forced (DVC_FORMAT §3.3)."""
    new = ExpRef.create(old.baseline, new_name)
    if new in existing and not force:
        raise ExptuiError(
            f"Experiment '{new_name}' already exists under this baseline.",
            "Pick another name, or pass -f to replace it.",
        )
    state = SyncState.IN_SYNC if existing.get(new) == sha else SyncState.LOCAL_ONLY
    action = (
        Action.UP_TO_DATE
        if state is SyncState.IN_SYNC
        else (Action.FORCE if new in existing else Action.CREATE)
    )
    updates = (
        RefUpdate(new, sha, existing.get(new), state, action),
        RefUpdate(old, None, existing[old], SyncState.IN_SYNC, Action.DELETE),
    )
    return RefPlan(Operation.RENAME, remote, updates)


def run_rename_local(repo: Repository, plan: RefPlan) -> RefResult:
    """New ref first, old one deleted only if the new one is in place."""
    with dvc_lock(repo.dvc_dir):
        return _rename_refs(repo, plan)


def _rename_refs(repo: Repository, plan: RefPlan) -> RefResult:
    create, delete = plan.updates
    result = RefResult(plan)
    made = create.action is Action.UP_TO_DATE or _swap_local_ref(
        repo, create.ref.ref, create.old_sha, create.new_sha
    )
    result.outcomes.append(
        RefOutcome(
            create,
            Status.SUCCESS if made else Status.REJECTED,
            "" if made else "the new ref changed meanwhile",
        )
    )
    if made:
        gone = _swap_local_ref(repo, delete.ref.ref, delete.old_sha, None)
        result.outcomes.append(RefOutcome(delete, Status.SUCCESS if gone else Status.REJECTED))
    else:
        result.outcomes.append(RefOutcome(delete, Status.REJECTED, "kept: the rename failed"))
    return result


def run_rename_remote(repo: Repository, conn: Connection, plan: RefPlan) -> RefResult:
    """Both updates in one push: the remote never has neither name."""
    return run_push(repo, conn, plan)
