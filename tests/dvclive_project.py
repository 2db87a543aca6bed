"""A DVCLive-shaped project built by real DVC, with one experiment pushed to a shared
Git remote and its data to the DVC remote, and a colleague's clone that has none of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers import Dvc, dvc_project, dvc_show, git

DVCLIVE_TRAIN = """\
import json, os
os.makedirs("dvclive", exist_ok=True)
lr = float(open("params.yaml").read().split(":")[1])
open("dvclive/params.yaml", "w").write(f"epochs: 3\\nlr: {lr}\\n")
json.dump({"loss": round(1 - lr, 3)}, open("dvclive/metrics.json", "w"))
open("dvclive/model.bin", "wb").write(os.urandom(50_000))
"""


@dataclass(frozen=True)
class SharedDvclive:
    project: Path
    colleague: Path  # a clone with the Git remote "shared"; no experiment, no cache
    expected: dict[str, Any]  # dvc exp show's params and metrics of "faster"


def shared_dvclive(dvc: Dvc, root: Path) -> SharedDvclive:
    dvc_yaml = (
        "stages:\n  train:\n    cmd: python train.py\n    params: [lr]\n"
        "    outs: [dvclive]\nmetrics: [dvclive/metrics.json]\n"
        "params: [dvclive/params.yaml]\n"
    )
    files = {"params.yaml": "lr: 0.1\n", "train.py": DVCLIVE_TRAIN, "dvc.yaml": dvc_yaml}
    repo = dvc_project(dvc, root, files, "dvclive")
    dvc("exp", "run", "-q", "-n", "faster", "-S", "lr=0.25", cwd=repo)
    shared = root / "shared.git"
    git("init", "-q", "--bare", str(shared), cwd=root)
    dvc("exp", "push", str(shared), "faster", cwd=repo)
    (expected,) = dvc_show(dvc, repo).values()
    colleague = root / "colleague"
    git("clone", "-q", str(repo), str(colleague), cwd=root)
    git("remote", "add", "shared", str(shared), cwd=colleague)
    return SharedDvclive(repo, colleague, expected)
