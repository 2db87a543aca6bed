"""The exptui app: the main screen (local and remote experiments side by side) inside
what is global to the whole app: quit, help, the keymap, the command palette, toasts, and
what happens when the terminal goes away.

Everything the user browses and every batch lives on :class:`tui.screens.main.MainScreen`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from core.redact import redact
from tui.format import shown
from tui.palette import ActionCommands
from tui.screens.confirm import Confirm
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.settings import load_settings
from tui.widgets.exp_tree import ExpTree


class ExptuiApp(App[None]):
    """Browse a DVC project's experiments, locally and on a Git remote, from the keyboard."""

    TITLE = "exptui"
    COMMANDS = App.COMMANDS | {ActionCommands}
    BINDINGS = [  # shown by the main screen's footer (its copies), active on every screen
        Binding("q", "quit", "Quit", show=False, id="quit"),
        Binding("question_mark,f1", "help", "Help", show=False, id="help"),
    ]

    def __init__(
        self,
        path: Path | str = ".",
        clock: Callable[[], float] = time.time,
        remote: str | None = None,
        network: bool = True,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.clock = clock
        self.main = MainScreen(self.path, clock, remote, network)
        self._exit_watched = False  # see exit()
        # What answers on the main screen: its bindings (the app's are repeated there) and
        # the tree's, with those it inherits (cursor keys, page keys).
        tree = [b for found in ExpTree._merge_bindings().key_to_bindings.values() for b in found]
        chain = [*MainScreen.BINDINGS, *tree]
        self.settings = load_settings([b for b in chain if isinstance(b, Binding)])
        self.set_keymap(self.settings.keymap)

    def get_default_screen(self) -> Screen[Any]:
        return self.main

    def on_mount(self) -> None:
        for problem in self.settings.problems:
            self.notify(problem, title="Settings", severity="warning", timeout=10, markup=False)
        if not self.is_headless:
            self.set_interval(0.5, self._check_tty)
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)

    def key_display(self, binding_id: str) -> str:
        """How the key bound to ``binding_id`` is shown now, the user's keymap applied:
        hints name the live key, never the one this code once bound."""
        for binding in [*self.BINDINGS, *MainScreen.BINDINGS, *ExpTree.BINDINGS]:
            if isinstance(binding, Binding) and binding.id == binding_id:
                key = self.settings.keymap.get(binding_id, binding.key).split(",")[0]
                return self.get_key_display(replace(binding, key=key))
        return binding_id

    def action_help(self) -> None:
        """?: the keys as they are now (the settings file's keymap applied)."""
        keymap = self.settings.keymap

        def live(bindings: Sequence[object]) -> list[Binding]:
            unique = {b.id or b.action: b for b in bindings if isinstance(b, Binding)}
            return [replace(b, key=keymap.get(b.id or "", b.key)) for b in unique.values()]

        sections = [
            ("App", live(MainScreen.BINDINGS)),
            ("Experiment lists", live(ExpTree.BINDINGS)),
        ]
        self.push_screen(HelpScreen(sections))

    def notify(self, message: str, *, title: str = "", **options: Any) -> None:
        """Every toast, the app's and its widgets': messages quote names, paths and errors
        from repositories and remotes, so control characters are shown, never sent."""
        message, title = shown(redact(message), lines=True), shown(redact(title))
        super().notify(message, title=title, **options)

    async def action_quit(self) -> None:
        """q quits at once, unless a batch is running: then it asks first."""
        if not self.main.busy:
            self.exit()
            return

        def answer(stop: bool | None) -> None:
            if stop:
                self.workers.cancel_group(self.main, "transfer")
                self.exit()

        question = Text.assemble(
            (f"A {self.main.operation} is running. ", "bold"),
            "Quit anyway? It stops; refs of unfinished experiments are not moved, "
            "and running it again resumes.",
        )
        self.push_screen(Confirm(question), answer)

    def exit(
        self, result: Any = None, return_code: int = 0, message: RenderableType | None = None
    ) -> None:
        """Exit, watched: with the terminal gone the shutdown itself can hang."""
        if not self.is_headless and not self._exit_watched:
            self._exit_watched = True
            threading.Thread(target=_end_if_orphaned, daemon=True, name="exit-watch").start()
        super().exit(result, return_code, message)

    def _hang_up(self) -> None:
        """SIGHUP (the SSH connection dropped): stop the batch between objects, which
        leaves nothing partial, and exit like a shell would (129), not killed mid-write."""
        self.workers.cancel_all()
        self.exit(return_code=129)

    def _check_tty(self) -> None:
        """Exit when the terminal is gone (SSH hang-up with SIGHUP ignored), never spin.
        Checked every half second (one ``isatty`` call): gone within 2 s of the drop."""
        if sys.__stdin__ is None or not sys.__stdin__.isatty():
            self.workers.cancel_all()
            self.exit(return_code=129)


def _end_if_orphaned(grace: float = 1.0) -> None:
    """Shutdown writes the last frames to the terminal and stops the input thread; when
    the terminal went away just as ``q`` was pressed, both could wait forever (seen 2 of
    2 times while 10,000 rows loaded: the process stayed, 15-30% CPU, stuck in the
    writer's stop or the input thread's ``select`` on the dead pty). If the terminal is
    gone and the process still here ``grace`` seconds later, end it; with a live terminal
    a slow shutdown is left alone."""
    deadline = time.monotonic() + grace
    while True:
        time.sleep(0.1)
        stdin = sys.__stdin__
        if stdin is not None and stdin.isatty():
            deadline = time.monotonic() + grace
        elif time.monotonic() > deadline:
            os._exit(129)
