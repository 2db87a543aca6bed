"""DVC's repository lock, ``.dvc/tmp/lock``, taken the way DVC takes it (zc.lockfile: an
exclusive non-blocking ``flock`` and the holder's pid), so exptui and a running ``dvc``
never write the workspace or cache at the same time. Reads never take it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from core.errors import ExptuiError


class RepoLockedError(ExptuiError):
    """Another process (usually a running dvc command) holds the repository lock."""


@contextlib.contextmanager
def dvc_lock(dvc_dir: Path, wait: float = 3.0) -> Iterator[None]:
    """Hold ``.dvc/tmp/lock`` for the body; wait up to ``wait`` seconds, then stop cleanly."""
    path = dvc_dir / "tmp" / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as stream:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    stream.seek(0)
                    holder = stream.read().strip() or "another process"
                    raise RepoLockedError(
                        f"The DVC repository is locked by pid {holder} (.dvc/tmp/lock).",
                        "A dvc command is probably running; let it finish, then retry.",
                    ) from None
                time.sleep(0.1)
        stream.seek(0)
        stream.truncate()
        stream.write(f" {os.getpid()}\n")
        stream.flush()
        try:
            yield
        finally:
            fcntl.flock(stream.fileno(), fcntl.LOCK_UN)
