"""What the local pane shows, loaded off the UI thread: groups, rows and their details.

Loading is two-phase so the first screen is fast: refs first (one ref scan), with the
commit headers of the first rows shown and of the baselines (their order), then every
commit's header and params/metrics/outputs. Reading 10,000 commit headers took a second
before the first screen; the rows need only their ref to be drawn and sorted.
Each phase opens its own :class:`core.project.repo.Repository`, so dulwich objects never cross
threads.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.data.datastate import DataStatus, data_status
from core.errors import ExptuiError
from core.git.refs import ExpRef
from core.git.select import BaselineSelection
from core.git.sync import (
    RemoteListing,
    SyncState,
    compare,
    keep_peeked,
    list_remote,
    load_listing,
    refresh,
)
from core.git.transport import Connection, CredentialPrompt, GitRemoteSpec, resolve_remote
from core.git.transport import default_remote as core_default_remote
from core.project.dvcfiles import ProjectState, flatten
from core.project.listing import BaselineGroup, group_local
from core.project.repo import CommitInfo, Experiment, Repository
from core.redact import redact
from core.stopping import Stop, checked, never

LocalRefs = Mapping[ExpRef, str]
MAX_METRIC_COLUMNS = 3
HEADERS_AT_ONCE = 300  # headers read before the first screen: a tree this small opens fully


@dataclass
class ExpRow:
    """One experiment as a row: ref, commit header (None until read, or for a remote
    commit not peeked yet), details once loaded, and its sync state against the chosen
    Git remote. ``present``: the commit is in the local object store."""

    exp: Experiment
    info: CommitInfo | None
    state: ProjectState | None = None
    sync: SyncState | None = None
    data: DataStatus | None = None
    present: bool = True
    _flat: tuple[ProjectState, dict[str, object]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def key(self) -> str:
        return self.exp.ref.ref

    def metrics(self) -> dict[str, object]:
        """Flattened metrics, kept until the state changes: each drawn row asks for
        several columns, and the columns' formats ask for every distinct row."""
        if self.state is None:
            return {}
        if self._flat is None or self._flat[0] is not self.state:
            self._flat = (self.state, flat_metrics(self.state))
        return self._flat[1]

    def metric(self, name: str) -> object:
        return self.metrics().get(name)

    def set_state(self, state: ProjectState, flat: dict[str, object] | None = None) -> None:
        """The row's details; ``flat``: its metrics already flattened off the UI thread
        (by the worker that read them), so drawing and fitting columns need not."""
        self.state = state
        if flat is not None:
            self._flat = (state, flat)


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

    def refs(self) -> LocalRefs:
        """Every row's ref and commit: the remote pane compares against them."""
        return {row.exp.ref: row.exp.sha for group in self.groups for row in group.rows}


def flat_metrics(state: ProjectState) -> dict[str, object]:
    """Metrics of every file flattened to dotted keys; the file name is dropped when unique."""
    if len(state.metrics) == 1:
        values = next(iter(state.metrics.values()))
        if isinstance(values, Mapping):
            return flatten(values)
    return flatten(state.metrics)  # a one-value file is named by its path


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
            rows = [ExpRow(exp, None) for exp in group.experiments]
            groups.append(GroupView(group, info, rows))
        read_first_headers(repo, groups)
        return LocalView(repo.root, groups, list(repo.skipped_refs))


def read_first_headers(repo: Repository, groups: list[GroupView]) -> None:
    """The commit headers of the first :data:`HEADERS_AT_ONCE` rows in display order (the
    ones a first screen can show: HEAD's group opens first); phase two reads the rest."""
    rows = (row for group in groups for row in group.rows if row.present)
    for row in itertools.islice(rows, HEADERS_AT_ONCE):
        row.info = repo.commit(row.exp.sha)


class CommitStates:
    """Parsed project states by commit, shared by the loading workers (thread-safe): a
    commit shown in both panes is parsed once, and no worker reads another pane's rows."""

    def __init__(self) -> None:
        self._states: dict[str, ProjectState] = {}
        self._lock = threading.Lock()

    def get(self, sha: str) -> ProjectState | None:
        with self._lock:
            return self._states.get(sha)

    def add(self, states: Mapping[str, ProjectState]) -> None:
        with self._lock:
            self._states.update(states)

    def snapshot(self) -> dict[str, ProjectState]:
        with self._lock:
            return dict(self._states)


def commits_to_read(groups: list[GroupView]) -> list[str]:
    """The commits phase two reads: baselines and experiments whose commit we have.
    Taken by the worker that built the rows, before it hands them to the UI thread."""
    commits = [g.key for g in groups if g.info is not None]
    commits += [r.exp.sha for g in groups for r in g.rows if r.present]
    return list(dict.fromkeys(commits))


