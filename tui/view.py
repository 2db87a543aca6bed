"""What the local pane shows, loaded off the UI thread: groups, rows and their details.

Loading is two-phase so the first screen is fast: refs and commit headers first (one ref
scan, one small object per experiment), then params/metrics/outputs group by group.
Each phase opens its own :class:`core.repo.Repository`, so dulwich objects never cross
threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.datastate import DataStatus, data_status
from core.dvcfiles import ProjectState, flatten
from core.gitsync import (
    RemoteListing,
    SyncState,
    compare,
    load_listing,
    refresh,
)
from core.listing import BaselineGroup, group_local
from core.redact import redact
from core.refs import ExpRef
from core.repo import CommitInfo, Experiment, Repository
from core.select import BaselineSelection
from core.transport import Connection, CredentialPrompt, GitRemoteSpec, resolve_remote
from core.transport import default_remote as core_default_remote

MAX_METRIC_COLUMNS = 3


@dataclass
class ExpRow:
    """One experiment as a row: ref, commit header (None for a remote commit not peeked
    yet), details once loaded, and its sync state against the chosen Git remote."""

    exp: Experiment
    info: CommitInfo | None
    state: ProjectState | None = None
    sync: SyncState | None = None
    data: DataStatus | None = None

    @property
    def key(self) -> str:
        return self.exp.ref.ref

    def metric(self, name: str) -> object:
        if self.state is None:
            return None
        return flat_metrics(self.state).get(name)


@dataclass
class GroupView:
    """A baseline and its rows; ``state`` is the baseline's own params and metrics."""

    group: BaselineGroup
    info: CommitInfo | None
    rows: list[ExpRow] = field(default_factory=list)
    state: ProjectState | None = None

    @property
    def key(self) -> str:
        return self.group.baseline


@dataclass
class LocalView:
    """Everything the local pane needs after phase one."""

    root: Path
    groups: list[GroupView]
    skipped_refs: list[str]

    @property
    def count(self) -> int:
        return sum(len(g.rows) for g in self.groups)


def flat_metrics(state: ProjectState) -> dict[str, object]:
    """Metrics of every file flattened to dotted keys; the file name is dropped when unique."""
    if len(state.metrics) == 1:
        return flatten(next(iter(state.metrics.values())))
    return flatten(state.metrics)


def flat_params(state: ProjectState) -> dict[str, object]:
    if len(state.params) == 1:
        return flatten(next(iter(state.params.values())))
    return flatten(state.params)


def load_groups(path: Path) -> LocalView:
    """Phase one: every local experiment under its labelled baseline, no file reads."""
    with Repository.open(path) as repo:
        groups = []
        for group in group_local(repo, BaselineSelection(None)):
            info = repo.commit(group.baseline) if repo.has_commit(group.baseline) else None
            rows = [ExpRow(exp, repo.commit(exp.sha)) for exp in group.experiments]
            groups.append(GroupView(group, info, rows))
        return LocalView(repo.root, groups, list(repo.skipped_refs))


def load_states(
    path: Path, groups: list[GroupView], known: dict[str, ProjectState] | None = None
) -> None:
    """Phase two, for either pane: fill params, metrics and outputs of baselines and of
    the experiments whose commits we have, in place. ``known`` states (the other pane's,
    by commit) are reused: an experiment in sync is the same commit on both sides."""
    known = known or {}
    with Repository.open(path) as repo:

        def state(sha: str) -> ProjectState:
            return known.get(sha) or repo.project_state(sha)

        for group in groups:
            if group.info is not None:
                group.state = state(group.key)
            for row in group.rows:
                if row.info is not None:
                    row.state = state(row.exp.sha)


def states_by_commit(groups: list[GroupView]) -> dict[str, ProjectState]:
    found = {g.key: g.state for g in groups if g.state is not None}
    found.update({r.exp.sha: r.state for g in groups for r in g.rows if r.state is not None})
    return found


def metric_columns(view: LocalView, limit: int = MAX_METRIC_COLUMNS) -> list[str]:
    """The first few metric names seen, in file order: the columns of the tree."""
    names: dict[str, None] = {}
    for group in view.groups:
        for row in group.rows:
            if row.state is not None:
                names.update(dict.fromkeys(flat_metrics(row.state)))
    return list(names)[:limit]


@dataclass
class RemoteView:
    """What the remote pane shows: a listing (fresh or cached), grouped like the local one."""

    spec: GitRemoteSpec
    listing: RemoteListing
    groups: list[GroupView]
    sync: dict[str, SyncState]  # by full ref, for local and remote rows alike
    fresh: bool
    error: str | None = None


def default_remote(path: Path) -> str | None:
    """``origin`` when it exists, else the first Git remote, else None."""
    with Repository.open(path) as repo:
        return core_default_remote(repo)


def git_remote_names(path: Path) -> list[tuple[str, str]]:
    with Repository.open(path) as repo:
        return [(r.name, redact(r.url)) for r in repo.git_remotes()]


def cached_remote(path: Path, name: str) -> RemoteView | None:
    """The last listing saved on disk, shown at once (and offline) while we refresh."""
    with Repository.open(path) as repo:
        spec = resolve_remote(repo, name)
        listing = load_listing(repo, spec)
        return None if listing is None else _remote_view(repo, listing, fresh=False)


def fetch_listing(
    path: Path, name: str, prompt: CredentialPrompt | None = None
) -> tuple[RemoteListing, str | None]:
    """List the remote (one advertisement), peek at what we lack, save the listing. The
    second value says why peeking failed (the listing itself is still fresh)."""
    with Repository.open(path) as repo:
        spec = resolve_remote(repo, name)
        return refresh(repo, Connection(repo, spec, prompt=prompt))


def listing_view(path: Path, listing: RemoteListing, error: str | None) -> RemoteView:
    """The remote pane's rows for a fresh listing :func:`fetch_listing` returned."""
    with Repository.open(path) as repo:
        view = _remote_view(repo, listing, fresh=True)
        view.error = error
        return view


def _remote_view(repo: Repository, listing: RemoteListing, fresh: bool) -> RemoteView:
    """Phase one of the remote pane (headers only; :func:`load_states` fills details)."""
    sync = {ref.ref: entry.state for ref, entry in compare(repo, listing).items()}
    head = repo.head_sha()
    by_baseline: dict[str, list[ExpRef]] = {}
    for ref in listing.refs:
        by_baseline.setdefault(ref.baseline, []).append(ref)
    groups = []
    for baseline, refs in by_baseline.items():
        info = repo.commit(baseline) if repo.has_commit(baseline) else None
        group = BaselineGroup(baseline, repo.baseline_label(baseline), baseline == head)
        view = GroupView(group, info)
        for ref in sorted(refs, key=lambda r: r.name):
            sha = listing.refs[ref]
            exp = Experiment(ref, sha)
            group.experiments.append(exp)
            info = repo.commit(sha) if repo.has_commit(sha) else None
            view.rows.append(ExpRow(exp, info, sync=sync.get(ref.ref)))
        groups.append(view)
    groups.sort(key=lambda g: (not g.group.is_head, -(g.info.timestamp if g.info else 0)))
    return RemoteView(listing.remote, listing, groups, sync, fresh)


def load_data_status(path: Path, rows: list[ExpRow]) -> dict[str, DataStatus]:
    """Where each row's data is (local cache and DVC remote); rows must have their commit."""
    with Repository.open(path) as repo:
        repo.adopt_states({row.exp.sha: row.state for row in rows if row.state is not None})
        known = [(row.exp.ref, row.exp.sha) for row in rows if repo.has_commit(row.exp.sha)]
        return data_status(repo, known)
