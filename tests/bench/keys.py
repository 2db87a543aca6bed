"""Key latency while the app loads or pushes: from a key written to the app's terminal to
the next bytes the app writes back (it began redrawing). Keys go every 150 ms, down and
up, from the moment the local pane shows its rows while the remote pane is still loading,
or from the moment a push of every local experiment is confirmed until it ends."""

from __future__ import annotations

import os
import select
import time
from pathlib import Path

from tests.helpers import Terminal, exptui_in_a_terminal

PAUSE = 0.15  # between keys: a user moving through rows, not a key-repeat flood


def key_latencies(project: Path, env: dict[str, str], keys: int = 40) -> list[float]:
    """Milliseconds from each key to the app's first answer on an 80x24 pty."""
    with exptui_in_a_terminal(str(project), "--no-mouse", env=env) as terminal:
        terminal.wait_for("local in", timeout=300)
        latencies = [_one_key(terminal, b"jk"[i % 2 : i % 2 + 1]) for i in range(keys)]
        terminal.keys(b"q")
        terminal.exit_code(timeout=30)
        return latencies


def key_latencies_while_pushing(project: Path, env: dict[str, str]) -> list[float]:
    """Milliseconds from each key to the app's first answer while it pushes the first
    baseline group's experiments (marked with ``a``, confirmed with enter)."""
    with exptui_in_a_terminal(str(project), "--no-mouse", env=env) as terminal:
        terminal.wait_for("local in", timeout=300)
        for key in (b"j", b"a", b"P"):
            terminal.keys(key)
            time.sleep(PAUSE)
        terminal.wait_for("Push", timeout=60)
        time.sleep(0.5)  # the confirmation drawn and focused
        terminal.keys(b"\r")
        latencies: list[float] = []
        while "Pushed " not in terminal.text and len(latencies) < 1000:
            latencies.append(_one_key(terminal, b"jk"[len(latencies) % 2 :][:1]))
        terminal.keys(b"q")
        terminal.exit_code(timeout=30)
        return latencies


def _one_key(terminal: Terminal, key: bytes) -> float:
    while select.select([terminal.fd], [], [], 0)[0]:  # what it drew before: not an answer
        terminal.stream.feed(os.read(terminal.fd, 65536))
    sent = time.monotonic()
    terminal.keys(key)
    select.select([terminal.fd], [], [], 30)
    answered = time.monotonic()
    terminal.stream.feed(os.read(terminal.fd, 65536))
    time.sleep(PAUSE)
    return (answered - sent) * 1000
