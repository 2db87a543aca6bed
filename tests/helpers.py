"""Helpers shared by the test modules: one place, so no test module imports another.

Running real programs (``git``, ``dvc``, the CLI, exptui in a pseudo-terminal), reading a
project's objects, and waiting on the app under Textual's Pilot. Servers live in
``tests.servers`` and remote layouts in ``tests.remote_setup``; they are fixtures'
machinery, not assertions.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import pyte
import pytest
from rich.console import Console
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.widgets import Static

from core.project.dvcfiles import Output
from core.project.repo import Repository
from tests.dvc_peer import GIT_IDENTITY
from tests.servers import SftpServer
from tui.app import ExptuiApp
from tui.cli import main
from tui.view import ExpRow

T = TypeVar("T")
COLUMNS, LINES = 80, 24  # the terminal exptui_in_a_terminal opens


class Dvc:
    """Runs the real ``dvc`` CLI from its own virtualenv."""

    def __init__(self, exe: Path) -> None:
        self.exe = exe

    def __call__(self, *args: str, cwd: Path, check: bool = True) -> str:
        env = {**os.environ, **GIT_IDENTITY}
        env["PATH"] = f"{self.exe.parent}{os.pathsep}{env['PATH']}"  # its python has PyYAML
        done = subprocess.run(
            [str(self.exe), *args], cwd=cwd, env=env, capture_output=True, text=True
        )
        if check and done.returncode:
            raise AssertionError(
                f"dvc {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def json(self, *args: str, cwd: Path) -> Any:
        return json.loads(self(*args, "--json", cwd=cwd))


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_IDENTITY}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise AssertionError(f"git {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def dvc_project(dvc: Dvc, root: Path, files: dict[str, str], message: str) -> Path:
    """``root/project``: a Git repository with DVC initialised, the DVC remote 'storage'
    at ``root/storage`` as its default, and ``files`` committed (real dvc, real git)."""
    repo = root / "project"
    repo.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "storage", str(root / "storage"), cwd=repo)
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", message, cwd=repo)
    return repo


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    """Run the CLI with --json; an error exit has no JSON, so its stderr comes back."""
    code = main([*argv, "--json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else {"err": out.err})


def exp_objects(project: Path, name: str) -> set[str]:
    """Every object an experiment's cached outputs need (dir entries included)."""
    with Repository.open(project) as repo:
        exp = next(e for e in repo.experiments() if e.name == name)
        oids = set()
        for out in repo.project_state(exp.sha).outputs:
            if out.cache and out.oid:
                oids.add(out.oid)
                for entry in repo.cache.read_manifest(out.oid) or [] if out.is_dir else []:
                    oids.add(entry.md5)
        return oids


def exp_output(project: Path, name: str, path: str) -> Output:
    """The output at ``path`` of the experiment called ``name``."""
    with Repository.open(project) as repo:
        exp = next(e for e in repo.experiments() if e.name == name)
        return next(o for o in repo.project_state(exp.sha).outputs if o.path == path)


def object_path(root: Path, oid: str) -> Path:
    return root / "files" / "md5" / oid[:2] / oid[2:]


async def settle(app: ExptuiApp, pilot: object) -> None:
    """Workers done and what they brought shown (details refresh after a short settle)."""
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: app.main.details_shown)
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


