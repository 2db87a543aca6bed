"""Regenerate the README's screenshots from the demo: ``python screenshots/generate.py``.

The demo is rebuilt at a fixed path with a fixed clock, so the SHAs, ages and metrics in
the pictures are the same on every run and every machine.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from core.demo import build_demo
from tui.app import ExptuiApp

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc).timestamp()
DEMO_DIR = Path(tempfile.gettempdir()) / "exptui-screenshots" / "demo"
MODAL = "<wait for a modal>"  # a confirmation waits on a worker: poll for it, then shoot
# (file name, terminal size, keys to press before the picture)
SHOTS: list[tuple[str, tuple[int, int], Sequence[str]]] = [
    ("main.svg", (130, 32), ["down", "down"]),
    ("wide-details.svg", (172, 34), ["2", "down"]),
    ("marked-80x24.svg", (80, 24), ["down", "space", "space", "down", "space"]),
    ("remote-80x24.svg", (80, 24), ["tab", "down"]),
    ("details-80x24.svg", (80, 24), ["down", "j", "enter"]),
    ("help.svg", (80, 30), ["question_mark"]),
    ("confirm-push.svg", (110, 30), ["down", "space", "down", "down", "down", "space", "P", MODAL]),
]


async def shoot(workspace: Path, out: Path, name: str, size: tuple[int, int], keys: Sequence[str]):
    app = ExptuiApp(workspace, clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key in keys:
            if key == MODAL:
                while len(app.screen_stack) == 1:
                    await pilot.pause(0.05)
            else:
                await pilot.press(key)
        await pilot.pause()
        app.save_screenshot(name, str(out))
        app.workers.cancel_all()  # a confirmation left open must not keep its worker waiting


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    options = parser.parse_args(argv)
    shutil.rmtree(DEMO_DIR.parent, ignore_errors=True)
    workspace = build_demo(DEMO_DIR, now=NOW)
    options.out.mkdir(parents=True, exist_ok=True)
    for name, size, keys in SHOTS:
        asyncio.run(shoot(workspace, options.out, name, size, keys))
        print(options.out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