@dataclass
class Details:
    """What phase two read, by commit: headers the first screen did without, and params,
    metrics and outputs."""

    headers: dict[str, CommitInfo] = field(default_factory=dict)
    states: dict[str, ProjectState] = field(default_factory=dict)
    flat: dict[str, dict[str, object]] = field(default_factory=dict)  # metrics, flattened


def read_details(
    path: Path,
    commits: list[str],
    cache: CommitStates,
    stopped: Stop = never,
) -> Details:
    """Phase two, for either pane, off the UI thread: each commit's header and its
    params, metrics and outputs, as plain values for a message. Ends early once
    ``stopped`` (the app quit): 10,000 commits took seconds, and the process waited for
    them after ``q``."""
    found = Details()
    with Repository.open(path) as repo:
        for sha in commits:
            if stopped():
                break
            found.headers[sha] = repo.commit(sha)
            state = cache.get(sha)
            found.states[sha] = state if state is not None else repo.project_state(sha)
            # Here rather than on the UI thread, where 10,000 rows' metrics took 40 ms.
            found.flat[sha] = flat_metrics(found.states[sha])
    cache.add(found.states)
    return found


def read_trends(
    path: Path, commits: list[str], stopped: Stop = never
) -> dict[str, dict[str, list[float]]]:
    """Per commit, each step metric its plots log (a series' y column) as numbers, from
    Git or the local cache only: a trend column must not fetch for every row."""
    from core.project.plots import as_number

    trends: dict[str, dict[str, list[float]]] = {}
    with Repository.open(path) as repo:
        for sha in commits:
            if stopped():
                break
            per: dict[str, list[float]] = {}
            for plot in repo.plots(sha).plots:
                if str(plot.props.get("template", "")).startswith("confusion"):
                    continue  # classes, not a metric over steps
                for series in plot.series:
                    values = [v for _, y in series.points if (v := as_number(y)) is not None]
                    if values:
                        per.setdefault(series.y, values)
            trends[sha] = per
    return trends


def fetch_row_values(path: Path, cache: CommitStates) -> tuple[dict[str, ProjectState], str]:
    """Phase four, off the UI thread: the values DVC caches (``eval/metrics.json`` in
    ``outs: eval``) that rows lack, fetched from their DVC remotes; the states re-read,
    and one line on what could not be fetched."""
    from core.data.values import fetch_values

    known = cache.snapshot()
    wanting = [sha for sha, state in known.items() if state.uncached]
    if not wanting:
        return {}, ""
    with Repository.open(path) as repo:
        repo.adopt_states({sha: known[sha] for sha in wanting})
        fetched = fetch_values(repo, wanting)
    cache.add(fetched.states)
    return fetched.states, fetched.summary


def apply_details(groups: list[GroupView], details: Details) -> None:
    """On the UI thread: fill the rows whose commit ``details`` has (any pane's)."""
    states = details.states
    for group in groups:
        if group.info is not None and group.key in states:
            group.state = states[group.key]
        for row in group.rows:
            if not row.present:
                continue
            row.info = row.info or details.headers.get(row.exp.sha)
            if row.exp.sha in states:
                row.set_state(states[row.exp.sha], details.flat.get(row.exp.sha))


def metric_columns(view: LocalView, limit: int = MAX_METRIC_COLUMNS) -> list[str]:
    """The first few metric names seen, in file order: the columns of the tree. Rows
    after the first ``limit`` names can only add later ones, so the walk stops there
    (it flattened 10,000 rows' metrics each time values arrived: 85 ms a call)."""
    names: dict[str, None] = {}
    for row in distinct_states(row for group in view.groups for row in group.rows):
        names.update(dict.fromkeys(row.metrics()))
        if len(names) >= limit:
            break
    return list(names)[:limit]


def distinct_states(rows: Iterable[ExpRow]) -> list[ExpRow]:
    """One row per distinct details (rows of one commit share them): what a column's
    format or the list of metric names depends on, without a pass per row (100,000
    rows at one commit were seconds of the UI thread each time values arrived)."""
    seen: dict[int, ExpRow] = {}
    for row in rows:
        if row.state is not None:
            seen.setdefault(id(row.state), row)
    return list(seen.values())


@dataclass
class RemoteView:
    """What the remote pane shows: a listing (fresh or cached), grouped like the local one."""

    spec: GitRemoteSpec
    listing: RemoteListing
    groups: list[GroupView]
    sync: dict[str, SyncState]  # by full ref, for local and remote rows alike
    fresh: bool
    error: str | None = None


