"""exptui's verbs, as the commands they mirror: plan one, show the plan, run the plan.

Every verb the command line and the app offer is one ``plan_*`` function here returning a
frozen plan value, and one :func:`run` taking that value. The plan holds facts (refs with
their sync state, objects and bytes per experiment, what is missing), never a live engine:
``--dry-run``, ``--json`` and the app's confirmation all render it, and :func:`run` does
exactly what it says. Runtime concerns (progress board, cancellation, jobs, verification)
are arguments of :func:`run`, not of the plan.

Below this module, one concern each, a folder per layer: :mod:`core.git` (ref exchange,
selection, the connection), :mod:`core.data` (which objects, moving them, the stores),
:mod:`core.project` (what a commit says), :mod:`core.workspace` (apply and its writes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from core.data.runcache import RunCacheResult, share_run_cache
from core.data.transfer import DataPlan, ExpTransfer, collect, plan_data, run_data
from core.errors import ExptuiError, UnknownExperimentError
from core.git import exchange as ops
from core.git.branching import create_branch
from core.git.exchange import Action, Force, RefPlan, RefResult, Selection
from core.git.refs import ExpRef, validate_branch_name
from core.git.select import resolve_experiment
from core.git.sync import RemoteListing, list_remote
from core.git.transport import Connection, CredentialPrompt, default_remote, resolve_remote
from core.operation import Operation
from core.progress import ProgressBoard
from core.project.repo import Repository
from core.workspace import apply as applying

__all__ = [
    "ApplyPlan",
    "BranchPlan",
    "BranchResult",
    "NeedsPull",
    "Operation",
    "RefPlan",
    "Selection",
    "Session",
    "ShareOptions",
    "SharePlan",
    "ShareResult",
    "open_session",
    "plan_apply",
    "plan_branch",
    "plan_pull",
    "plan_push",
    "plan_remove",
    "plan_rename",
    "run",
]

ApplyPlan = applying.ApplyPlan


class Session:
    """One repository and the Git connections of one user action. A connection made while
    planning is the one the run uses: one handshake, and credentials asked for once."""

    def __init__(self, repo: Repository, prompt: CredentialPrompt | None = None) -> None:
        self.repo = repo
        self.prompt = prompt
        self._connections: dict[str, Connection] = {}

    def connection(self, remote: str) -> Connection:
        if remote not in self._connections:
            spec = resolve_remote(self.repo, remote)
            self._connections[remote] = Connection(self.repo, spec, prompt=self.prompt)
        return self._connections[remote]

    def remote_hint(self) -> str:
        """The Git remote a hint should name: the default one, else a placeholder."""
        return default_remote(self.repo) or "<git remote>"


@contextmanager
def open_session(path: Path | str, prompt: CredentialPrompt | None = None) -> Iterator[Session]:
    with Repository.open(path) as repo:
        yield Session(repo, prompt)


# -- push and pull ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareOptions:
    """The flags of ``push`` and ``pull``, as ``dvc exp push/pull`` has them."""

    force: Force = False
    dvc_remote: str | None = None  # -r: the DVC remote for outputs not bound to one
    with_data: bool = True  # False: --no-cache, refs only
    run_cache: bool = False
    allow_missing: bool = False


@dataclass(frozen=True)
class SharePlan:
    """A push or pull: the refs, and the data facts of every selected experiment, also
    those whose ref diverged (so forcing one is :meth:`forcing`, not a second planning)."""

    remote: str
    refs: RefPlan
    facts: DataPlan | None  # None: refs only (--no-cache)
    options: ShareOptions

    @property
    def operation(self) -> Operation:
        return self.refs.operation

    @property
    def data(self) -> DataPlan | None:
        """The data this plan moves: every selected experiment's but the diverged ones
        left unforced (DVC moves an up-to-date ref's missing data too)."""
        if self.facts is None:
            return None
        kept = {u.ref for u in self.refs.updates if u.action is not Action.DIVERGED}
        return self.facts.only(kept)

    def forcing(self, force: Force) -> SharePlan:
        """The same plan with ``force`` (True, or a set of refs) deciding each diverged
        ref. Cheap and pure: the app re-draws its confirmation with it on every toggle."""
        return replace(self, refs=self.refs.forcing(force))

    def to_json(self) -> dict[str, Any]:
        data = self.data
        return {
            **self.refs.to_json(),
            "data": data.to_json() if data else [],
            "objects_to_move": data.objects_to_move if data else 0,
            "bytes_to_move": data.bytes_to_move if data else 0,
            "bytes_estimated": data.estimates if data else False,
            "run_cache": self.options.run_cache,
        }


@dataclass
class ShareResult:
    plan: SharePlan
    refs: RefResult
    data: list[ExpTransfer] = field(default_factory=list)
    run_cache: RunCacheResult | None = None

    @property
    def with_data(self) -> bool:
        return self.plan.facts is not None

    @property
    def moved_files(self) -> int:
        return sum(t.moved for t in self.data)

    @property
    def moved_bytes(self) -> int:
        return sum(t.moved_bytes for t in self.data)

    @property
    def exit_code(self) -> int:
        return self.refs.exit_code or (1 if self.run_cache and self.run_cache.rejected else 0)

    def to_json(self) -> dict[str, Any]:
        """DVC's status keys, per experiment what moved and what did not, and why."""
        payload = self.refs.to_json()
        key = self.plan.operation.moved
        by_ref: dict[str, list[ExpTransfer]] = {}
        for transfer in self.data:
            by_ref.setdefault(transfer.item.ref.ref, []).append(transfer)
        for row in payload["experiments"]:
            parts = by_ref.get(row["ref"], [])
            row[key] = {
                "files": sum(p.moved for p in parts),
                "bytes": sum(p.moved_bytes for p in parts),
            }
            row["missing"] = sorted(k.oid for p in parts for k in p.item.missing)
            row["failed"] = {oid: why for p in parts for oid, why in p.failed.items()}
            row["dvc_remotes"] = sorted({p.item.remote.name for p in parts})
        payload[key] = {"files": self.moved_files, "bytes": self.moved_bytes}
        payload["data"] = {"transferred": self.with_data}
        if self.run_cache is not None:
            payload["run_cache"] = asdict(self.run_cache)
        return payload


def plan_push(
    session: Session,
    remote: str,
    selection: Selection | None = None,
    refs: Sequence[ExpRef] | None = None,
    options: ShareOptions = ShareOptions(),
) -> SharePlan:
    """Local experiments (``refs``, else what ``selection`` names) onto a Git remote and
    their data onto its DVC remotes; asks the remotes what they have, changes nothing."""
    repo = session.repo
    conn = session.connection(remote)
    chosen = list(refs) if refs is not None else ops.select_local(repo, selection or Selection())
    return _share_plan(
        session, remote, ops.plan_push(repo, list_remote(conn), chosen, options.force), options
    )


def plan_pull(
    session: Session,
    remote: str,
    selection: Selection | None = None,
    refs: Sequence[ExpRef] | None = None,
    options: ShareOptions = ShareOptions(),
) -> SharePlan:
    """Remote experiments into the local repository and their data into the cache. The
    commits are fetched while planning (no ref moves), so states are exact."""
    repo = session.repo
    conn = session.connection(remote)
    listing = list_remote(conn)
    if refs is not None:
        chosen = _present(listing, refs)
    else:
        chosen = ops.select_remote(repo, listing, selection or Selection())
    ref_plan = ops.plan_pull(repo, conn, listing, chosen, options.force)
    return _share_plan(session, remote, ref_plan, options)


def _share_plan(session: Session, remote: str, refs: RefPlan, options: ShareOptions) -> SharePlan:
    """The data facts of every selected experiment, diverged ones included."""
    facts = None
    if options.with_data:
        wanted = [(u.ref, u.new_sha or "") for u in refs.updates]
        items = collect(session.repo, wanted, refs.operation, options.dvc_remote, True)
        facts = plan_data(session.repo, items, refs.operation)
    return SharePlan(remote, refs, facts, options)


def _present(listing: RemoteListing, refs: Sequence[ExpRef]) -> list[ExpRef]:
    """The app's rows name refs it listed; one gone from the remote since is an error."""
    gone = [r.name for r in refs if r not in listing.refs]
    if gone:
        raise UnknownExperimentError(
            f"{', '.join(gone[:3])} no longer exist on {listing.remote.display}.",
            "Refresh the remote pane (r) and choose again.",
        )
    return list(refs)


def _run_share(
    session: Session,
    plan: SharePlan,
    board: ProgressBoard | None,
    cancelled: Callable[[], bool],
    jobs: int | None,
    verify: bool,
) -> ShareResult:
    """Data first; then the refs whose data is complete (all of them with allow_missing);
    then, if asked, the run-cache."""
    repo = session.repo
    data = plan.data
    moved = (
        run_data(repo, data, board=board, jobs=jobs, cancelled=cancelled, verify=verify)
        if data is not None
        else []
    )
    hold = set() if plan.options.allow_missing else {m.item.ref for m in moved if not m.complete}
    if plan.operation.uploads:
        refs = ops.run_push(repo, session.connection(plan.remote), plan.refs, hold)
    else:
        refs = ops.run_pull(repo, plan.refs, hold)
    options = plan.options
    runs = share_run_cache(repo, plan.operation, options.dvc_remote) if options.run_cache else None
    return ShareResult(plan, refs, moved, runs)


# -- remove and rename -----------------------------------------------------------------------


def plan_remove(
    session: Session,
    selection: Selection | None = None,
    refs: Sequence[ExpRef] | None = None,
    remote: str | None = None,
) -> RefPlan:
    """Experiment refs removed locally, or on the Git remote ``remote`` in one push. Only
    refs: the cache and DVC storage are never touched (as ``dvc exp remove``)."""
    repo = session.repo
    if refs is None:
        selection = selection or Selection()
        ops.require_remove_selection(selection)
    if remote is None:
        chosen = (
            list(refs) if refs is not None else ops.select_local(repo, selection or Selection())
        )
        return ops.plan_remove_local(repo, chosen)
    listing = list_remote(session.connection(remote))
    if refs is not None:
        chosen = [r for r in refs if r in listing.refs]  # gone already: nothing to do
    else:
        chosen = ops.select_remote(repo, listing, selection or Selection())
    return ops.plan_remove_remote(listing, chosen)


def plan_rename(
    session: Session, experiment: str, new_name: str, remote: str | None = None, force: bool = False
) -> RefPlan:
    """One experiment renamed under its baseline, locally or on the Git remote."""
    repo = session.repo
    if remote is not None:
        listing = list_remote(session.connection(remote))
        existing, where = dict(listing.refs), listing.remote
        (ref,) = ops.select_remote(repo, listing, Selection((experiment,)))
    else:
        existing = {e.ref: e.sha for e in repo.experiments()}
        where = None
        (ref,) = ops.select_local(repo, Selection((experiment,)))
    return ops.plan_rename(ref, existing[ref], new_name, existing, force, where)


def _run_refs(session: Session, plan: RefPlan) -> RefResult:
    repo = session.repo
    remote = plan.remote
    if remote is None:
        if plan.operation is Operation.RENAME:
            return ops.run_rename_local(repo, plan)
        return ops.run_remove_local(repo, plan)
    conn = session.connection(remote.name or remote.url)
    if plan.operation is Operation.RENAME:
        return ops.run_rename_remote(repo, conn, plan)
    return ops.run_remove_remote(repo, conn, plan)


# -- apply and branch ------------------------------------------------------------------------


@dataclass(frozen=True)
class NeedsPull:
    """Apply or branch cannot start yet: the experiment (or its data) is on the remote.
    The caller asks the user, runs :func:`plan_pull` with ``refs=(ref,)``, and plans again."""

    operation: Operation
    ref: ExpRef
    why: str
    with_data: bool  # apply needs the data; a branch only the commit

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation.value,
            "name": self.ref.name,
            "ref": self.ref.ref,
            "needs_pull": self.why,
        }


