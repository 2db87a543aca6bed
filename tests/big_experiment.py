"""An experiment with a large directory output, written the way DVC would (for fault and
scale tests): files in the cache, a byte-exact .dir, and a commit whose dvc.lock lists it."""

from __future__ import annotations

import hashlib
import json
import stat
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
        tracked = {p: repo.files_at(head).read(p) or b"" for p in repo.files_at(head).paths()}
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
        commit = Commit()
        commit.tree = _tree(git, tracked)
        commit.parents = [head.encode()]
        commit.author = commit.committer = b"Big Test <big@example.com>"
        commit.author_time = commit.commit_time = 1_790_000_000
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"dvc: commit experiment " + hashlib.sha256(stage).hexdigest().encode()
        git.object_store.add_object(commit)
        git.refs[f"refs/exps/{head[:2]}/{head[2:]}/{name}".encode()] = commit.id
    return oid


def _tree(git: Repo, files: dict[str, bytes]) -> bytes:
    tree = Tree()
    children: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            children.setdefault(head, {})[rest] = data
            continue
        blob = Blob.from_string(data)
        git.object_store.add_object(blob)
        tree.add(head.encode(), 0o100644, blob.id)
    for name, sub in children.items():
        tree.add(name.encode(), stat.S_IFDIR, _tree(git, sub))
    git.object_store.add_object(tree)
    return tree.id
