"""A templated pipeline (vars, ``${...}``, foreach over a list and a mapping, matrix, a
templated wdir, per-output flags) built by real ``dvc exp run``: exptui reads the values
``dvc exp show`` shows and moves exactly the objects ``dvc exp push/pull`` move."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.project.repo import Repository
from tests.helpers import Dvc, dvc_show, each, git
from tui.cli import main

pytestmark = pytest.mark.dvc

PARAMS = """\
out_dir: out
lr: 1e-3
models:
  - name: a
    size: 1
  - name: b
    size: 2
"""
CONFIG = "train:\n  dir: res\n  epochs: 3\nother: 5\n"
DVC_YAML = """\
vars:
  - config.yaml:train
  - tag: v1
stages:
  make:
    cmd: >-
      mkdir -p ${out_dir} && echo ${lr} ${tag} > ${out_dir}/a.txt &&
      echo '{"acc": 0.5, "lr": ${lr}}' > ${out_dir}/metrics.json &&
      echo x > nocache.txt && echo y > nopush.txt
    outs:
      - ${out_dir}/a.txt
      - nocache.txt:
          cache: false
      - nopush.txt:
          push: false
    metrics:
      - ${out_dir}/metrics.json
  each:
    foreach: ${models}
    do:
      cmd: >-
        mkdir -p ${train.dir} && echo ${item.size} > ${train.dir}/${item.name}.txt &&
        echo ${item.name} > ${train.dir}/${item.name}.skip
      outs:
        - ${train.dir}/${item.name}.txt
        - ${train.dir}/${item.name}.skip:
            push: false
  grid:
    matrix:
      m: [x, y]
      k: [1, 2]
    cmd: echo ${item.m}${item.k} ${lr} > g-${key}.txt
    outs:
      - g-${key}.txt
  sized:
    foreach:
      small: 1
      big: 3
    do:
      wdir: ${train.dir}
      cmd: echo ${key} ${item} ${lr} > ${key}.bin
      outs:
        - ${key}.bin
"""
EXPERIMENTS = ("tpl-a", "tpl-b")


@pytest.fixture(scope="module")
def templated(dvc: Dvc, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, with two experiments in its cache, a default DVC remote ``first``
    and a second one, ``second``."""
    root = tmp_path_factory.mktemp("templated")
    repo = root / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / "params.yaml").write_text(PARAMS)
    (repo / "config.yaml").write_text(CONFIG)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "first", str(root / "first"), cwd=repo)
    dvc("remote", "add", "second", str(root / "second"), cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "templated pipeline", cwd=repo)
    dvc("exp", "run", "-q", "-n", EXPERIMENTS[0], cwd=repo)
    dvc("exp", "run", "-q", "-n", EXPERIMENTS[1], "-S", "lr=0.002", cwd=repo)
    git("reset", "-q", "--hard", cwd=repo)
    return repo


def stored(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def bare(path: Path) -> Path:
    git("init", "-q", "--bare", str(path), cwd=path.parent)
    return path


def test_values_and_outputs_equal_dvc_exp_show(dvc: Dvc, templated: Path) -> None:
    shown = dvc_show(dvc, templated)
    with Repository.open(templated) as repo:
        for exp in each(repo.experiments()):
            state = repo.project_state(exp.sha)
            assert state.unresolved == [] and state.warnings == []
            assert state.params == shown[exp.sha]["params"], exp.name
            assert state.metrics == shown[exp.sha]["metrics"], exp.name
            assert state.params["config.yaml"] == {"train.dir": "res"}  # a tracked var
            outputs = {o.path: o for o in state.outputs}
            assert set(outputs) >= {"out/a.txt", "res/a.txt", "res/big.bin", "g-y-2.txt"}
            assert not outputs["nocache.txt"].cache and not outputs["res/b.skip"].push


def test_push_moves_exactly_what_dvc_exp_push_moves(
    dvc: Dvc, templated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = templated.parent
    dvc("exp", "push", str(bare(root / "by-dvc.git")), *EXPERIMENTS, cwd=templated)
    code = main(["push", str(bare(root / "by-exptui.git")), *EXPERIMENTS, "-r", "second",
                 "-C", str(templated)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    by_dvc, by_exptui = stored(root / "first"), stored(root / "second")
    assert len(by_dvc) >= 10  # every templated output of both experiments, push: false not
    assert by_exptui == by_dvc


def test_pull_fetches_exactly_what_dvc_exp_pull_fetches_and_apply_restores_it(
    dvc: Dvc, templated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = bare(tmp_path / "shared.git")
    dvc("exp", "push", str(shared), *EXPERIMENTS, cwd=templated)
    clones = {}
    for who in ("dvc", "exptui"):
        clones[who] = tmp_path / who
        git("clone", "-q", str(templated), str(clones[who]), cwd=tmp_path)
        git("remote", "add", "shared", str(shared), cwd=clones[who])
    dvc("exp", "pull", "shared", *EXPERIMENTS, cwd=clones["dvc"])
    code = main(["pull", "shared", *EXPERIMENTS, "-C", str(clones["exptui"])])
    assert code == 0, capsys.readouterr().err
    cache = Path(".dvc") / "cache"
    expected = stored(clones["dvc"] / cache)
    assert len(expected) >= 10
    assert stored(clones["exptui"] / cache) == expected

    capsys.readouterr()
    assert main(["apply", EXPERIMENTS[1], "-C", str(clones["exptui"])]) == 1
    refused = capsys.readouterr().err  # push: false data is on no remote: no dead-end hint
    assert "push: false outputs" in refused and "nopush.txt" in refused
    assert "exptui pull" not in refused
    # Once the stages that make it ran here (their objects cached), apply restores all.
    for oid in unpushed_objects(templated):
        target = clones["exptui"] / cache / "files" / "md5" / oid[:2] / oid[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(templated / cache / "files" / "md5" / oid[:2] / oid[2:], target)
    shutil.rmtree(clones["exptui"] / "res", ignore_errors=True)
    assert main(["apply", EXPERIMENTS[1], "-C", str(clones["exptui"])]) == 0
    workspace = clones["exptui"]
    assert (workspace / "g-x-2.txt").read_text() == "x2 0.002\n"
    assert (workspace / "res" / "big.bin").read_text() == "big 3 0.002\n"
    assert (workspace / "out" / "a.txt").read_text() == "0.002 v1\n"


def unpushed_objects(project: Path) -> set[str]:
    with Repository.open(project) as repo:
        return {
            o.oid or ""
            for exp in repo.experiments()
            for o in repo.project_state(exp.sha).outputs
            if o.cache and not o.push
        }