def plain(widget: Static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def status_text(app: ExptuiApp) -> str:
    return plain(app.query_one("#status", Static))


async def wait_for(pilot: object, predicate: object, tries: int = 300) -> None:
    for _ in range(tries):
        if predicate():  # type: ignore[operator]
            return
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError("condition not reached")


def rows(tree: object) -> dict[str, ExpRow]:
    return {leaf.data.exp.name: leaf.data for node in tree.root.children for leaf in node.children}  # type: ignore[attr-defined]


async def toasts_once_shown(pilot: Pilot[object], messages: list[Message]) -> list[Notification]:
    """Wait (up to 4 s) for the app's first toast; every toast posted so far."""
    for _ in range(200):
        if any(isinstance(m, Notify) for m in messages):
            break
        await pilot.pause(0.02)
    return [m.notification for m in messages if isinstance(m, Notify)]


def use_ssh(project: Path, server: SftpServer, root: Path, port: int | None = None) -> None:
    (project / ".dvc" / "config.local").write_text(
        f"['remote \"box\"']\n    url = ssh://tester@127.0.0.1:{port or server.port}{root}\n"
        f"    keyfile = {server.client_key}\n"
    )


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
def exptui_in_a_terminal(*args: str, env: Mapping[str, str] | None = None) -> Iterator[Terminal]:
    """exptui on an 80x24 xterm pty, in ``env`` (this process's by default)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: an 80x24 xterm, then exptui
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        xterm = {**(os.environ if env is None else env), "TERM": "xterm-256color", "COLORTERM": ""}
        xterm.pop("COLUMNS", None)
        os.execvpe(sys.executable, [sys.executable, "-m", "tui", *args], xterm)
    terminal = Terminal(pid, fd)
    try:
        yield terminal
    finally:
        if terminal.exit_code(timeout=0.1) is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        with suppress(OSError):
            os.close(terminal.fd)


def dvc_list(text: str) -> set[tuple[str, str]]:
    """``dvc exp list`` output as a set of (baseline label, 'sha7 [name]' or name)."""
    rows: set[tuple[str, str]] = set()
    label = ""
    for line in text.splitlines():
        if line.startswith("\t"):
            rows.add((label, line.strip()))
        elif line.endswith(":"):
            label = line[:-1]
    return rows


def dvc_show(dvc: Dvc, repo: Path) -> dict[str, dict[str, Any]]:
    """``dvc exp show --json -A`` as {experiment sha: {"params": ..., "metrics": ...}}."""
    shown: dict[str, dict[str, Any]] = {}
    for baseline in dvc.json("exp", "show", "-A", cwd=repo):
        for exp in baseline.get("experiments") or []:
            for rev in exp["revs"]:
                data = rev["data"]
                shown[rev["rev"]] = {  # files DVC could not read carry "error", no "data"
                    key: {f: v["data"] for f, v in data[key].items() if "data" in v}
                    for key in ("params", "metrics")
                }
    return shown


def each(items: Iterable[T]) -> list[T]:
    """``items``, checked to hold at least one: ``all()`` of nothing is True, and an
    assertion over an empty selection would pass having checked nothing."""
    found = list(items)
    assert found, "expected at least one item to check"
    return found


def crowd_remote(bare: Path, count: int) -> str:
    """Add ``count`` experiment refs to a bare repository, all at the commit of one it
    has, as one packed-refs file (what ``git pack-refs`` leaves): 100,000 refs in a
    second. Returns their baseline."""
    packed = bare / "packed-refs"
    lines = packed.read_text().splitlines()[1:] if packed.exists() else []
    known = {name: sha for sha, _, name in (line.partition(" ") for line in lines)}
    exps = bare / "refs" / "exps"
    for loose in exps.rglob("*"):
        if loose.is_file():
            known[f"refs/{loose.relative_to(bare / 'refs').as_posix()}"] = loose.read_text().strip()
    name, sha = next((n, s) for n, s in sorted(known.items()) if n.startswith("refs/exps/"))
    baseline = "".join(name.split("/")[2:4])
    prefix = f"refs/exps/{baseline[:2]}/{baseline[2:]}"
    packed_names = {n: s for n, s in known.items() if not (bare / n).is_file()}
    packed_names.update({f"{prefix}/crowd-{i:06d}": sha for i in range(count)})
    body = "".join(f"{s} {n}\n" for n, s in sorted(packed_names.items()))
    packed.write_text("# pack-refs with: peeled fully-peeled sorted \n" + body)
    return baseline
