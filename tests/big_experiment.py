"""An experiment with a large directory output, written the way DVC would (for fault and
scale tests): files in the cache, a byte-exact .dir, and a commit whose dvc.lock lists it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo

from core.objects import ManifestEntry
from core.odb import LocalObjectStore
from core.repo import Repository


def add_big_experiment(project: Path, name: str, files: int, size: int = 2048) -> str:
    """Commit an experiment on HEAD with a ``data`` directory of ``files`` files."""
    with Repository.open(project) as repo:
        head = repo.head_sha() or ""
        tracked = {"dvc.lock": repo.files_at(head).read("dvc.lock") or b""}
        cache = repo.cache
    entries = []
    store = LocalObjectStore(cache.root)
    for i in range(files):
        data = hashlib.sha256(f"{name}:{i}".encode()).digest() * (size // 32)
        entries.append(ManifestEntry(f"part-{i:05d}.bin", store.add_bytes(data)))
    oid = store.add_manifest(entries)
    lock = yaml.safe_load(tracked["dvc.lock"])
    lock["stages"]["train"]["outs"].insert(0, {"path": "data", "hash": "md5", "md5": oid,
                                                "size": files * size, "nfiles": files})  # fmt: skip
    tracked["dvc.lock"] = yaml.safe_dump(lock, sort_keys=False).encode()
    stage = json.dumps(lock["stages"], sort_keys=True).encode()
    with Repo(str(project)) as git:
        base_commit = git[head.encode()]
        assert isinstance(base_commit, Commit)
        tree = git[base_commit.tree]
        assert isinstance(tree, Tree)
        lock_blob = Blob.from_string(tracked["dvc.lock"])
        git.object_store.add_object(lock_blob)
        tree[b"dvc.lock"] = (0o100644, lock_blob.id)  # the baseline's tree, new dvc.lock
        git.object_store.add_object(tree)
        commit = Commit()
        commit.tree = tree.id
        commit.parents = [head.encode()]
        commit.author = commit.committer = b"Big Test <big@example.com>"
        commit.author_time = commit.commit_time = 1_790_000_000
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"dvc: commit experiment " + hashlib.sha256(stage).hexdigest().encode()
        git.object_store.add_object(commit)
        git.refs[f"refs/exps/{head[:2]}/{head[2:]}/{name}".encode()] = commit.id
    return oid
