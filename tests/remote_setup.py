"""A demo project whose ``origin`` is served over one transport, for remote tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.git.transport import Connection, resolve_remote
from core.project.repo import Repository
from tests.helpers import git
from tests.servers import git_daemon, http_git, ssh_git

TRANSPORTS = ["path", "file", "git", "http", "ssh"]


@dataclass
class Served:
    """The project, its bare origin on disk, and how exptui reaches it."""

    project: Path
    bare: Path
    url: str
    transport: str
    counts: dict[str, int]  # requests the server saw, where it can count them

    def connect(self, repo: Repository) -> Connection:
        return Connection(repo, resolve_remote(repo, "origin"), timeout=10)


def server_refs(bare: Path, prefix: str = "refs/exps/") -> dict[str, str]:
    """The bare repository's refs, read with plain git (not with exptui)."""
    out = subprocess.run(
        ["git", "for-each-ref", "--format=%(objectname) %(refname)", prefix],
        cwd=bare,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {ref: sha for sha, ref in (line.split() for line in out.splitlines())}


@contextmanager
def serve(
    transport: str, demo: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Served]:
    root = demo.parent
    bare = root / "origin.git"
    if transport in ("path", "file"):
        url = str(bare) if transport == "path" else f"file://{bare}"
        git("remote", "set-url", "origin", url, cwd=demo)
        yield Served(demo, bare, url, transport, {})
        return
    if transport == "git":
        with git_daemon(root) as base:
            git("remote", "set-url", "origin", f"{base}/origin.git", cwd=demo)
            yield Served(demo, bare, f"{base}/origin.git", transport, {})
        return
    if transport == "http":
        with http_git(root) as (base, state):
            git("remote", "set-url", "origin", f"{base}/origin.git", cwd=demo)
            yield Served(demo, bare, f"{base}/origin.git", transport, state.requests)
        return
    with ssh_git(root, tmp) as server:
        monkeypatch.setenv("GIT_SSH_COMMAND", server.ssh_command)
        url = f"{server.url}{bare}"
        git("remote", "set-url", "origin", url, cwd=demo)
        yield Served(demo, bare, url, transport, server.commands)
