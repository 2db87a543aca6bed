"""The self-contained demo workspace a newcomer sees first (``exptui demo``).

It is built with exptui's own code, byte-compatible with DVC (DVC_FORMAT §3.3, §5): a Git
project with a one-stage pipeline, two baselines, experiments across them with cached
outputs, a bare Git remote ``origin`` and a local DVC remote ``storage`` (the default),
arranged so every sync state shows at once: local only, remote only, in sync (one of them
with its data never pushed, the half-shared state DVC leaves behind), and diverged.

Layout: ``<dir>/project`` (the workspace), ``<dir>/origin.git``, ``<dir>/storage``. The
whole tree is built under a temporary sibling and renamed into place, so an interrupted
build leaves nothing half-made, and a second run just reuses the finished one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import stat
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from dulwich.index import build_index_from_tree
from dulwich.object_store import BaseObjectStore
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.repo import Repo

from core.data.objects import ManifestEntry, md5_bytes
from core.data.stores import LocalStore
from core.demo_train import train
from core.errors import DemoError
from core.git.ids import refname

MARKER = ".exptui-demo"
DEMO_VERSION = "1"
HOUR = 3600

YOU = b"Dana Demo <dana@example.com>"
ALICE = b"Alice Chen <alice@example.com>"
CI = b"CI Runner <ci@example.com>"

BASE_PARAMS: dict[str, Any] = {
    "seed": 42,
    "train": {"lr": 0.01, "epochs": 10, "batch_size": 32},
    "model": {"layers": 4, "dropout": 0.2},
}
# The newer baseline on main trains longer with a lower dropout.
MAIN_PARAMS: dict[str, Any] = {**BASE_PARAMS, "train": {**BASE_PARAMS["train"], "epochs": 20}}
MAIN_PARAMS["model"] = {"layers": 4, "dropout": 0.25}

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps:
    - train.py
    params:
    - seed
    - train
    - model
    outs:
    - model.pkl
    - eval
    metrics:
    - metrics.json:
        cache: false
plots:
- eval/history.tsv:
    x: step
    y: [accuracy, loss]
- eval/predictions.csv:
    template: confusion
    x: label
    y: predicted
"""
DVCIGNORE = """\
# Add patterns of files dvc should ignore, which could improve
# the performance. Learn more at
# https://dvc.org/doc/user-guide/dvcignore
"""


@dataclass(frozen=True)
class DemoExperiment:
    """One experiment of the demo and where it should end up."""

    name: str
    baseline: str  # "v1.0" or "main"
    overrides: dict[str, dict[str, Any]]
    where: str  # "local", "remote", "both", "both-no-data", "diverged"
    author: bytes = YOU
    hours_ago: float = 1.0
    remote_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)


EXPERIMENTS: tuple[DemoExperiment, ...] = (
    DemoExperiment("tuned-lr", "main", {"train": {"lr": 0.02}}, "local", hours_ago=1.5),
    DemoExperiment("quick-test", "main", {"train": {"epochs": 5}}, "local", hours_ago=0.3),
    DemoExperiment("wide-net", "main", {"model": {"layers": 8}}, "both", hours_ago=20),
    DemoExperiment("long-run", "main", {"train": {"epochs": 40}}, "both", hours_ago=30),
    DemoExperiment("brisk-lynx", "main", {"train": {"lr": 0.005}}, "both-no-data", hours_ago=6),
    DemoExperiment(
        "big-batch",
        "main",
        {"train": {"batch_size": 128}},
        "diverged",
        hours_ago=3,
        remote_overrides={"train": {"batch_size": 256}},
    ),
    DemoExperiment("alice-drop", "main", {"model": {"dropout": 0.4}}, "remote", ALICE, hours_ago=9),
    DemoExperiment(
        "ci-nightly", "main", {"train": {"epochs": 30, "lr": 0.015}}, "remote", CI, hours_ago=14
    ),
    DemoExperiment("sgd-base", "v1.0", {"train": {"lr": 0.05}}, "both", hours_ago=200),
    DemoExperiment("old-adam", "v1.0", {"seed": {"": 7}}, "local", hours_ago=180),
    DemoExperiment("gusty-fern", "v1.0", {"model": {"layers": 6}}, "remote", ALICE, hours_ago=190),
)


