"""exptui in a real pseudo-terminal, read through a VT100 emulator (pyte): it draws at
80x24, answers keys, quits on q, and exits by itself when the terminal hangs up (an SSH
connection dropping)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pyte

COLUMNS, LINES = 80, 24


class Terminal:
    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self.returncode: int | None = None
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        self.received = bytearray()  # every byte the app sent, escape sequences included

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, wanted: str, timeout: float = 30) -> str:
        """Read output until ``wanted`` is on the screen; fail with the screen if not."""
        deadline = time.monotonic() + timeout
        while wanted not in self.text:
            if time.monotonic() > deadline:
                raise AssertionError(f"{wanted!r} never appeared; the screen:\n{self.text}")
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # the child exited: its last frame is already read
                    break
                self.received += data
                self.stream.feed(data)
        return self.text

    def keys(self, data: bytes) -> None:
        os.write(self.fd, data)

    def exit_code(self, timeout: float = 10) -> int | None:
        deadline = time.monotonic() + timeout
        while self.returncode is None and time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            _drain(self.fd)
            time.sleep(0.05)
        return self.returncode


def _drain(fd: int) -> None:
    """Keep the pty's buffer empty so a child writing its last frame never blocks."""
    try:
        while select.select([fd], [], [], 0)[0] and os.read(fd, 65536):
            pass
    except OSError:
        pass


@contextmanager
def exptui_in_a_terminal(*args: str) -> Iterator[Terminal]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: an 80x24 xterm, then exptui
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": ""}
        env.pop("COLUMNS", None)
        os.execvpe(sys.executable, [sys.executable, "-m", "tui", *args], env)
    terminal = Terminal(pid, fd)
    try:
        yield terminal
    finally:
        if terminal.exit_code(timeout=0.1) is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        with suppress(OSError):
            os.close(terminal.fd)


def test_browse_mark_help_and_quit_in_a_real_terminal(fresh_demo: Path) -> None:
    with exptui_in_a_terminal(str(fresh_demo), "--no-mouse") as term:
        screen = term.wait_for("tuned-lr")
        assert "Local" in screen and "main" in screen
        assert all(len(line) <= COLUMNS for line in screen.splitlines())
        term.keys(b"j ")  # down, then mark
        term.wait_for("1 marked")
        term.keys(b"?")
        term.wait_for("Push")
        term.keys(b"\x1b")
        time.sleep(0.3)  # a lone ESC is told from a sequence by a short pause
        term.keys(b"q")
        assert term.exit_code() == 0


def test_hanging_up_the_terminal_ends_the_app(fresh_demo: Path) -> None:
    with exptui_in_a_terminal(str(fresh_demo), "--no-mouse") as term:
        term.wait_for("tuned-lr")
        os.close(term.fd)  # what sshd does when the connection drops
        term.fd = os.open(os.devnull, os.O_RDONLY)
        assert term.exit_code(timeout=15) == 129  # its own exit, not killed by the signal
