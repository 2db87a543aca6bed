"""``dvc import`` outputs: DVC fetches their data from the source project's remote, which
exptui does not reach. A pull says so and names the command that fetches them; apply
refuses with that command instead of a pull that cannot help, and works once it ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Dvc, git
from tui.cli import main

pytestmark = pytest.mark.dvc


def test_imports_are_named_with_the_dvc_command_that_fetches_them(
    dvc: Dvc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "registry"
    (source / "data").mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=source)
    dvc("init", "-q", cwd=source)
    dvc("remote", "add", "-d", "store", str(tmp_path / "registry-store"), cwd=source)
    (source / "data" / "labels.csv").write_text("a,b\n1,2\n")
    dvc("add", "-q", "data", cwd=source)
    git("add", "-A", cwd=source)
    git("commit", "-qm", "data", cwd=source)
    dvc("push", "-q", cwd=source)

    repo = tmp_path / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "storage", str(tmp_path / "storage"), cwd=repo)
    dvc("import", "-q", str(source), "data", cwd=repo)
    (repo / "params.yaml").write_text("lr: 0.1\n")
    (repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: mkdir -p out && sed s/a/A/ data/labels.csv > out/copy.csv\n"
        "    deps: [data]\n    params: [lr]\n    outs: [out]\n"
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "import", cwd=repo)
    dvc("exp", "run", "-q", "-n", "trained", "-S", "lr=0.2", cwd=repo)
    shared = tmp_path / "shared.git"
    git("init", "-q", "--bare", str(shared), cwd=tmp_path)
    dvc("exp", "push", str(shared), "trained", cwd=repo)

    colleague = tmp_path / "colleague"
    git("clone", "-q", str(repo), str(colleague), cwd=tmp_path)
    capsys.readouterr()
    assert main(["pull", str(shared), "trained", "-C", str(colleague)]) == 0
    err = capsys.readouterr().err
    assert "imported output(s) not fetched" in err and "'dvc pull data.dvc'" in err

    assert main(["apply", "trained", "-C", str(colleague)]) == 1
    refused = capsys.readouterr().err
    assert "imported outputs" in refused and str(source) in refused
    assert "dvc pull data.dvc" in refused and "exptui pull" not in refused
    dvc("pull", "data.dvc", cwd=colleague)
    assert main(["apply", "trained", "-C", str(colleague)]) == 0, capsys.readouterr().err
    assert (colleague / "out" / "copy.csv").read_text() == "A,b\n1,2\n"
