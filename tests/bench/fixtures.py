"""Benchmark fixtures, built once with real ``dvc`` and cached between runs.

* ``small``: 10 experiments, each writing its own directory of 2,000 small files;
* ``large``: 3 experiments, each with one large output file;
* ``refs``: 1,000 experiment refs on one Git remote (one real experiment, the others its
  siblings with their own metrics, written with dulwich: 1,000 ``dvc exp run`` would take
  an hour and measure nothing we care about);
* ``wide``: 2,000 experiments across 200 baselines, locally and on the remote, for the
  app's first screen.

Each fixture is a directory holding ``project/`` (a DVC repo whose ``storage`` remote is
set per copy in ``config.local``) and, for ``refs``/``wide``, ``origin.git``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo

from tests.dvc_peer import CACHE_ROOT, GIT_IDENTITY, dvc_executable

GENERATE_PY = textwrap.dedent(
    """\
    import hashlib, json, os, yaml
    p = yaml.safe_load(open("params.yaml"))
    os.makedirs("out", exist_ok=True)
    if p["files"]:
        os.makedirs("out/data", exist_ok=True)
        for i in range(p["files"]):
            seed = hashlib.sha256(f"{p['exp']}:{i}".encode()).digest()
            with open(f"out/data/part-{i:05d}.bin", "wb") as f:
                f.write(seed * (p["size"] // 32))
    if p["big_mb"]:
        block = hashlib.sha256(str(p["exp"]).encode()).digest() * 32768  # 1 MiB
        with open("out/blob.bin", "wb") as f:
            for i in range(p["big_mb"]):
                f.write(i.to_bytes(8, "little") + block[8:])
    json.dump({"acc": round(0.5 + p["exp"] / 100, 4)}, open("metrics.json", "w"))
    """
)

DVC_YAML = textwrap.dedent(
    """\
    stages:
      generate:
        cmd: python generate.py
        deps:
        - generate.py
        params:
        - exp
        - files
        - size
        - big_mb
        outs:
        - out
        metrics:
        - metrics.json:
            cache: false
    """
)


@dataclass(frozen=True)
class Sizes:
    """How big the fixtures are; ``quick`` ones check that the benchmark still works."""

    experiments: int = 10
    files: int = 2000
    file_size: int = 1024
    large_experiments: int = 3
    large_mb: int = 200
    refs: int = 1000
    wide_baselines: int = 200
    wide_per_baseline: int = 10

    @property
    def tag(self) -> str:
        return "-".join(str(v) for v in self.__dict__.values())


QUICK = Sizes(2, 50, 1024, 1, 4, 50, 10, 5)


def environment(site_cache: Path) -> dict[str, str]:
    """DVC and Git isolated from the user's config; DVC's remote index kept per copy."""
    return {
        **os.environ,
        **GIT_IDENTITY,
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(site_cache),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def fixture(kind: str, sizes: Sizes) -> Path:
    """The fixture's directory, built on first use (a ``.ready`` file marks it done)."""
    root = CACHE_ROOT / "bench" / f"{kind}-{sizes.tag}"
    if (root / ".ready").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    {"small": _small, "large": _large, "refs": _refs, "wide": _wide}[kind](root, sizes)
    (root / ".ready").write_text("ok\n")
    return root


def _project(root: Path, params: dict[str, int]) -> tuple[Path, list[str], dict[str, str]]:
    dvc = str(dvc_executable())
    env = environment(root / "site-cache")
    env["PATH"] = f"{Path(dvc).parent}{os.pathsep}{env['PATH']}"  # its python has PyYAML
    project = root / "project"
    project.mkdir()
    run(["git", "init", "-q", "-b", "main"], project, env)
    (project / "generate.py").write_text(GENERATE_PY)
    (project / "dvc.yaml").write_text(DVC_YAML)
    (project / "params.yaml").write_text(json.dumps(params) + "\n")
    run([dvc, "init", "-q"], project, env)
    run([dvc, "remote", "add", "-d", "storage", "/nonexistent/set-in-config.local"], project, env)
    run([dvc, "repro", "-q"], project, env)
    run(["git", "add", "-A"], project, env)
    run(["git", "commit", "-q", "-m", "baseline"], project, env)
    return project, [dvc], env


def _small(root: Path, sizes: Sizes) -> None:
    params = {"exp": 0, "files": sizes.files, "size": sizes.file_size, "big_mb": 0}
    project, dvc, env = _project(root, params)
    for i in range(1, sizes.experiments + 1):
        run([*dvc, "exp", "run", "-q", "-n", f"small-{i}", "-S", f"exp={i}"], project, env)


def _large(root: Path, sizes: Sizes) -> None:
    params = {"exp": 0, "files": 0, "size": 0, "big_mb": 1}
    project, dvc, env = _project(root, params)
    for i in range(1, sizes.large_experiments + 1):
        argv = [*dvc, "exp", "run", "-q", "-n", f"large-{i}", "-S", f"exp={i}"]
        run([*argv, "-S", f"big_mb={sizes.large_mb}"], project, env)


def _refs(root: Path, sizes: Sizes) -> None:
    _many(root, sizes, baselines=1, per_baseline=sizes.refs)


def _wide(root: Path, sizes: Sizes) -> None:
    _many(root, sizes, sizes.wide_baselines, sizes.wide_per_baseline)


def _many(root: Path, sizes: Sizes, baselines: int, per_baseline: int) -> None:
    """One real experiment; then baselines and experiments written alongside it with
    their own metrics; all pushed to ``origin.git`` with plain git."""
    params = {"exp": 0, "files": 1, "size": 64, "big_mb": 0}
    project, dvc, env = _project(root, params)
    run([*dvc, "exp", "run", "-q", "-n", "real-0", "-S", "exp=1"], project, env)
    with Repo(str(project)) as git:
        head = git.head()
        for b in range(baselines):
            if b:
                head = _commit(git, head, [head], {}, f"baseline {b}")
            base = head.decode()
            for e in range(per_baseline):
                metrics = json.dumps({"acc": round(0.5 + (b * per_baseline + e) % 500 / 1000, 4)})
                sha = _commit(git, head, [head], {b"metrics.json": metrics.encode()}, f"exp {e}")
                git.refs[f"refs/exps/{base[:2]}/{base[2:]}/exp-{b}-{e}".encode()] = sha
        git.refs[b"refs/heads/main"] = head
    run(["git", "init", "-q", "--bare", "-b", "main", str(root / "origin.git")], root, env)
    run(["git", "remote", "add", "origin", str(root / "origin.git")], project, env)
    run(["git", "push", "-q", "origin", "main", "refs/exps/*:refs/exps/*"], project, env)


def _commit(
    git: Repo, base: bytes, parents: list[bytes], files: dict[bytes, bytes], message: str
) -> bytes:
    commit = git[base]
    assert isinstance(commit, Commit)
    tree = git[commit.tree]
    assert isinstance(tree, Tree)
    for name, data in files.items():
        blob = Blob.from_string(data)
        git.object_store.add_object(blob)
        tree[name] = (0o100644, blob.id)
    git.object_store.add_object(tree)
    new = Commit()
    new.tree, new.parents = tree.id, parents
    new.author = new.committer = b"Bench <bench@example.com>"
    new.author_time = new.commit_time = 1_790_000_000 + len(message)
    new.author_timezone = new.commit_timezone = 0
    new.message = message.encode()
    git.object_store.add_object(new)
    return new.id
