"""A ``dvc init --subdir`` project (the DVC root below the Git root), used from the DVC
root and from a directory below it, as a monorepo's members use it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import Dvc, dvc_show, git
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
