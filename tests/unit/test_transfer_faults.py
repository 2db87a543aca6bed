"""A push killed mid-way leaves nothing partial and no ref; running it again completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.data.objects import md5_bytes
from tests.big_experiment import add_big_experiment
from tests.remote_setup import server_refs

FILES = 1500


def objects_in(store: Path) -> list[Path]:
    return [p for p in (store / "files" / "md5").rglob("*") if p.is_file()]


@pytest.mark.slow
def test_sigkill_mid_push_then_rerun(fresh_demo: Path) -> None:
    dir_oid = add_big_experiment(fresh_demo, "big-data", FILES)
    storage = fresh_demo.parent / "storage"
    before = len(objects_in(storage))
    command = [
        sys.executable,
        "-m",
        "tui",
        "push",
        "origin",
        "big-data",
        "-j",
        "2",
        "-C",
        str(fresh_demo),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(objects_in(storage)) < before + 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = objects_in(storage)
    uploaded = len(stored) - before
    assert 0 < uploaded < FILES, "the kill should land mid-way"
    for path in stored:
        if path.name.startswith(".exptui-"):
            continue  # a temporary: a killed copy may leave one, never under an object name
        name = path.parent.name + path.name
        data = path.read_bytes()
        if not name.endswith(".dir"):
            assert md5_bytes(data) == name, f"partial object {name}"
    dir_path = storage / "files" / "md5" / dir_oid[:2] / dir_oid[2:]
    assert not dir_path.exists(), ".dir written before its entries"
    assert not any(r.endswith("/big-data") for r in server_refs(fresh_demo.parent / "origin.git"))

    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert dir_path.is_file()
    assert (
        len([p for p in objects_in(storage) if not p.name.startswith(".exptui-")])
        >= before + FILES + 1
    )
    assert any(r.endswith("/big-data") for r in server_refs(fresh_demo.parent / "origin.git"))
    assert f"{FILES + 1 - uploaded}" in done.stdout or "files uploaded" in done.stdout
