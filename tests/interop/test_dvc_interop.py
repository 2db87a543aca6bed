"""exptui reads what real DVC wrote, and real DVC accepts what exptui's demo wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dulwich.repo import Repo

from core.git.refs import ExpRef, is_experiment_namespace
from core.git.select import BaselineSelection, select_baselines
from core.project.listing import experiment_record, group_local
from core.project.repo import Repository
from tests.helpers import Dvc, dvc_list, dvc_show, git

pytestmark = pytest.mark.dvc


def exptui_list(repo_path: Path, remote_shas: bool = False) -> set[tuple[str, str]]:
    with Repository.open(repo_path) as repo:
        groups = group_local(repo, BaselineSelection(None))
        return {(g.label, f"{e.sha[:7]} [{e.name}]") for g in groups for e in g.experiments}


def test_listing_matches_dvc_exp_list_on_a_dvc_made_repo(dvc: Dvc, dvc_project: Path) -> None:
    expected = dvc_list(dvc("exp", "list", "-A", cwd=dvc_project))
    assert len(expected) == 5
    assert exptui_list(dvc_project) == expected


def test_params_and_metrics_equal_dvc_exp_show(dvc: Dvc, dvc_project: Path) -> None:
    shown = dvc_show(dvc, dvc_project)
    with Repository.open(dvc_project) as repo:
        exps = repo.experiments()
        assert {e.sha for e in exps} == set(shown)
        for exp in exps:
            state = repo.project_state(exp.sha)
            assert state.params == shown[exp.sha]["params"], exp.name
            assert state.metrics == shown[exp.sha]["metrics"], exp.name
            assert state.warnings == []


def test_cached_metric_is_read_from_the_local_cache(dvc_project: Path) -> None:
    with Repository.open(dvc_project) as repo:
        exp = next(e for e in repo.experiments() if e.name == "exp-c")
        assert "scores.json" not in repo.files_at(exp.sha).paths()  # not in Git
        assert set(repo.project_state(exp.sha).metrics["scores.json"]) == {"auc"}


def test_outputs_carry_sharing_flags_from_dvc_yaml_and_dvc_files(dvc_project: Path) -> None:
    with Repository.open(dvc_project) as repo:
        exp = next(e for e in repo.experiments() if e.name == "exp-b")
        outputs = {o.path: o for o in repo.project_state(exp.sha).outputs}
    assert set(outputs) == {"data/raw.csv", "metrics.json", "model", "out.bin", "scores.json"}
    assert outputs["model"].is_dir and outputs["model"].nfiles == 2
    assert not outputs["metrics.json"].cache
    assert outputs["out.bin"].cache and not outputs["out.bin"].push
    assert outputs["data/raw.csv"].source == "data/raw.csv.dvc"
    assert not any(o.legacy for o in outputs.values())


def test_select_rev_and_num_follow_first_parents(dvc_project: Path) -> None:
    with Repository.open(dvc_project) as repo:
        head_only = select_baselines(repo)
        both = select_baselines(repo, ["HEAD"], 2)
        tag_only = select_baselines(repo, ["v1"])
        names = lambda sel: sorted(  # noqa: E731
            e.name for g in group_local(repo, sel) for e in g.experiments
        )
        assert names(head_only) == ["exp-a", "exp-c", "exp-d"]
        assert names(tag_only) == ["exp-a", "exp-b"]
        assert names(both) == ["exp-a", "exp-a", "exp-b", "exp-c", "exp-d"]


# -- the demo, seen by real DVC -----------------------------------------------------------


def test_dvc_exp_list_sees_the_demo_experiments(dvc: Dvc, demo_dir: Path) -> None:
    expected = dvc_list(dvc("exp", "list", "-A", cwd=demo_dir))
    assert len(expected) >= 8
    assert exptui_list(demo_dir) == expected


def test_dvc_exp_list_origin_shows_exactly_what_the_demo_put_there(
    dvc: Dvc, demo_dir: Path
) -> None:
    listed = dvc_list(dvc("exp", "list", "origin", "-A", cwd=demo_dir))
    with Repo(str(demo_dir.parent / "origin.git")) as origin, Repository.open(demo_dir) as repo:
        refs = [r.decode() for r in origin.refs.allkeys() if is_experiment_namespace(r.decode())]
        put = {(repo.baseline_label(ExpRef.parse(r).baseline), ExpRef.parse(r).name) for r in refs}
    assert listed == put
    assert len(put) >= 6


def test_dvc_exp_show_agrees_with_exptui_on_the_demo(dvc: Dvc, demo_dir: Path) -> None:
    shown = dvc_show(dvc, demo_dir)
    with Repository.open(demo_dir) as repo:
        for exp in repo.experiments():
            record = experiment_record(repo, exp, "")
            assert record["params"] == shown[exp.sha]["params"]
            assert record["metrics"] == shown[exp.sha]["metrics"]


def test_demo_workspace_is_clean_for_dvc_and_git(dvc: Dvc, demo_dir: Path) -> None:
    assert "up to date" in dvc("status", cwd=demo_dir)
    assert "in sync" in dvc("status", "-c", cwd=demo_dir)
    assert git("status", "--porcelain", cwd=demo_dir) == ""
    git("fsck", "--strict", cwd=demo_dir)
    git("fsck", "--strict", cwd=demo_dir.parent / "origin.git")


def test_dvc_applies_a_demo_experiment_from_exptuis_cache(dvc: Dvc, fresh_demo: Path) -> None:
    """Every lock hash the demo wrote matches the bytes it cached: DVC checks them out and
    then finds nothing to reproduce."""
    dvc("exp", "apply", "wide-net", cwd=fresh_demo)
    assert "up to date" in dvc("status", cwd=fresh_demo)
    params = (fresh_demo / "params.yaml").read_text()
    assert "layers: 8" in params
    metrics = json.loads((fresh_demo / "metrics.json").read_text())
    with Repository.open(fresh_demo) as repo:
        exp = next(e for e in repo.experiments() if e.name == "wide-net")
        assert repo.project_state(exp.sha).metrics["metrics.json"] == metrics
