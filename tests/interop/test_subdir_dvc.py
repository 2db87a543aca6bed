"""A ``dvc init --subdir`` project (the DVC root below the Git root), used from the DVC
root and from a directory below it, as a monorepo's members use it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import Dvc, dvc_project, dvc_show, git
from tui.cli import main

pytestmark = pytest.mark.dvc


@pytest.fixture
def monorepo(dvc: Dvc, tmp_path: Path) -> Path:
    """Git root ``mono``, DVC root ``mono/ml``, one experiment with a cached output."""
    mono = tmp_path / "mono"
    project = mono / "ml"
    (project / "src").mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=mono)
    dvc("init", "-q", "--subdir", cwd=project)
    dvc("remote", "add", "-d", "storage", str(tmp_path / "storage"), cwd=project)
    (project / "params.yaml").write_text("lr: 0.1\n")
    (project / "src" / "train.py").write_text("print('train')\n")
    (project / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: mkdir -p out && echo ${lr} > out/model.txt\n"
        "    params: [lr]\n    outs: [out]\n"
    )
    git("add", "-A", cwd=mono)
    git("commit", "-qm", "baseline", cwd=mono)
    dvc("exp", "run", "-q", "-n", "faster", "-S", "lr=0.5", cwd=project)
    git("reset", "-q", "--hard", cwd=mono)
    git("clean", "-qfdx", "-e", ".dvc", cwd=project)
    return mono


def test_push_pull_and_apply_from_below_the_dvc_root(
    dvc: Dvc, monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    below = monorepo / "ml" / "src"
    shared = tmp_path / "shared.git"
    git("init", "-q", "--bare", str(shared), cwd=tmp_path)
    assert main(["push", str(shared), "faster", "-C", str(below)]) == 0, capsys.readouterr()
    assert len([p for p in (tmp_path / "storage").rglob("*") if p.is_file()]) >= 2

    clone = tmp_path / "clone"
    git("clone", "-q", str(monorepo), str(clone), cwd=tmp_path)
    git("remote", "add", "shared", str(shared), cwd=clone)
    below = clone / "ml" / "src"
    assert main(["pull", "shared", "faster", "-C", str(below)]) == 0, capsys.readouterr()
    cwd = Path.cwd()
    os.chdir(below)  # as a user typing there: -C and the working directory agree
    try:
        assert main(["apply", "faster"]) == 0, capsys.readouterr()
    finally:
        os.chdir(cwd)
    project = clone / "ml"
    assert (project / "out" / "model.txt").read_text() == "0.5\n"
    assert "up to date" in dvc("status", cwd=project)
    shown = dvc_show(dvc, project)
    assert [v["params"] for v in shown.values()] == [{"params.yaml": {"lr": 0.5}}]


def test_a_nested_dvc_yaml_writing_above_its_directory_is_shared_as_dvc_shares_it(
    dvc: Dvc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``a/dvc.yaml`` with ``outs: [../shared/out.txt]``: paths are relative to the
    stage's directory and may climb out of it, as long as they stay in the project."""
    files = {
        "a/params.yaml": "n: 1\n",
        "a/dvc.yaml": (
            "stages:\n  make:\n    cmd: mkdir -p ../shared && echo ${n} > ../shared/out.txt\n"
            "    params: [n]\n    outs: [../shared/out.txt]\n"
        ),
    }
    repo = dvc_project(dvc, tmp_path, files, "nested")
    dvc("exp", "run", "-q", "-n", "two", "-S", "a/params.yaml:n=2", "a/dvc.yaml", cwd=repo)
    shared = tmp_path / "shared.git"
    git("init", "-q", "--bare", str(shared), cwd=tmp_path)
    assert main(["push", str(shared), "two", "-C", str(repo)]) == 0, capsys.readouterr()
    stored = [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_text() == "2\n"

    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    dvc("exp", "pull", str(shared), "two", cwd=clone)  # dvc accepts what exptui pushed
    dvc("exp", "apply", "two", cwd=clone)
    assert (clone / "shared" / "out.txt").read_text() == "2\n"
    other = tmp_path / "other"
    git("clone", "-q", str(repo), str(other), cwd=tmp_path)
    assert main(["pull", str(shared), "two", "-C", str(other)]) == 0, capsys.readouterr()
    assert main(["apply", "two", "-C", str(other)]) == 0, capsys.readouterr()
    assert (other / "shared" / "out.txt").read_text() == "2\n"
    assert "up to date" in dvc("status", cwd=other)
