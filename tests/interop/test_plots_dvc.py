"""Plots read by exptui exactly as real ``dvc plots diff --json`` reads them: DVCLive's
step histories inside a cached ``dvclive/`` output (one plot per file of a directory
plot), a named plot with two columns of a Git-tracked CSV, a stage's output plot, and a
nested dvc.yaml whose named plot shares a name with the root's (DVC's ``file::name``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.project.repo import Repository
from tests.helpers import Dvc, dvc_project, git
from tui.cli import main

pytestmark = pytest.mark.dvc

TRAIN = """\
import json, os
lr = float(open("params.yaml").read().split(":")[1])
os.makedirs("dvclive/plots/metrics/train", exist_ok=True)
with open("dvclive/plots/metrics/train/loss.tsv", "w") as f:
    f.write("step\\tloss\\n")
    for s in range(6):
        f.write(f"{s}\\t{round(1 / (1 + lr * s), 4)}\\n")
with open("dvclive/plots/metrics/acc.tsv", "w") as f:
    f.write("step\\tacc\\n")
    for s in range(6):
        f.write(f"{s}\\t{round(lr * s / (1 + lr * s), 4)}\\n")
json.dump({"acc": 0.5}, open("dvclive/metrics.json", "w"))
with open("eval.csv", "w") as f:
    f.write("epoch,precision,recall\\n")
    for s in range(3):
        f.write(f"{s},{0.5 + s * lr:.3f},{0.4 + s * lr:.3f}\\n")
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    params: [lr]
    outs: [dvclive]
    plots:
      - eval.csv:
          cache: false
          x: epoch
          y: precision
metrics: [dvclive/metrics.json]
plots:
  - dvclive/plots/metrics:
      x: step
  - pr:
      x: epoch
      y:
        eval.csv: [precision, recall]
      title: PR
"""


def dvc_points(data: dict[str, Any]) -> set[tuple[Any, ...]]:
    """(plot, rev, y field, x field, x, y) of every datapoint DVC would draw, the fields
    read from DVC's own vega encoding (several y columns share one inferred field)."""
    found = set()
    for plot_id, renders in data.items():
        for render in renders:
            content = render["content"]
            x_field = content["encoding"]["x"]["field"]
            y_field = content["layer"][0]["encoding"]["y"]["field"]
            for point in content["data"]["values"]:
                name = point["field"] if y_field == "dvc_inferred_y_value" else y_field
                found.add((plot_id, point["rev"], name, x_field, point[x_field], point[y_field]))
    return found


def test_plot_points_equal_dvc_plots_diff(
    dvc: Dvc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "params.yaml": "lr: 0.1\n",
        "train.py": TRAIN,
        "dvc.yaml": DVC_YAML,
        # a nested dvc.yaml: its named plot shares a name with the root's
        "sub/e.csv": "epoch,precision\n0,0.1\n1,0.2\n",
        "sub/dvc.yaml": (
            "plots:\n  - pr:\n      x: epoch\n      y:\n        e.csv: precision\n"
            "  - e.csv:\n      x: epoch\n"
        ),
    }
    repo = dvc_project(dvc, tmp_path, files, "plots")
    dvc("exp", "run", "-q", "-n", "fast", "-S", "lr=0.3", cwd=repo)
    dvc("exp", "run", "-q", "-n", "slow", "-S", "lr=0.05", cwd=repo)
    with Repository.open(repo) as opened:
        revs = {e.name: e.sha for e in opened.experiments()}
    assert main(["plots", "fast", "slow", "--json", "-C", str(repo)]) == 0
    records = json.loads(capsys.readouterr().out)
    mine = set()
    for record in records:
        for plot in record["plots"]:
            assert not plot["problems"], plot
            for series in plot["series"]:
                rev = revs[record["name"]]
                mine |= {
                    (plot["id"], rev, series["y"], series["x"], x, y) for x, y in series["points"]
                }
    assert {point[0] for point in mine} == {
        "dvclive/plots/metrics/acc.tsv",
        "dvclive/plots/metrics/train/loss.tsv",
        "dvc.yaml::pr",
        "sub/dvc.yaml::pr",
        "sub/e.csv",
        "eval.csv",
    }
    out = dvc("plots", "diff", revs["fast"], revs["slow"], "--json", cwd=repo)
    assert mine == dvc_points(json.loads(out)["data"])
    assert len(mine) == 2 * (6 + 6 + 3 * 2 + 3 + 2 + 2)

    # A colleague who pulled nothing: the experiments' DVCLive files live only in the DVC
    # remote, and exptui fetches them to draw the same points.
    shared = tmp_path / "shared.git"
    git("init", "-q", "--bare", str(shared), cwd=tmp_path)
    dvc("exp", "push", str(shared), "fast", "slow", cwd=repo)
    colleague = tmp_path / "colleague"
    git("clone", "-q", str(repo), str(colleague), cwd=tmp_path)
    git("remote", "add", "shared", str(shared), cwd=colleague)
    assert main(["list", "shared", "--json", "--peek", "-C", str(colleague)]) == 0
    listed = {r["name"]: r["sha"] for r in json.loads(capsys.readouterr().out)}
    assert listed == revs
    assert main(["plots", revs["fast"], revs["slow"], "--json", "-C", str(colleague)]) == 0
    theirs = set()
    for record, name in zip(json.loads(capsys.readouterr().out), ("fast", "slow"), strict=True):
        for plot in record["plots"]:
            assert not plot["problems"], plot
            for series in plot["series"]:
                theirs |= {
                    (plot["id"], revs[name], series["y"], series["x"], x, y)
                    for x, y in series["points"]
                }
    assert theirs == mine
