"""What the local pane shows, loaded off the UI thread: groups, rows and their details.

Loading is two-phase so the first screen is fast: refs and commit headers first (one ref
scan, one small object per experiment), then params/metrics/outputs group by group.
Each phase opens its own :class:`core.repo.Repository`, so dulwich objects never cross
threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.dvcfiles import ProjectState, flatten
from core.listing import BaselineGroup, group_local
from core.repo import CommitInfo, Experiment, Repository
from core.select import BaselineSelection

MAX_METRIC_COLUMNS = 3


@dataclass
class ExpRow:
    """One experiment as a row: ref, commit header, and details once loaded."""

    exp: Experiment
    info: CommitInfo
    state: ProjectState | None = None

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


def load_states(path: Path, view: LocalView) -> None:
    """Phase two: fill params, metrics and outputs of baselines and experiments in place."""
    with Repository.open(path) as repo:
        for group in view.groups:
            if group.info is not None:
                group.state = repo.project_state(group.key)
            for row in group.rows:
                row.state = repo.project_state(row.exp.sha)


def metric_columns(view: LocalView, limit: int = MAX_METRIC_COLUMNS) -> list[str]:
    """The first few metric names seen, in file order: the columns of the tree."""
    names: dict[str, None] = {}
    for group in view.groups:
        for row in group.rows:
            if row.state is not None:
                names.update(dict.fromkeys(flat_metrics(row.state)))
    return list(names)[:limit]