def _local_ref(session: Session, experiment: str | ExpRef) -> tuple[ExpRef, str] | None:
    """The experiment and its commit when it is local; None for a ref only the remote has."""
    if isinstance(experiment, ExpRef):
        local = {e.ref: e.sha for e in session.repo.experiments()}
        return (experiment, local[experiment]) if experiment in local else None
    return resolve_experiment(session.repo, experiment)


def plan_apply(session: Session, experiment: str | ExpRef) -> ApplyPlan | NeedsPull:
    """Everything ``apply`` will write, or why it needs a pull first. A plan with
    problems (hostile paths, unrecoverable data) is returned; :func:`run` refuses it."""
    found = _local_ref(session, experiment)
    if found is None:
        assert isinstance(experiment, ExpRef)
        return NeedsPull(Operation.APPLY, experiment, "it is only on the remote", True)
    plan = applying.plan_apply(session.repo, found[0].ref)
    if plan.missing and plan.pull_would_help and not plan.problems:
        why = f"{len(plan.missing)} of its objects are not in the local cache"
        return NeedsPull(Operation.APPLY, plan.ref, why, True)
    return plan


def check_apply(session: Session, plan: ApplyPlan) -> None:
    """Raise why ``plan`` must not run, before the user is asked to confirm it."""
    applying.check_apply(plan, session.remote_hint())