def default_demo_dir() -> Path:
    """Where ``exptui demo`` builds when no directory is given."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "exptui" / "demo"


def build_demo(target: Path, now: float | None = None) -> Path:
    """Build the demo under ``target`` (or reuse a finished one) and return the workspace."""
    target = Path(target).expanduser().absolute()
    if (target / MARKER).is_file():
        return target / "project"
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DemoError(
            f"'{target}' exists and is not an exptui demo.",
            "Give an empty or new directory: exptui demo DIR.",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        _Builder(partial, target, time.time() if now is None else now).build()
        (partial / MARKER).write_text(DEMO_VERSION + "\n")
        if target.exists():
            target.rmdir()
        os.replace(partial, target)
    except BaseException:
        _remove_tree(partial)
        raise
    return target / "project"


def _remove_tree(path: Path) -> None:
    """rmtree that also removes read-only cache objects and directories."""

    def make_writable(func: Any, failed: str, _exc: Any) -> None:
        os.chmod(os.path.dirname(failed), 0o755)
        os.chmod(failed, stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR)
        func(failed)

    if path.exists():
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=make_writable)
        else:
            shutil.rmtree(path, onerror=make_writable)


def _merge(base: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    params = copy.deepcopy(base)
    for section, values in overrides.items():
        for key, value in values.items():
            if key == "":
                params[section] = value  # a top-level scalar such as "seed"
            else:
                params[section][key] = value
    return params


class _Builder:
    """Writes the demo into ``root``; ``final`` is where it will live (for absolute URLs)."""

    def __init__(self, root: Path, final: Path, now: float) -> None:
        self.root = root
        self.final = final
        self.now = int(now)
        self.project_dir = root / "project"
        self.project = Repo.init(str(self._mkdir(self.project_dir)))
        self.origin = Repo.init_bare(str(self._mkdir(root / "origin.git")))
        self.cache = LocalStore(self.project_dir / ".dvc" / "cache")
        self.storage = LocalStore(self._mkdir(root / "storage"))
        self.train_py = resources.files("core").joinpath("demo_train.py").read_bytes()

    @staticmethod
    def _mkdir(path: Path) -> Path:
        path.mkdir(parents=True)
        return path

    def build(self) -> None:
        try:
            v1 = self._baseline(BASE_PARAMS, "Train the first model", self.now - 12 * 24 * HOUR)
            main = self._baseline(
                MAIN_PARAMS, "Train longer with more dropout", self.now - 4 * 24 * HOUR, [v1]
            )
            baselines = {"v1.0": v1, "main": main}
            for exp in EXPERIMENTS:
                self._experiment(exp, baselines[exp.baseline])
            self._finish_refs(v1, main)
            self._checkout(main)
        finally:
            self.project.close()
            self.origin.close()

    # -- project files ------------------------------------------------------------------

    def _files(self, params: dict[str, Any]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """(Git-tracked files, cached outputs) of the project trained with ``params``."""
        outputs = train(params)
        metrics = outputs.pop("metrics.json")
        lock = self._lock(params, outputs, metrics)
        tracked = {
            ".dvc/.gitignore": b"/config.local\n/tmp\n/cache\n",
            ".dvc/config": self._dvc_config(),
            ".dvcignore": DVCIGNORE.encode(),
            ".gitignore": b"/model.pkl\n/eval\n",
            "dvc.yaml": DVC_YAML.encode(),
            "dvc.lock": yaml.safe_dump(lock, sort_keys=False).encode(),
            "metrics.json": metrics,
            "params.yaml": yaml.safe_dump(params, sort_keys=False).encode(),
            "train.py": self.train_py,
        }
        return tracked, outputs

    def _dvc_config(self) -> bytes:
        # An absolute URL: DVC resolves a relative one from a commit against '/.dvc'
        # during exp push/pull (DVC_FORMAT §6.2), which would scatter the demo's data.
        storage = self.final / "storage"
        return (
            f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {storage}\n".encode()
        )

    def _lock(
        self, params: dict[str, Any], outputs: dict[str, bytes], metrics: bytes
    ) -> dict[str, Any]:
        eval_entries = [
            ManifestEntry(path.split("/", 1)[1], md5_bytes(data))
            for path, data in outputs.items()
            if path.startswith("eval/")
        ]
        from core.data.objects import manifest_oid, serialize_manifest

        eval_oid = manifest_oid(serialize_manifest(eval_entries))
        eval_size = sum(len(d) for p, d in outputs.items() if p.startswith("eval/"))
        model = outputs["model.pkl"]
        stage = {
            "cmd": "python train.py",
            "deps": [_lock_file("train.py", self.train_py)],
            "params": {"params.yaml": {k: params[k] for k in sorted(params)}},
            "outs": [
                {
                    "path": "eval",
                    "hash": "md5",
                    "md5": eval_oid,
                    "size": eval_size,
                    "nfiles": len(eval_entries),
                },
                _lock_file("metrics.json", metrics),
                _lock_file("model.pkl", model),
            ],
        }
        return {"schema": "2.0", "stages": {"train": stage}}

    def _store_outputs(self, outputs: dict[str, bytes], stores: Iterable[LocalStore]) -> None:
        """Files first, the ``eval`` manifest last, in every given store."""
        for store in stores:
            entries = []
            for path, data in outputs.items():
                oid = store.add_bytes(data)
                if path.startswith("eval/"):
                    entries.append(ManifestEntry(path.split("/", 1)[1], oid))
            store.add_manifest(entries)

    # -- commits --------------------------------------------------------------------------

    def _baseline(
        self, params: dict[str, Any], message: str, when: int, parents: list[ObjectID] | None = None
    ) -> ObjectID:
        tracked, outputs = self._files(params)
        self._store_outputs(outputs, [self.cache, self.storage])
        stores = [self.project.object_store, self.origin.object_store]
        return _commit(stores, tracked, parents or [], YOU, when, message.encode() + b"\n")

    def _experiment(self, exp: DemoExperiment, baseline: ObjectID) -> None:
        base = BASE_PARAMS if exp.baseline == "v1.0" else MAIN_PARAMS
        when = self.now - int(exp.hours_ago * HOUR)
        ref = refname(b"refs/exps/%s/%s/%s" % (baseline[:2], baseline[2:], exp.name.encode()))
        local_sha = remote_sha = None
        if exp.where != "remote":
            local_sha = self._exp_commit(
                _merge(base, exp.overrides),
                baseline,
                exp,
                when,
                data_stores=[self.cache],
                on_origin=False,
            )
            self.project.refs[ref] = local_sha
        if exp.where in ("both", "both-no-data"):
            self._copy_commit(local_sha)
            remote_sha = local_sha
            if exp.where == "both":
                self._store_outputs(train(_merge(base, exp.overrides)), [self.storage])
        elif exp.where in ("remote", "diverged"):
            overrides = exp.remote_overrides or exp.overrides
            remote_sha = self._exp_commit(
                _merge(base, overrides),
                baseline,
                exp,
                when - 600,
                data_stores=[self.storage],
                on_origin=True,
            )
        if remote_sha is not None:
            self.origin.refs[ref] = remote_sha

    def _exp_commit(
        self,
        params: dict[str, Any],
        baseline: ObjectID,
        exp: DemoExperiment,
        when: int,
        data_stores: list[LocalStore],
        on_origin: bool,
    ) -> ObjectID:
        tracked, outputs = self._files(params)
        metrics = outputs.pop("metrics.json", None)
        assert metrics is None  # metrics are Git-tracked, never cached
        self._store_outputs(outputs, data_stores)
        lock = yaml.safe_load(tracked["dvc.lock"])
        exp_hash = hashlib.sha256(json.dumps(lock["stages"], sort_keys=True).encode()).hexdigest()
        store = self.origin.object_store if on_origin else self.project.object_store
        message = f"dvc: commit experiment {exp_hash}".encode()  # no trailing newline, as DVC
        return _commit([store], tracked, [baseline], exp.author, when, message)

    def _copy_commit(self, sha: ObjectID | None) -> None:
        assert sha is not None
        commit = self.project.object_store[sha]
        assert isinstance(commit, Commit)
        for obj in _tree_objects(self.project.object_store, commit.tree):
            self.origin.object_store.add_object(obj)
        self.origin.object_store.add_object(commit)

    def _finish_refs(self, v1: ObjectID, main: ObjectID) -> None:
        for repo in (self.project, self.origin):
            repo.refs[refname("refs/heads/main")] = main
            repo.refs[refname("refs/tags/v1.0")] = v1
            repo.refs.set_symbolic_ref(refname("HEAD"), refname("refs/heads/main"))
        self.project.refs[refname("refs/remotes/origin/main")] = main
        config = self.project.get_config()
        config.set((b"user",), b"name", b"Dana Demo")
        config.set((b"user",), b"email", b"dana@example.com")
        origin_url = str(self.final / "origin.git").encode()
        config.set((b"remote", b"origin"), b"url", origin_url)
        config.set((b"remote", b"origin"), b"fetch", b"+refs/heads/*:refs/remotes/origin/*")
        config.set((b"branch", b"main"), b"remote", b"origin")
        config.set((b"branch", b"main"), b"merge", b"refs/heads/main")
        config.write_to_path()

    def _checkout(self, main: ObjectID) -> None:
        """Write HEAD's files and index, then check out its outputs from the cache."""
        commit = self.project.object_store[main]
        assert isinstance(commit, Commit)
        build_index_from_tree(
            str(self.project_dir),
            self.project.index_path(),
            self.project.object_store,
            commit.tree,
        )
        for path, data in train(MAIN_PARAMS).items():
            if path == "metrics.json":
                continue
            target = self.project_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _lock_file(path: str, data: bytes) -> dict[str, Any]:
    return {"path": path, "hash": "md5", "md5": md5_bytes(data), "size": len(data)}


