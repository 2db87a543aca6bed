"""Commits copied out of a path remote's objects: exactly what git would need, and from a
broken or forged repository nothing at all."""

from __future__ import annotations

import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from dulwich.object_format import SHA1
from dulwich.objects import Blob
from dulwich.pack import write_pack_index, write_pack_objects
from dulwich.repo import Repo

from core.errors import RemoteError, Stopped
from core.git.localcopy import copy_commits
from core.project.repo import Repository
from tests.helpers import git


def make_pair(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A remote with three experiment commits on top of main, and a clone of main alone
    (``--no-local``: git hard-links every object otherwise)."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git("init", "-q", "-b", "main", cwd=origin)
    (origin / ".dvc").mkdir()
    (origin / ".dvc" / "config").write_text("")
    (origin / "params.yaml").write_text("lr: 0.1\n")
    git("add", "-A", cwd=origin)
    git("commit", "-q", "-m", "baseline", cwd=origin)
    baseline = git("rev-parse", "HEAD", cwd=origin).strip()
    exps = []
    for i in range(3):
        git("checkout", "-q", baseline, cwd=origin)
        (origin / "params.yaml").write_text(f"lr: 0.{i + 2}\n")
        (origin / "src").mkdir(exist_ok=True)
        (origin / "src" / f"model{i}.py").write_text(f"layers = {i}\n")
        git("add", "-A", cwd=origin)
        git("commit", "-q", "-m", f"exp {i}", cwd=origin)
        sha = git("rev-parse", "HEAD", cwd=origin).strip()
        git("update-ref", f"refs/exps/{baseline[:2]}/{baseline[2:]}/exp-{i}", sha, cwd=origin)
        exps.append(sha)
    git("checkout", "-q", "main", cwd=origin)
    git("clone", "-q", "--no-local", f"file://{origin}", "local", cwd=tmp_path)
    (tmp_path / "local" / ".dvc").mkdir(exist_ok=True)
    return origin, tmp_path / "local", exps


def missing_objects(repo: Path, sha: str) -> list[str]:
    """What git finds missing under ``sha`` (nothing, in a sound repository)."""
    listed = git("rev-list", "--objects", "--missing=print", sha, cwd=repo)
    return [line for line in listed.splitlines() if line.startswith("?")]


def has(repo: Path, sha: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", sha], cwd=repo).returncode == 0


def loose(repo: Path, sha: str) -> Path:
    return repo / ".git" / "objects" / sha[:2] / sha[2:]


def test_the_copy_is_what_git_needs_and_nothing_twice(tmp_path: Path) -> None:
    origin, local, exps = make_pair(tmp_path)
    assert not any(has(local, sha) for sha in exps)
    with Repository.open(local) as repo, Repo(str(origin)) as remote:
        copied = copy_commits(remote, repo, [*exps, "0" * 40])  # one the remote lacks
    needed = git("rev-list", "--objects", *exps, "^main", cwd=origin).splitlines()
    assert copied == len(needed) == 15  # per experiment: commit, 2 trees, 2 files
    for sha in exps:
        assert missing_objects(local, sha) == []
    subprocess.run(["git", "fsck", "--connectivity-only", "--no-dangling"], cwd=local, check=True)
    with Repository.open(local) as repo, Repo(str(origin)) as remote:
        assert copy_commits(remote, repo, exps) == 0


@pytest.mark.parametrize("gone", ["^{tree}", ":src/model1.py"])  # read, or only looked up
def test_an_object_missing_under_a_wanted_commit_stops_the_copy(tmp_path: Path, gone: str) -> None:
    origin, local, exps = make_pair(tmp_path)
    missing = git("rev-parse", f"{exps[1]}{gone}", cwd=origin).strip()
    loose(origin, missing).unlink()
    broken = pytest.raises(RemoteError, match=f"broken: object {missing} is missing")
    with Repository.open(local) as repo, Repo(str(origin)) as remote, broken:
        copy_commits(remote, repo, exps)
    assert not any(has(local, sha) for sha in exps)  # nothing written, not even exp 0


def test_an_object_that_is_not_what_its_name_says_stops_the_copy(tmp_path: Path) -> None:
    origin, local, exps = make_pair(tmp_path)
    blob = git("rev-parse", f"{exps[2]}:src/model2.py", cwd=origin).strip()
    other = git("rev-parse", f"{exps[0]}:src/model0.py", cwd=origin).strip()
    target = loose(origin, blob)
    target.chmod(0o644)
    shutil.copyfile(loose(origin, other), target)  # valid bytes, under another name
    assert zlib.decompress(target.read_bytes()).startswith(b"blob ")
    forged = pytest.raises(RemoteError, match=f"object {blob} does not hash to its name")
    with Repository.open(local) as repo, Repo(str(origin)) as remote, forged:
        copy_commits(remote, repo, exps)
    assert not any(has(local, sha) for sha in exps)


def test_a_pack_whose_index_names_other_bytes_stops_the_copy(tmp_path: Path) -> None:
    """A pack's index maps ids to offsets and nothing checks the bytes there: the copy
    hashes what it read, so a forged pack cannot plant other content under a real id."""
    origin, local, exps = make_pair(tmp_path)
    blob = git("rev-parse", f"{exps[2]}:src/model2.py", cwd=origin).strip()
    loose(origin, blob).unlink()  # the forged pack is now the only place it is found
    evil = Blob.from_string(b"import os; os.system('...')\n")
    pack = origin / ".git" / "objects" / "pack" / "pack-forged"
    with open(f"{pack}.pack", "wb") as data:
        entries, checksum = write_pack_objects(data.write, [(evil, None)], object_format=SHA1)
    (offset, crc) = next(iter(entries.values()))
    with open(f"{pack}.idx", "wb") as index:
        write_pack_index(index, [(bytes.fromhex(blob), offset, crc)], checksum)
    forged = pytest.raises(RemoteError, match=f"object {blob} does not hash to its name")
    with Repository.open(local) as repo, Repo(str(origin)) as remote, forged:
        copy_commits(remote, repo, exps)
    assert not any(has(local, sha) for sha in [*exps, blob])


@pytest.mark.parametrize("when", ["walking", "writing"])
def test_a_stopped_copy_writes_nothing(tmp_path: Path, when: str) -> None:
    """q while a path remote's commits are copied: the copy ends at the next look at the
    flag, in the walk or while its pack is written, and leaves nothing behind (the app
    waited for the whole copy before)."""
    origin, local, exps = make_pair(tmp_path)
    packs = local / ".git" / "objects" / "pack"

    def writing() -> bool:  # dulwich writes the pack to a temporary file first
        return any(p.name.startswith("tmp") for p in packs.iterdir())

    stopped = writing if when == "writing" else lambda: True
    stopping = pytest.raises(Stopped)
    with Repository.open(local) as repo, Repo(str(origin)) as remote, stopping:
        copy_commits(remote, repo, exps, stopped)
    assert not any(has(local, sha) for sha in exps)
    assert not writing()
