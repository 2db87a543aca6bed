"""example-get-started's shape, side by side with real ``dvc exp``: the values it shows
(metrics inside the cached ``eval/``), fetched for a colleague who pulled nothing, and the
objects push and pull move."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.project.repo import Repository
from tests.get_started import EXPERIMENTS, build_get_started
from tests.helpers import Dvc, dvc_show, each, git
from tui.cli import main

pytestmark = pytest.mark.dvc


@pytest.fixture(scope="module")
def get_started(dvc: Dvc, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_get_started(dvc, tmp_path_factory.mktemp("get-started"))


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_every_experiment_shows_the_values_dvc_exp_show_shows(dvc: Dvc, get_started: Path) -> None:
    shown = dvc_show(dvc, get_started)
    with Repository.open(get_started) as repo:
        for exp in each(repo.experiments()):
            state = repo.project_state(exp.sha)
            assert state.params == shown[exp.sha]["params"], exp.name
            assert state.metrics == shown[exp.sha]["metrics"], exp.name
            assert set(state.metrics) == {"eval/metrics.json"}  # read through eval's .dir
            assert state.warnings == [] and state.unresolved == []


def test_plots_equal_dvc_plots_diff_points_and_images(
    dvc: Dvc, get_started: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The precision-recall curve nested in a JSON object inside the cached eval/, and
    the image beside it (listed, not drawn), for every experiment."""
    from tests.interop.test_plots_dvc import dvc_points

    with Repository.open(get_started) as repo:
        revs = {e.name: e.sha for e in repo.experiments()}
    assert main(["plots", *revs, "--json", "-C", str(get_started)]) == 0
    mine, images = set(), set()
    for record in json.loads(capsys.readouterr().out):
        for plot in record["plots"]:
            assert not plot["problems"], plot
            images |= {(path, revs[record["name"]]) for path in plot["images"]}
            for series in plot["series"]:
                mine |= {
                    (plot["id"], revs[record["name"]], series["y"], series["x"], x, y)
                    for x, y in series["points"]
                }
    data = json.loads(dvc("plots", "diff", *revs.values(), "--json", cwd=get_started))["data"]
    vega = {k: v for k, v in data.items() if v and v[0]["type"] == "vega"}
    assert mine == dvc_points(vega) and len(mine) == 11 * len(revs)
    dvc_images = {
        (plot_id, rev) for plot_id, renders in data.items() for r in renders
        if r["type"] == "image" for rev in r["revisions"]
    }  # fmt: skip
    assert images == dvc_images == {("eval/importance.png", sha) for sha in revs.values()}


def test_a_colleague_sees_the_values_and_gets_the_objects_dvc_would_move(
    dvc: Dvc, get_started: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "shared.git"
    git("init", "-q", "--bare", str(shared), cwd=tmp_path)
    dvc("exp", "push", str(shared), *EXPERIMENTS, cwd=get_started)
    shown = dvc_show(dvc, get_started)

    colleague = tmp_path / "colleague"
    git("clone", "-q", str(get_started), str(colleague), cwd=tmp_path)
    assert main(["list", str(shared), "--peek", "-A", "--json", "-C", str(colleague)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in records} == set(EXPERIMENTS)
    for record in records:
        assert record["metrics"] == shown[record["sha"]]["metrics"], record["name"]
        assert record["params"] == shown[record["sha"]]["params"], record["name"]
    fetched = files_under(colleague / ".dvc" / "cache")
    assert fetched and all(len(data) < 5_000 for data in fetched.values())  # no model.pkl

    twin = tmp_path / "twin"
    git("clone", "-q", str(get_started), str(twin), cwd=tmp_path)
    dvc("exp", "pull", str(shared), *EXPERIMENTS, cwd=twin)
    assert main(["pull", str(shared), *EXPERIMENTS, "-C", str(colleague)]) == 0
    expected = files_under(twin / ".dvc" / "cache")
    assert files_under(colleague / ".dvc" / "cache") == expected
    assert main(["apply", "bigrams", "-C", str(colleague)]) == 0, capsys.readouterr().err
    assert "up to date" in dvc("status", cwd=colleague)


def test_push_stores_exactly_what_dvc_exp_push_stores(
    dvc: Dvc, get_started: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for who in ("dvc", "exptui"):
        dvc("remote", "add", "-f", "--local", f"to-{who}", str(tmp_path / who), cwd=get_started)
        git("init", "-q", "--bare", str(tmp_path / f"{who}.git"), cwd=tmp_path)
    dvc("exp", "push", str(tmp_path / "dvc.git"), *EXPERIMENTS, "-r", "to-dvc", cwd=get_started)
    args = ["push", str(tmp_path / "exptui.git"), *EXPERIMENTS, "-r", "to-exptui"]
    assert main([*args, "-C", str(get_started)]) == 0, capsys.readouterr().err
    stored = files_under(tmp_path / "dvc")
    assert len(stored) >= 10
    assert files_under(tmp_path / "exptui") == stored
