"""Where the data is, per experiment: complete, partial, missing, locally and remotely."""

from __future__ import annotations

from pathlib import Path

from core.data.datastate import DataState, data_status
from core.project.repo import Repository
from tests.helpers import exp_output, object_path
from tui.cli import main


def statuses(project: Path) -> dict[str, tuple[DataState, DataState]]:
    with Repository.open(project) as repo:
        experiments = repo.experiments()
        found = data_status(repo, [(e.ref, e.sha) for e in experiments])
    return {e.name: (found[e.sha].local, found[e.sha].remote) for e in experiments}


def test_states_follow_what_is_where(fresh_demo: Path) -> None:
    before = statuses(fresh_demo)
    assert before["wide-net"] == (DataState.COMPLETE, DataState.COMPLETE)
    assert before["brisk-lynx"] == (DataState.COMPLETE, DataState.MISSING)  # half-shared
    assert before["tuned-lr"][1] is DataState.MISSING  # never pushed
    assert main(["push", "origin", "brisk-lynx", "-C", str(fresh_demo)]) == 0
    model = exp_output(fresh_demo, "wide-net", "model.pkl")
    (object_path(fresh_demo.parent / "storage", model.oid or "")).unlink()
    after = statuses(fresh_demo)
    assert after["brisk-lynx"] == (DataState.COMPLETE, DataState.COMPLETE)
    assert after["wide-net"][1] is DataState.PARTIAL