@dataclass(frozen=True)
class BranchPlan:
    ref: ExpRef
    sha: str
    branch: str

    operation = Operation.BRANCH

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": "branch",
            "name": self.ref.name,
            "sha": self.sha,
            "branch": self.branch,
        }


@dataclass(frozen=True)
class BranchResult:
    plan: BranchPlan
    branch: str


def plan_branch(
    session: Session, experiment: str | ExpRef, branch: str | None = None
) -> BranchPlan | NeedsPull:
    """A Git branch at the experiment's commit, ``<name>-branch`` unless named."""
    found = _local_ref(session, experiment)
    if found is None:
        assert isinstance(experiment, ExpRef)
        return NeedsPull(Operation.BRANCH, experiment, "it is only on the remote", False)
    ref, sha = found
    name = branch or f"{ref.name}-branch"
    validate_branch_name(name)
    return BranchPlan(ref, sha, name)


# -- run ----------------------------------------------------------------------------------


Plan = SharePlan | RefPlan | ApplyPlan | BranchPlan
Result = ShareResult | RefResult | applying.ApplyResult | BranchResult


def run(
    session: Session,
    plan: Plan,
    *,
    progress: ProgressBoard | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    jobs: int | None = None,
    verify: bool = False,
) -> Result:
    """Do what ``plan`` says, nothing else: the one entry point of every verb's run."""
    if isinstance(plan, SharePlan):
        return _run_share(session, plan, progress, cancelled, jobs, verify)
    if isinstance(plan, RefPlan):
        return _run_refs(session, plan)
    if isinstance(plan, BranchPlan):
        return BranchResult(plan, create_branch(session.repo, plan.ref, plan.sha, plan.branch))
    if isinstance(plan, applying.ApplyPlan):
        return applying.run_apply(session.repo, plan, session.remote_hint())
    raise ExptuiError(f"Not a plan: {type(plan).__name__}.")
