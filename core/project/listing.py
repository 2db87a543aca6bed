"""The local experiment listing: experiments grouped under labelled baselines.

This is the value behind ``exptui list`` (text and ``--json``) and the app's local pane.
Per-experiment details (params, metrics, outputs) are read lazily from the commit, so a
listing of thousands of refs costs one ref scan until somebody looks closer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from core.git.select import BaselineSelection
from core.project.repo import Experiment, Repository


@dataclass
class BaselineGroup:
    """A baseline commit with its label and the experiments derived from it."""

    baseline: str
    label: str
    is_head: bool
    experiments: list[Experiment] = field(default_factory=list)


def group_local(repo: Repository, selection: BaselineSelection) -> list[BaselineGroup]:
    """Local experiments of the selected baselines; HEAD's group first, then newest first."""
    head = repo.head_sha()
    groups: dict[str, BaselineGroup] = {}
    for exp in repo.experiments():
        if not selection.includes(exp.baseline):
            continue
        group = groups.get(exp.baseline)
        if group is None:
            label = repo.baseline_label(exp.baseline)
            group = groups[exp.baseline] = BaselineGroup(exp.baseline, label, exp.baseline == head)
        group.experiments.append(exp)
    for group in groups.values():
        group.experiments.sort(key=lambda e: e.name)
    return sorted(groups.values(), key=lambda g: _group_order(repo, g))


def _group_order(repo: Repository, group: BaselineGroup) -> tuple[int, int, str]:
    time = repo.commit(group.baseline).timestamp if repo.has_commit(group.baseline) else 0
    return (0 if group.is_head else 1, -time, group.label)


def iso_time(timestamp: int, tz_offset: int) -> str:
    """A commit time in ISO 8601 with its own UTC offset."""
    zone = timezone(timedelta(seconds=tz_offset))
    return datetime.fromtimestamp(timestamp, zone).isoformat()


def experiment_record(repo: Repository, exp: Experiment, label: str) -> dict[str, Any]:
    """The JSON object ``exptui list --json`` prints for one experiment."""
    info = repo.commit(exp.sha)
    state = repo.project_state(exp.sha)
    return {
        "name": exp.name,
        "baseline": exp.baseline,
        "baseline_label": label,
        "sha": exp.sha,
        "ref": exp.ref.ref,
        "timestamp": iso_time(info.timestamp, info.tz_offset),
        "message": info.message,
        "params": state.params,
        "metrics": state.metrics,
        "outputs": [
            {
                "path": o.path,
                "oid": o.oid,
                "size": o.size,
                "nfiles": o.nfiles,
                "cache": o.cache,
                "push": o.push,
                "remote": o.remote,
            }
            for o in state.outputs
        ],
        "warnings": state.warnings,
        "unresolved": state.unresolved,
    }
