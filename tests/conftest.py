"""Shared fixtures: a hermetic environment, real DVC as a peer, and DVC-made repositories."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dvc_peer import dvc_executable

from tests.helpers import Dvc, git

SLOW_FOLDERS = ("interop", "app")  # real servers, real DVC, the app end to end


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/interop and tests/app is ``slow``; elsewhere a test says so
    itself. ``-m "not slow"`` is the fast subset the README gives for everyday work."""
    here = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(here).parts
        if parts[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def hermetic_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No user or system config leaks into exptui, git or dvc; DVC never phones home."""
    home = tmp_path_factory.mktemp("config-home")
    (home / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    overrides = {
        "DVC_NO_ANALYTICS": "1",
        "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system"),
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "xdg-config"),  # no user keymap in tests
        "COLUMNS": "200",
        # No AWS identity, profile or setting of the machine's reaches S3 tests.
        "AWS_CONFIG_FILE": str(home / "aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws" / "credentials"),
    }
    aws = [key for key in os.environ if key.startswith("AWS_") and key not in overrides]
    saved = {key: os.environ.get(key) for key in [*overrides, *aws]}
    for key in aws:
        del os.environ[key]
    os.environ.update(overrides)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def dvc() -> Dvc:
    return Dvc(dvc_executable())


TRAIN_PY = textwrap.dedent(
    """\
    import json, os, yaml
    p = yaml.safe_load(open("params.yaml"))
    c = yaml.safe_load(open("custom.yaml"))
    os.makedirs("model", exist_ok=True)
    open("model/weights.bin", "w").write(f"w {p['train']} {c['model']}")
    open("model/config.json", "w").write(json.dumps(c))
    open("out.bin", "w").write(f"seed {p['seed']}")
    acc = 0.5 + p["train"]["lr"] + c["model"]["depth"] / 100
    json.dump({"acc": round(acc, 4), "loss": {"train": 0.3, "val": 0.4}}, open("metrics.json", "w"))
    json.dump({"auc": round(acc / 2, 4)}, open("scores.json", "w"))
    """
)

DVC_YAML = textwrap.dedent(
    """\
    stages:
      train:
        cmd: python train.py
        deps:
        - train.py
        - data/raw.csv
        params:
        - train
        - seed
        - custom.yaml:
          - model.depth
        outs:
        - model
        - out.bin:
            push: false
        metrics:
        - metrics.json:
            cache: false
        - scores.json
    params:
    - extra.json
    """
)


@pytest.fixture(scope="session")
def dvc_project(dvc: Dvc, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project made by real ``dvc exp run``: two baselines, five experiments, one name
    ("exp-a") under both baselines, a ``.dvc`` file, a params file declared by key, a
    top-level params file, a Git-tracked metric and a cached one."""
    root = tmp_path_factory.mktemp("dvc-project")
    repo = root / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / "params.yaml").write_text("train:\n  lr: 0.01\n  epochs: 3\nseed: 7\n")
    (repo / "custom.yaml").write_text("model:\n  depth: 2\n  width: 16\n")
    (repo / "extra.json").write_text('{"notes": {"owner": "team-a"}}\n')
    (repo / "train.py").write_text(TRAIN_PY)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "data").mkdir()
    (repo / "data" / "raw.csv").write_text("a,b\n1,2\n")
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "storage", str(root / "storage"), cwd=repo)
    dvc("add", "-q", "data/raw.csv", cwd=repo)
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "first baseline", cwd=repo)
    git("tag", "v1", cwd=repo)
    dvc("exp", "run", "-q", "-n", "exp-a", "-S", "train.lr=0.02", cwd=repo)
    dvc("exp", "run", "-q", "-n", "exp-b", "-S", "custom.yaml:model.depth=5", cwd=repo)
    git("reset", "-q", "--hard", cwd=repo)
    (repo / "params.yaml").write_text("train:\n  lr: 0.01\n  epochs: 5\nseed: 7\n")
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "second baseline", cwd=repo)
    dvc("exp", "run", "-q", "-n", "exp-a", "-S", "train.lr=0.03", cwd=repo)
    dvc("exp", "run", "-q", "-n", "exp-c", "-S", "seed=9", cwd=repo)
    dvc("exp", "run", "-q", "-n", "exp-d", "-S", "train.epochs=8", cwd=repo)
    git("reset", "-q", "--hard", cwd=repo)
    return repo


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo workspace shared by read-only tests (tests that write build their own)."""
    from core.demo import build_demo

    return build_demo(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture
def fresh_demo(tmp_path: Path) -> Path:
    from core.demo import build_demo

    return build_demo(tmp_path / "demo")
