"""The demo project's training stage: deterministic, fast, stdlib plus PyYAML.

exptui's demo builder imports :func:`train` to compute each experiment's outputs, and
copies this very file into the demo repository as ``train.py``, so ``dvc repro`` and
``dvc exp run`` there produce byte-identical outputs to the ones the demo cached.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from typing import Any


def train(params: dict[str, Any]) -> dict[str, bytes]:
    """Outputs (path -> bytes) for a params dict: a model file, eval files and metrics."""
    lr = float(params["train"]["lr"])
    epochs = int(params["train"]["epochs"])
    batch = int(params["train"]["batch_size"])
    layers = int(params["model"]["layers"])
    dropout = float(params["model"]["dropout"])
    seed = int(params["seed"])
    fit = 1 - math.exp(-epochs * lr * 4)
    noise = ((seed * 7919) % 97) / 9700
    accuracy = 0.55 + 0.38 * fit + 0.01 * layers - 0.15 * abs(dropout - 0.25) - batch / 6400
    accuracy = round(min(0.995, accuracy + noise), 4)
    loss = round(max(0.01, (1 - accuracy) * 1.7 + lr), 4)
    key = json.dumps(params, sort_keys=True)
    metrics = {"accuracy": accuracy, "loss": loss, "f1": round(accuracy * 0.97, 4)}
    return {
        "model.pkl": _weights(key, 4096 * layers),
        "eval/predictions.csv": _predictions(key, accuracy),
        "eval/confusion.json": _confusion(accuracy),
        "eval/history.tsv": _history(epochs, accuracy, loss),
        "metrics.json": (json.dumps(metrics, indent=2) + "\n").encode(),
    }


def _history(epochs: int, accuracy: float, loss: float) -> bytes:
    """Per epoch, the way DVCLive logs a step metric: curves that end at the metrics."""
    rows = ["step\taccuracy\tloss"]
    for step in range(epochs):
        progress = 1 - math.exp(-3 * (step + 1) / epochs)
        done = progress / (1 - math.exp(-3))
        rows.append(
            f"{step}\t{round(0.5 + (accuracy - 0.5) * done, 4)}\t"
            f"{round(loss + (1.2 - loss) * (1 - done), 4)}"
        )
    return ("\n".join(rows) + "\n").encode()


def _weights(key: str, size: int) -> bytes:
    blocks = (hashlib.sha256(f"{key}:{i}".encode()).digest() for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def _predictions(key: str, accuracy: float) -> bytes:
    rows = ["id,label,predicted"]
    for i in range(200):
        digest = hashlib.sha256(f"{key}:p{i}".encode()).digest()
        label = digest[0] % 2
        correct = digest[1] / 255 < accuracy
        rows.append(f"{i},{label},{label if correct else 1 - label}")
    return ("\n".join(rows) + "\n").encode()


def _confusion(accuracy: float) -> bytes:
    right = round(200 * accuracy)
    matrix = {"tp": right // 2, "tn": right - right // 2, "fp": (200 - right) // 2}
    matrix["fn"] = 200 - right - matrix["fp"]
    return (json.dumps(matrix, indent=2) + "\n").encode()


def main() -> None:
    import yaml

    with open("params.yaml", encoding="utf-8") as stream:
        params = yaml.safe_load(stream)
    for path, data in train(params).items():
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as out:
            out.write(data)
    sys.stdout.write(f"trained: {json.loads(train(params)['metrics.json'])}\n")


if __name__ == "__main__":
    main()
