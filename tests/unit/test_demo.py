"""The demo workspace: every sync state at once, data where it belongs, safe to re-run."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from dulwich.repo import Repo

from core.data.objects import object_relpath
from core.demo import EXPERIMENTS, build_demo
from core.errors import DemoError
from core.git.refs import ExpRef, is_experiment_namespace
from core.project.repo import Repository


def exp_refs(repo_path: Path) -> dict[tuple[str, str], str]:
    with Repo(str(repo_path)) as repo:
        return {
            (ExpRef.parse(r).baseline, ExpRef.parse(r).name): sha.decode()
            for r, sha in ((k.decode(), v) for k, v in repo.refs.as_dict().items())
            if is_experiment_namespace(r)
        }


def test_demo_shows_every_sync_state(demo_dir: Path) -> None:
    local = exp_refs(demo_dir)
    remote = exp_refs(demo_dir.parent / "origin.git")
    assert len(local) >= 8
    local_only = local.keys() - remote.keys()
    remote_only = remote.keys() - local.keys()
    shared = local.keys() & remote.keys()
    in_sync = {k for k in shared if local[k] == remote[k]}
    diverged = shared - in_sync
    assert local_only and remote_only and in_sync and diverged
    with Repository.open(demo_dir) as repo:
        for key in diverged:  # same parent, different commits: siblings
            assert not repo.has_commit(remote[key])
        baselines = {b for b, _ in local}
        assert len(baselines) >= 2
        for key in remote_only:
            assert not repo.has_commit(remote[key])  # really only on the remote


def test_data_lives_where_each_state_says(demo_dir: Path) -> None:
    storage = demo_dir.parent / "storage"
    with Repository.open(demo_dir) as repo:
        for exp in repo.experiments():
            spec = next(e for e in EXPERIMENTS if e.name == exp.name)
            for out in repo.project_state(exp.sha).outputs:
                if not out.cache or out.oid is None:
                    continue
                in_cache = repo.cache.exists(out.oid)
                on_remote = (storage / object_relpath(out.oid)).is_file()
                assert in_cache, (exp.name, out.path)
                if spec.where == "both":
                    assert on_remote, (exp.name, out.path)


def test_cache_objects_are_read_only_and_dirs_complete(demo_dir: Path) -> None:
    with Repository.open(demo_dir) as repo:
        for path in repo.cache.root.rglob("*"):
            if path.is_file():
                assert stat.S_IMODE(os.stat(path).st_mode) == 0o444, path
        for path in repo.cache.root.rglob("*.dir"):
            oid = path.parent.name + path.name
            for entry in repo.cache.read_manifest(oid) or []:
                assert repo.cache.exists(entry.md5)


def test_running_demo_twice_reuses_the_first_build(tmp_path: Path) -> None:
    first = build_demo(tmp_path / "d")
    marker = (first / ".git" / "HEAD").stat().st_mtime_ns
    assert build_demo(tmp_path / "d") == first
    assert (first / ".git" / "HEAD").stat().st_mtime_ns == marker


def test_demo_refuses_a_directory_that_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("precious")
    with pytest.raises(DemoError, match="not an exptui demo"):
        build_demo(tmp_path / "busy")
    assert (tmp_path / "busy" / "thesis.tex").read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["busy"]  # no partial build left behind
