"""``dvc import`` outputs: ``dvc exp push`` never uploads them and ``dvc exp pull`` fetches
them from the source project's DVC remote. exptui pulls them the same way, from a source
on this machine (its workspace config) and from a Git URL (the locked revision's config),
and names a source it cannot reach instead of leaving a gap."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import Dvc, git
from tests.servers import git_daemon
from tui.cli import main

pytestmark = pytest.mark.dvc


@dataclass(frozen=True)
class Imported:
    registry: Path  # the source project, its data pushed to its own DVC remote
    shared: Path  # the bare Git remote the experiment was pushed to


def make_registry(dvc: Dvc, root: Path) -> Path:
    """A data registry whose data is only on its own DVC remote."""
    registry = root / "registry"
    (registry / "data").mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=registry)
    dvc("init", "-q", cwd=registry)
    dvc("remote", "add", "-d", "store", str(root / "registry-store"), cwd=registry)
    (registry / "data" / "labels.csv").write_text("a,b\n1,2\n")
    dvc("add", "-q", "data", cwd=registry)
    git("add", "-A", cwd=registry)
    git("commit", "-qm", "data", cwd=registry)
    dvc("push", "-q", cwd=registry)
    return registry


def make_project(dvc: Dvc, root: Path, registry: Path, source: str) -> Imported:
    """A project importing the registry's data from ``source``, one experiment pushed by
    dvc (which leaves the import's data out)."""
    repo = root / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "storage", str(root / "storage"), cwd=repo)
    dvc("import", "-q", source, "data", cwd=repo)
    (repo / "params.yaml").write_text("lr: 0.1\n")
    (repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: mkdir -p out && sed s/a/A/ data/labels.csv > out/copy.csv\n"
        "    deps: [data]\n    params: [lr]\n    outs: [out]\n"
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "import", cwd=repo)
    dvc("exp", "run", "-q", "-n", "trained", "-S", "lr=0.2", cwd=repo)
    shared = root / "shared.git"
    git("init", "-q", "--bare", str(shared), cwd=root)
    dvc("exp", "push", str(shared), "trained", cwd=repo)
    return Imported(registry, shared)


def build(dvc: Dvc, root: Path) -> Imported:
    registry = make_registry(dvc, root)
    return make_project(dvc, root, registry, str(registry))


def cached(project: Path) -> dict[str, bytes]:
    root = project / ".dvc" / "cache"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def pull_both_ways(dvc: Dvc, setup: Imported, root: Path) -> Path:
    """dvc exp pull in one clone, exptui pull in another; the caches must be equal."""
    clones = {}
    for who in ("dvc", "exptui"):
        clones[who] = root / who
        git("clone", "-q", str(root / "project"), str(clones[who]), cwd=root)
    dvc("exp", "pull", str(setup.shared), "trained", cwd=clones["dvc"])
    assert main(["pull", str(setup.shared), "trained", "-C", str(clones["exptui"])]) == 0
    assert len(cached(clones["dvc"])) == 4  # out's .dir and file, the import's .dir and file
    assert cached(clones["exptui"]) == cached(clones["dvc"])
    return clones["exptui"]


def test_an_import_from_a_local_source_is_pulled_as_dvc_pulls_it(
    dvc: Dvc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = build(dvc, tmp_path)
    colleague = pull_both_ways(dvc, setup, tmp_path)
    assert "not fetched" not in capsys.readouterr().err
    assert main(["apply", "trained", "-C", str(colleague)]) == 0, capsys.readouterr().err
    assert (colleague / "out" / "copy.csv").read_text() == "A,b\n1,2\n"
    assert (colleague / "data" / "labels.csv").read_text() == "a,b\n1,2\n"
    assert "up to date" in dvc("status", cwd=colleague)


def test_an_import_from_a_git_url_is_pulled_from_its_locked_revision(
    dvc: Dvc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = make_registry(dvc, tmp_path)
    served = tmp_path / "served"
    served.mkdir()
    git("clone", "-q", "--bare", str(registry), str(served / "registry.git"), cwd=tmp_path)
    with git_daemon(served) as base:
        setup = make_project(dvc, tmp_path, registry, f"{base}/registry.git")
        pull_both_ways(dvc, setup, tmp_path)
    assert "not fetched" not in capsys.readouterr().err


def test_an_unreachable_source_is_named_and_apply_says_how_to_fetch_it(
    dvc: Dvc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = build(dvc, tmp_path)
    shutil.rmtree(setup.registry)  # the registry moved away since the import
    colleague = tmp_path / "colleague"
    git("clone", "-q", str(tmp_path / "project"), str(colleague), cwd=tmp_path)
    capsys.readouterr()
    assert main(["pull", str(setup.shared), "trained", "-C", str(colleague)]) == 0
    err = capsys.readouterr().err
    assert "imported output data not fetched: the import source" in err
    assert str(setup.registry) in err
    assert main(["apply", "trained", "-C", str(colleague)]) == 1
    refused = capsys.readouterr().err
    assert "imported outputs" in refused and "dvc pull data.dvc" in refused
    assert "exptui pull" not in refused
