"""Experiments written the way DVC would (for fault, scale and hostile-input tests): objects
in the cache, byte-exact .dir manifests, and a commit whose dvc.lock lists the output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo

from core.data.objects import ManifestEntry
from core.data.stores import LocalStore
from core.project.repo import Repository


def commit_experiment(project: Path, name: str, extra_outs: list[dict[str, Any]]) -> str:
    """An experiment on HEAD whose pipeline gains ``extra_outs`` (declared in dvc.yaml and
    recorded in dvc.lock, as DVC would have them); returns its SHA."""
    with Repository.open(project) as repo:
        head = repo.head_sha() or ""
        lock = yaml.safe_load(repo.files_at(head).read("dvc.lock") or b"")
        pipeline = yaml.safe_load(repo.files_at(head).read("dvc.yaml") or b"")
    lock["stages"]["train"]["outs"][:0] = extra_outs
    pipeline["stages"]["train"]["outs"][:0] = [out["path"] for out in extra_outs]
    data = yaml.safe_dump(lock, sort_keys=False).encode()
    declared = yaml.safe_dump(pipeline, sort_keys=False).encode()
    stage = json.dumps(lock["stages"], sort_keys=True).encode()
    with Repo(str(project)) as git:
        base = git[head.encode()]
        assert isinstance(base, Commit)
        tree = git[base.tree]
        assert isinstance(tree, Tree)
        blob = Blob.from_string(data)
        git.object_store.add_object(blob)
        tree[b"dvc.lock"] = (0o100644, blob.id)  # the baseline's tree, new dvc.lock/yaml
        yaml_blob = Blob.from_string(declared)
        git.object_store.add_object(yaml_blob)
        tree[b"dvc.yaml"] = (0o100644, yaml_blob.id)
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
        return commit.id.decode()


def add_big_experiment(
    project: Path, name: str, files: int, size: int = 2048, seed: str | None = None
) -> str:
    """An experiment with a ``data`` directory of ``files`` files; returns the .dir oid.
    Experiments with the same ``seed`` share their first files (dataset versions)."""
    with Repository.open(project) as repo:
        store = LocalStore(repo.cache.root)
    entries = []
    for i in range(files):
        data = hashlib.sha256(f"{seed or name}:{i}".encode()).digest() * (size // 32)
        entries.append(ManifestEntry(f"part-{i:05d}.bin", store.add_bytes(data)))
    oid = store.add_manifest(entries)
    out = {"path": "data", "hash": "md5", "md5": oid, "size": files * size, "nfiles": files}
    commit_experiment(project, name, [out])
    return oid


def add_raw_dir_output(project: Path, name: str, manifest: bytes, path: str = "data") -> str:
    """An experiment whose directory output has exactly these manifest bytes (hostile ones
    included: they are written as DVC would store any .dir)."""
    with Repository.open(project) as repo:
        root = repo.cache.root
    oid = hashlib.md5(manifest).hexdigest() + ".dir"
    target = root / "files" / "md5" / oid[:2] / oid[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(manifest)
    out = {"path": path, "hash": "md5", "md5": oid, "size": 1, "nfiles": 1}
    return commit_experiment(project, name, [out])