def still_current(view: RemoteView, listing: RemoteListing, error: str | None) -> bool:
    """Whether a fresh ``listing`` lays out exactly as the cached ``view`` did: the same
    refs and left-out names, no error, and every row's commit already here (peeking only
    adds commits). The pane then keeps its rows: laying out 100,000 of them again took
    2 s of a worker and a rebuild of the tree on the UI thread, to show the same rows."""
    return (
        error is None
        and listing.refs == view.listing.refs
        and listing.skipped == view.listing.skipped
        and all(row.present for group in view.groups for row in group.rows)
    )


def default_remote(path: Path) -> str | None:
    """``origin`` when it exists, else the first Git remote, else None."""
    with Repository.open(path) as repo:
        return core_default_remote(repo)


def git_remote_names(path: Path) -> list[tuple[str, str]]:
    with Repository.open(path) as repo:
        return [(r.name, redact(r.url)) for r in repo.git_remotes()]


def cached_remote(
    path: Path, name: str, local: LocalRefs | None = None, stopped: Stop = never
) -> RemoteView | None:
    """The last listing saved on disk, shown at once (and offline) while we refresh."""
    with Repository.open(path) as repo:
        spec = resolve_remote(repo, name)
        listing = load_listing(repo, spec)
        return None if listing is None else _remote_view(repo, listing, False, local, stopped)


def fetch_listing(
    path: Path, name: str, prompt: CredentialPrompt | None = None, stopped: Stop = never
) -> tuple[RemoteListing, str | None]:
    """List the remote (one advertisement), fetch the commits we lack, save the listing.
    The second value says why fetching failed (the listing itself is still fresh). The
    peek refs are left to :func:`keep_peeked_commits`, once the rows are shown."""
    with Repository.open(path) as repo:
        spec = resolve_remote(repo, name)
        return refresh(repo, Connection(repo, spec, prompt=prompt), stopped=stopped, keep=False)


def keep_peeked_commits(path: Path, listing: RemoteListing) -> str | None:
    """Name the listed commits that are here under ``refs/exptui/peek/`` (see
    :func:`core.git.sync.keep_peeked`); what went wrong, if anything."""
    try:
        with Repository.open(path) as repo:
            keep_peeked(repo, listing.remote, listing)
    except ExptuiError as exc:
        return f"peeked commits not kept: {exc.message}"
    return None


def quiet_listing(path: Path, name: str) -> RemoteListing | None:
    """One advertisement of the remote's experiment refs, nothing fetched, saved or asked
    (no credential prompt); None when it cannot be had: a watch never bothers the user."""
    try:
        with Repository.open(path) as repo:
            return list_remote(Connection(repo, resolve_remote(repo, name), prompt=None))
    except (ExptuiError, OSError):
        return None


def listing_view(
    path: Path,
    listing: RemoteListing,
    error: str | None,
    local: LocalRefs | None = None,
    stopped: Stop = never,
) -> RemoteView:
    """The remote pane's rows for a fresh listing :func:`fetch_listing` returned."""
    with Repository.open(path) as repo:
        view = _remote_view(repo, listing, True, local, stopped)
        view.error = error
        return view


def _remote_view(
    repo: Repository,
    listing: RemoteListing,
    fresh: bool,
    local: LocalRefs | None,
    stopped: Stop = never,
) -> RemoteView:
    """Phase one of the remote pane (refs; :func:`read_details` reads the rest)."""
    sync = {ref.ref: state for ref, state in compare(repo, listing, local).items()}
    head = repo.head_sha()
    by_baseline: dict[str, list[tuple[str, ExpRef, str]]] = {}
    for ref, sha in listing.refs.items():  # kept with their SHAs: no lookup by ref again
        by_baseline.setdefault(ref.baseline, []).append((ref.name, ref, sha))
    present = repo.present_commits(listing.refs.values())
    groups = []
    for baseline, refs in by_baseline.items():
        info = repo.commit(baseline) if repo.has_commit(baseline) else None
        group = BaselineGroup(baseline, repo.baseline_label(baseline), baseline == head)
        view = GroupView(group, info)
        refs.sort()  # by name first, unique within a baseline: refs are never compared
        for _, ref, sha in checked(refs, stopped):
            exp = Experiment(ref, sha)
            group.experiments.append(exp)
            view.rows.append(ExpRow(exp, None, sync=sync.get(ref.ref), present=sha in present))
        groups.append(view)
    groups.sort(key=lambda g: (not g.group.is_head, -(g.info.timestamp if g.info else 0)))
    read_first_headers(repo, groups)
    return RemoteView(listing.remote, listing, groups, sync, fresh)


def load_data_status(
    path: Path, experiments: list[tuple[ExpRef, str]], cache: CommitStates
) -> dict[str, DataStatus]:
    """Where each experiment commit's data is (local cache and DVC remote)."""
    with Repository.open(path) as repo:
        repo.adopt_states(cache.snapshot())
        known = [(ref, sha) for ref, sha in experiments if repo.has_commit(sha)]
        return data_status(repo, known)