def _commit(
    stores: Iterable[BaseObjectStore],
    files: dict[str, bytes],
    parents: list[ObjectID],
    author: bytes,
    when: int,
    message: bytes,
) -> ObjectID:
    stores = list(stores)
    tree_id = _write_tree(stores, files)
    commit = Commit()
    commit.tree = tree_id
    commit.parents = parents
    commit.author = commit.committer = author
    commit.author_time = commit.commit_time = when
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message
    for store in stores:
        store.add_object(commit)
    return commit.id


def _write_tree(stores: list[BaseObjectStore], files: dict[str, bytes]) -> ObjectID:
    """Nested trees for ``{path: bytes}``; every object goes into every store."""
    tree = Tree()
    children: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            children.setdefault(head, {})[rest] = data
            continue
        blob = Blob.from_string(data)
        for store in stores:
            store.add_object(blob)
        tree.add(head.encode(), 0o100644, blob.id)
    for name, sub in children.items():
        tree.add(name.encode(), stat.S_IFDIR, _write_tree(stores, sub))
    for store in stores:
        store.add_object(tree)
    return tree.id


def _tree_objects(store: BaseObjectStore, tree_id: ObjectID) -> Iterable[Any]:
    tree = store[tree_id]
    assert isinstance(tree, Tree)
    yield tree
    for entry in tree.iteritems():
        if stat.S_ISDIR(entry.mode):
            yield from _tree_objects(store, entry.sha)
        else:
            yield store[entry.sha]
