"""Snapshot tests of the app's main states, the same states the README's screenshots show
(screenshots/generate.py's SHOTS): the demo at a fixed path and a fixed clock, so any
change to what a user sees shows up as a failing SVG diff (pytest --snapshot-update to
accept one after looking at it)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from core.demo import build_demo
from tui.app import ExptuiApp

ROOT = Path(__file__).resolve().parents[2]
STATES = [
    "main.svg",
    "details-80x24.svg",
    "confirm-push.svg",
    "transfer.svg",
    "error.svg",
    "marked-80x24.svg",
    "compare.svg",
    "plots-80x24.svg",
    "plots-overlay.svg",
]


def _generate_module() -> Any:
    path = ROOT / "screenshots" / "generate.py"
    spec = importlib.util.spec_from_file_location("screenshots_generate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


GENERATE = _generate_module()


@pytest.fixture(scope="module")
def snapshot_demo() -> Path:
    """The demo where the screenshots build it: same path, same clock, same pictures."""
    root = Path(tempfile.gettempdir()) / "exptui-snapshots"
    shutil.rmtree(root, ignore_errors=True)
    workspace = build_demo(root / "demo", now=GENERATE.NOW)
    git = ["git", "-C", str(workspace), "remote", "add", "offline", "/nonexistent/team.git"]
    subprocess.run(git, check=True)
    yield workspace
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("name", STATES)
def test_the_app_looks_as_it_did(name: str, snapshot_demo: Path, snap_compare: Any) -> None:
    shot = next(s for s in GENERATE.SHOTS if s.name == name)
    app = ExptuiApp(snapshot_demo, clock=lambda: GENERATE.NOW, remote=shot.remote)

    async def run_before(pilot: Any) -> None:
        await GENERATE.settle(app, pilot)
        await GENERATE.play(app, pilot, shot)

    assert snap_compare(app, terminal_size=shot.size, run_before=run_before)
