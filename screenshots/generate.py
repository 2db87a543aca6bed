"""Regenerate the README's screenshots from the demo: ``python screenshots/generate.py``.

The demo is rebuilt at a fixed path with a fixed clock, so the SHAs, ages and metrics in
the pictures are the same on every run and every machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from textual.worker import WorkerFailed, WorkerState

from core.demo import build_demo
from core.operation import Operation
from core.progress import ProgressBoard
from tui.app import ExptuiApp

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc).timestamp()
DEMO_DIR = Path(tempfile.gettempdir()) / "exptui-screenshots" / "demo"
MODAL = "<wait for a modal>"  # a confirmation waits on a worker: poll for it, then shoot
TRANSFER = "<a push halfway>"  # the transfer panel and row statuses from a real board


@dataclass(frozen=True)
class Shot:
    name: str
    size: tuple[int, int]
    keys: Sequence[str]
    remote: str | None = None  # a Git remote other than origin
    notifications: bool = False


SHOTS = [
    Shot("main.svg", (130, 32), ["down", "down"]),
    Shot("wide-details.svg", (172, 34), ["2", "down"]),
    Shot("marked-80x24.svg", (80, 24), ["down", "space", "space", "down", "space"]),
    Shot("remote-80x24.svg", (80, 24), ["tab", "down"]),
    Shot("details-80x24.svg", (80, 24), ["down", "j", "enter"]),
    Shot("help.svg", (80, 30), ["question_mark"]),
    Shot(
        "confirm-push.svg",
        (110, 30),
        ["down", "space", "down", "down", "down", "space", "P", MODAL],
    ),
    Shot("filter-80x24.svg", (80, 24), ["slash", *"accuracy>0.8"]),
    Shot("compare.svg", (100, 30), ["down", "space", "space", "c"]),
    Shot("plots-80x24.svg", (80, 24), ["down", "j", "t"]),
    Shot("plots-overlay.svg", (172, 34), ["down", "space", "space", "space", "t"]),
    Shot("transfer.svg", (110, 30), ["down", "space", "space", "space", TRANSFER]),
    Shot("error.svg", (110, 24), [], remote="offline", notifications=True),
]


async def shoot(workspace: Path, out: Path, shot: Shot) -> None:
    app = ExptuiApp(workspace, clock=lambda: NOW, remote=shot.remote)
    async with app.run_test(size=shot.size, notifications=shot.notifications) as pilot:
        await settle(app, pilot)
        await play(app, pilot, shot)
        app.save_screenshot(shot.name, str(out))
        app.workers.cancel_all()  # a confirmation left open must not keep its worker waiting


async def play(app: ExptuiApp, pilot: Any, shot: Shot) -> None:
    """The shot's keys (and waits), once the app has loaded; the snapshot tests too."""
    for key in shot.keys:
        if key == MODAL:
            while len(app.screen_stack) == 1:
                await pilot.pause(0.05)
        elif key == TRANSFER:
            halfway_push(app)
        else:
            await pilot.press(key)
    if MODAL not in shot.keys:  # an open confirmation's worker waits for the user
        await settle(app, pilot)
    await pilot.pause()


async def settle(app: ExptuiApp, pilot: Any) -> None:
    """Every worker done, including those started by the messages of finished ones (the
    data badges start when both panes are in); a failed one (an unreachable remote) is
    part of the picture."""
    for _ in range(100):
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
            return


def halfway_push(app: ExptuiApp) -> None:
    """What the app shows 12 s into pushing the marked rows: a board filled the way the
    transfer fills it, on a fixed clock so rate and ETA are the same in every picture."""
    seconds = iter([0.0, 0.0])  # the board starts, the phase starts; then 12 s later
    board = ProgressBoard(clock=lambda: next(seconds, 12.0))
    rows = sorted(app.main.local_tree.marked)
    board.start_phase("objects", 360, 96 << 20)
    for key in rows:
        board.plan_item(key, 120, 32 << 20)
    board.advance(rows[0], files=120, nbytes=32 << 20)
    board.finish_item(rows[0])
    board.advance(rows[1], files=60, nbytes=20 << 20)
    app.main.board, app.main.busy, app.main.operation = board, True, Operation.PUSH
    app.main._show_progress()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    options = parser.parse_args(argv)
    shutil.rmtree(DEMO_DIR.parent, ignore_errors=True)
    workspace = build_demo(DEMO_DIR, now=NOW)
    options.out.mkdir(parents=True, exist_ok=True)
    git = ["git", "-C", str(workspace), "remote", "add", "offline", "/nonexistent/team.git"]
    subprocess.run(git, check=True)  # for the error picture: a remote that is not there
    for shot in SHOTS:
        asyncio.run(shoot(workspace, options.out, shot))
        print(options.out / shot.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
