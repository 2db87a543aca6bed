"""--run-cache: entries DVC wrote go to the DVC remote and come back byte for byte, only
the missing ones, and real DVC then skips a run it finds there. A damaged entry is
refused. Values YAML 1.1 and 1.2 read differently (yes, on) are in the params on purpose:
an entry's name is the hash of its content as DVC reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.bounded import MAX_VALUES_BYTES
from core.data.runcache import value_hash
from core.project.yaml12 import load_yaml12
from tests.helpers import Dvc, git, run_json

TRAIN = "import yaml\np = yaml.safe_load(open('params.yaml'))\nopen('out.txt', 'w').write(str(p))\n"
PIPELINE = (
    "stages:\n  s:\n    cmd: python t.py\n    deps: [t.py]\n"
    "    params: [lr, flag, name]\n    outs: [out.txt]\n"
)


@pytest.fixture
def project(dvc: Dvc, tmp_path: Path) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / "params.yaml").write_text("lr: 0.1\nflag: yes\nname: 'on'\n")
    (repo / "t.py").write_text(TRAIN)
    (repo / "dvc.yaml").write_text(PIPELINE)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "storage", str(tmp_path / "storage"), cwd=repo)
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "baseline", cwd=repo)
    dvc("exp", "run", "-q", "-n", "faster", "-S", "lr=0.2", cwd=repo)
    git("init", "-q", "--bare", "-b", "main", str(tmp_path / "origin.git"), cwd=tmp_path)
    git("remote", "add", "origin", str(tmp_path / "origin.git"), cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    return repo


def runs(root: Path) -> dict[str, bytes]:
    base = root / "runs"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def test_entries_are_named_by_their_content_as_dvc_reads_it(project: Path) -> None:
    entries = runs(project / ".dvc" / "cache")
    assert len(entries) == 2
    for rel, data in entries.items():
        assert rel.rsplit("/", 1)[1] == value_hash(load_yaml12(data))


def test_push_and_pull_the_run_cache_then_dvc_skips_the_run(
    project: Path, dvc: Dvc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = tmp_path / "storage"
    args = ["push", "origin", "faster", "--run-cache", "-C", str(project)]
    code, result = run_json(capsys, *args)
    assert code == 0 and result["run_cache"]["moved"] == 2
    assert runs(storage) == runs(project / ".dvc" / "cache")
    code, again = run_json(capsys, *args)
    assert code == 0 and again["run_cache"] == {
        "remote": "storage",
        "moved": 0,
        "already": 2,
        "rejected": {},
    }

    clone = tmp_path / "clone"
    git("clone", "-q", str(tmp_path / "origin.git"), str(clone), cwd=tmp_path)
    code, pulled = run_json(capsys, "pull", "origin", "faster", "--run-cache", "-C", str(clone))
    assert code == 0 and pulled["run_cache"]["moved"] == 2
    assert runs(clone / ".dvc" / "cache") == runs(storage)
    out = dvc("exp", "run", "-S", "lr=0.2", cwd=clone)
    assert "is cached - skipping run" in out, out


def test_a_damaged_entry_never_enters_the_cache(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = tmp_path / "storage"
    code, _ = run_json(capsys, "push", "origin", "faster", "--run-cache", "-C", str(project))
    assert code == 0
    victim = next(p for p in (storage / "runs").rglob("*") if p.is_file())
    victim.chmod(0o644)
    victim.write_text(victim.read_text().replace("0.1", "0.9").replace("0.2", "0.9"))
    clone = tmp_path / "clone"
    git("clone", "-q", str(tmp_path / "origin.git"), str(clone), cwd=tmp_path)
    code, pulled = run_json(capsys, "pull", "origin", "faster", "--run-cache", "-C", str(clone))
    assert code == 1 and pulled["run_cache"]["moved"] == 1
    (rejected,) = pulled["run_cache"]["rejected"]
    assert rejected.endswith(victim.name) and "corrupt" in pulled["run_cache"]["rejected"][rejected]
    assert not (clone / ".dvc" / "cache" / rejected).exists()


def test_an_endless_entry_is_refused_while_it_downloads(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No size is recorded for a run-cache entry: the bound on the values it holds stops
    the download, so a hostile remote cannot fill the disk through one."""
    storage = tmp_path / "storage"
    code, _ = run_json(capsys, "push", "origin", "faster", "--run-cache", "-C", str(project))
    assert code == 0
    victim = next(p for p in (storage / "runs").rglob("*") if p.is_file())
    victim.chmod(0o644)
    victim.write_bytes(b"#" * (MAX_VALUES_BYTES + (3 << 20)))
    clone = tmp_path / "clone"
    git("clone", "-q", str(tmp_path / "origin.git"), str(clone), cwd=tmp_path)
    code, pulled = run_json(capsys, "pull", "origin", "faster", "--run-cache", "-C", str(clone))
    assert code == 1
    (rejected,) = pulled["run_cache"]["rejected"]
    assert (
        f"larger than the {MAX_VALUES_BYTES:,} bytes" in pulled["run_cache"]["rejected"][rejected]
    )
    assert not (clone / ".dvc" / "cache" / rejected).exists()
    assert not list((clone / ".dvc" / "cache").rglob("*.tmp"))
