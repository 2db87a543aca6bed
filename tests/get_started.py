"""The shape of iterative's example-get-started, built by real DVC on small synthetic data:
prepare, featurize, train, evaluate; a ``dvc add``-ed dataset; params by key; an ``eval/``
directory output written DVCLive-style (metrics and plot data inside the cached directory,
declared by top-level ``metrics:`` and ``plots:``); three experiments on one baseline.
The interop tests read it, push it and pull it alongside ``dvc exp``."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import Dvc, git

EXPERIMENTS = {
    "more-trees": ["-S", "train.n_est=80"],
    "bigrams": ["-S", "featurize.ngrams=2"],
    "split-30": ["-S", "prepare.split=0.3", "-S", "train.min_split=1e-2"],
}

PARAMS = """\
prepare:
  split: 0.20
  seed: 20170428
featurize:
  max_features: 100
  ngrams: 1
train:
  seed: 20170428
  n_est: 50
  min_split: 0.01
"""

SCRIPTS = {
    "src/prepare.py": """\
        import os, random, sys, yaml
        p = yaml.safe_load(open("params.yaml"))["prepare"]
        rows = open(sys.argv[1]).read().splitlines()
        random.seed(p["seed"])
        os.makedirs("data/prepared", exist_ok=True)
        test = [r for r in rows if random.random() < p["split"]]
        train = [r for r in rows if r not in test]
        open("data/prepared/train.tsv", "w").write("\\n".join(train))
        open("data/prepared/test.tsv", "w").write("\\n".join(test))
        """,
    "src/featurization.py": """\
        import os, yaml
        p = yaml.safe_load(open("params.yaml"))["featurize"]
        os.makedirs("data/features", exist_ok=True)
        for part in ("train", "test"):
            words = open(f"data/prepared/{part}.tsv").read().split()
            grams = [" ".join(words[i:i + p["ngrams"]]) for i in range(len(words))]
            kept = sorted(set(grams))[: p["max_features"]]
            open(f"data/features/{part}.pkl", "w").write("\\n".join(kept))
        """,
    "src/train.py": """\
        import yaml
        p = yaml.safe_load(open("params.yaml"))["train"]
        features = open("data/features/train.pkl").read().split("\\n")
        open("model.pkl", "w").write(f"{p} {len(features)} " + "w" * 20000)
        """,
    "src/evaluate.py": """\
        import json, os, yaml
        p = yaml.safe_load(open("params.yaml"))
        n_est, ngrams = p["train"]["n_est"], p["featurize"]["ngrams"]
        os.makedirs("eval/plots", exist_ok=True)
        score = round(0.6 + n_est / 1000 + ngrams / 100 - p["prepare"]["split"] / 10, 4)
        metrics = {"avg_prec": {"train": score + 0.05, "test": score},
                   "roc_auc": {"train": score + 0.1, "test": score + 0.02}}
        json.dump(metrics, open("eval/metrics.json", "w"))
        curve = [{"recall": i / 10, "precision": round(1 - i * score / 20, 4)}
                 for i in range(11)]
        json.dump({"prc": curve}, open("eval/plots/precision_recall.json", "w"))
        open("eval/importance.png", "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(64))
        """,
}

DVC_YAML = """\
stages:
  prepare:
    cmd: python src/prepare.py data/data.xml
    deps: [data/data.xml, src/prepare.py]
    params: [prepare.seed, prepare.split]
    outs: [data/prepared]
  featurize:
    cmd: python src/featurization.py
    deps: [data/prepared, src/featurization.py]
    params: [featurize.max_features, featurize.ngrams]
    outs: [data/features]
  train:
    cmd: python src/train.py
    deps: [data/features, src/train.py]
    params: [train.seed, train.n_est, train.min_split]
    outs: [model.pkl]
  evaluate:
    cmd: python src/evaluate.py
    deps: [model.pkl, data/features, src/evaluate.py]
    outs: [eval]
metrics:
- eval/metrics.json
plots:
- eval/plots/precision_recall.json:
    x: recall
    y: precision
- eval/importance.png
"""


def build_get_started(dvc: Dvc, root: Path) -> Path:
    """The project under ``root/project`` with its default DVC remote ``root/storage``
    (nothing pushed yet) and the experiments in its local cache."""
    repo = root / "project"
    (repo / "src").mkdir(parents=True)
    (repo / "data").mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "storage", str(root / "storage"), cwd=repo)
    words = ["data", "version", "control", "pipeline", "metric", "plot", "stage", "model"]
    rows = [f"<row id='{i}'>{words[i % 8]} {words[(i * 3) % 8]} {i}</row>" for i in range(300)]
    (repo / "data" / "data.xml").write_text("\n".join(rows) + "\n")
    dvc("add", "-q", "data/data.xml", cwd=repo)
    (repo / "params.yaml").write_text(PARAMS)
    for path, source in SCRIPTS.items():
        (repo / path).write_text(textwrap.dedent(source))
    (repo / "dvc.yaml").write_text(DVC_YAML)
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "get started", cwd=repo)
    for name, args in EXPERIMENTS.items():
        dvc("exp", "run", "-q", "-n", name, *args, cwd=repo)
    git("reset", "-q", "--hard", cwd=repo)
    return repo
