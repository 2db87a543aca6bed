"""The app's exit watch: a shutdown that hangs on a terminal that went away (ssh dropped
just as q was pressed) still ends the process; with a live terminal it is left alone."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time

HUNG_SHUTDOWN = (
    "import threading, time\n"
    "from tui.app import _end_if_orphaned\n"
    "threading.Thread(target=_end_if_orphaned, args=(0.5,), daemon=True).start()\n"
    "time.sleep(60)  # a shutdown stuck writing to, or selecting on, the dead terminal\n"
)


def start_on_a_terminal() -> tuple[subprocess.Popen[bytes], int]:
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-c", HUNG_SHUTDOWN], stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    return child, master


def test_a_hung_shutdown_ends_once_the_terminal_is_gone() -> None:
    child, master = start_on_a_terminal()
    time.sleep(1.0)
    os.close(master)  # the terminal goes away
    started = time.monotonic()
    assert child.wait(timeout=20) == 129
    assert time.monotonic() - started < 10


def test_a_slow_shutdown_with_a_live_terminal_is_left_alone() -> None:
    child, master = start_on_a_terminal()
    try:
        time.sleep(2.0)
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()
        os.close(master)
