"""Child process for the benchmark: start the app on a project, print ``READY`` once both
panes show their experiments (the remote one from the network: no cached listing)."""

from __future__ import annotations

import asyncio
import sys


async def main(path: str) -> None:
    from tui.app import ExptuiApp
    from tui.cli import tune_gc

    tune_gc()  # as the exptui command does before it opens the app
    app = ExptuiApp(path)
    async with app.run_test(size=(160, 48)) as pilot:
        # Plain sleeps while waiting: the pilot's pause forces a screen update each time,
        # work the real app never does, which competed with the loading threads.
        while (
            app.main.local is None
            or app.main.remote is None
            or not app.main.remote_tree.root.children
        ):
            await asyncio.sleep(0.005)
        await pilot.pause(0)  # the screen has processed the rows
        rows = len(app.main.local_tree.root.children), len(app.main.remote_tree.root.children)
        print("READY", *rows, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
