"""What an attacker with push access can put in a shared remote, built from real Git objects
and DVC-layout cache files (never mocks): trees with any names, lock files with any outputs,
manifests with any entries. The tests then run exptui on it and look at the disk."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo

from tests.dvc_peer import GIT_IDENTITY

FILE, LINK = 0o100644, 0o120000
Files = dict[str, tuple[int, bytes]]


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_IDENTITY}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def small_project(root: Path) -> Path:
    """A DVC project with one commit (params, a pipeline, DVC's usual .gitignore); the
    victim's clone. Built with git itself, as a user's repository would be."""
    project = root / "project"
    (project / ".dvc").mkdir(parents=True)
    (project / ".dvc" / "config").write_text("")
    (project / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
    (project / "params.yaml").write_text("lr: 0.1\n")
    (project / "dvc.yaml").write_text("stages:\n  train:\n    cmd: python train.py\n")
    (project / ".gitignore").write_text("/model\n")
    git("init", "-q", "-b", "main", ".", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "baseline", cwd=project)
    return project


def cache_object(project: Path, data: bytes, suffix: str = "") -> str:
    """Store ``data`` in the project's cache as DVC would; returns its oid (a manifest's
    ends in ``.dir``, on disk too)."""
    md5 = hashlib.md5(data).hexdigest() + suffix
    target = project / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(data)
        target.chmod(0o444)
    return md5


def dir_output(project: Path, path: str, entries: dict[str, bytes]) -> dict[str, Any]:
    """A directory output whose manifest lists ``entries`` (relpath -> content) verbatim."""
    rows = [{"md5": cache_object(project, data), "relpath": rel} for rel, data in entries.items()]
    manifest = json.dumps(sorted(rows, key=lambda r: r["relpath"]), sort_keys=True).encode()
    oid = cache_object(project, manifest, ".dir")
    return {"path": path, "hash": "md5", "md5": oid, "size": 1, "nfiles": len(rows)}


def file_output(project: Path, path: str, data: bytes) -> dict[str, Any]:
    return {"path": path, "hash": "md5", "md5": cache_object(project, data), "size": len(data)}


def _insert(git_repo: Repo, tree: Tree, parts: list[bytes], mode: int, data: bytes) -> bytes:
    """Put a blob at ``parts`` below ``tree`` (any names: '..', '.git', ...); returns the
    new tree id."""
    name, rest = parts[0], parts[1:]
    if not rest:
        blob = Blob.from_string(data)
        git_repo.object_store.add_object(blob)
        tree[name] = (mode, blob.id)
    else:
        sub = Tree()
        if name in tree:
            found = git_repo[tree[name][1]]
            sub = found if isinstance(found, Tree) else Tree()
        tree[name] = (0o040000, _insert(git_repo, sub, rest, mode, data))
    git_repo.object_store.add_object(tree)
    return tree.id


def hostile_experiment(
    project: Path, name: str, files: Files | None = None, outs: list[dict[str, Any]] | None = None
) -> str:
    """An experiment on HEAD whose tree gains ``files`` (path -> (mode, bytes), names taken
    as they are) and whose pipeline declares and locks ``outs``; returns its SHA."""
    files = dict(files or {})
    if outs:
        stage = {"cmd": "python train.py", "outs": outs}
        lock = {"schema": "2.0", "stages": {"train": stage}}
        declared = {
            "stages": {"train": {"cmd": "python train.py", "outs": [o["path"] for o in outs]}}
        }
        files["dvc.lock"] = (FILE, yaml.safe_dump(lock, sort_keys=False).encode())
        files["dvc.yaml"] = (FILE, yaml.safe_dump(declared, sort_keys=False).encode())
    with Repo(str(project)) as git_repo:
        head = git_repo.head()
        base = git_repo[head]
        assert isinstance(base, Commit)
        tree = git_repo[base.tree]
        assert isinstance(tree, Tree)
        tree_id = tree.id
        for path, (mode, data) in files.items():
            current = git_repo[tree_id]
            assert isinstance(current, Tree)
            tree_id = _insert(git_repo, current, path.encode().split(b"/"), mode, data)
        commit = Commit()
        commit.tree = tree_id
        commit.parents = [head]
        commit.author = commit.committer = b"Mallory <mallory@example.com>"
        commit.author_time = commit.commit_time = 1_790_000_000
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = (
            b"dvc: commit experiment " + hashlib.sha256(name.encode()).hexdigest().encode()
        )
        git_repo.object_store.add_object(commit)
        sha = head.decode()
        git_repo.refs[f"refs/exps/{sha[:2]}/{sha[2:]}/{name}".encode()] = commit.id
        return commit.id.decode()


def fingerprint(root: Path) -> dict[str, object]:
    """Every path below ``root`` with its type, mode and content (links by target): equal
    fingerprints mean nothing there changed."""
    seen: dict[str, object] = {}
    for top, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(top, name)
            rel = path.relative_to(root).as_posix()
            info = path.lstat()
            if path.is_symlink():
                seen[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                seen[rel] = ("dir", oct(info.st_mode))
            else:
                seen[rel] = ("file", oct(info.st_mode), path.read_bytes())
    return seen


@contextmanager
def dvc_holding_the_lock(project: Path, pid: int = 4242) -> Iterator[None]:
    """``.dvc/tmp/lock`` held for the body the way a running dvc holds it (zc.lockfile's
    flock, the holder's pid in the file)."""
    lock = project / ".dvc" / "tmp" / "lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:
        held.write(f" {pid}\n")
        held.flush()
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
