"""DVC's repository lock, ``.dvc/tmp/lock``, taken the way DVC takes it (zc.lockfile: an
exclusive non-blocking ``flock`` and the holder's pid), so exptui and a running ``dvc``
never write the workspace or cache at the same time. Reads never take it.

DVC releases that lock while a stage's command runs (``dvc exp run`` trains for hours
without it) and guards the stage's paths in ``.dvc/tmp/rwlock`` instead: a JSON map of
the paths being read and written to ``{"pid", "cmd"}``. :func:`busy_paths` reads it the way
DVC's ``rwlock`` does, under its own ``rwlock.lock``, so a workspace write can refuse to
mix with a running stage."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from core.errors import RepoLockedError, WorkspaceBusyError

MAX_RWLOCK_BYTES = 1 << 20  # DVC writes one entry per path of the running stages


@contextlib.contextmanager
def dvc_lock(dvc_dir: Path, wait: float = 3.0, name: str = "lock") -> Iterator[None]:
    """Hold ``.dvc/tmp/<name>`` for the body; wait up to ``wait`` seconds, then stop
    cleanly."""
    path = dvc_dir / "tmp" / name
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
                        f"The DVC repository is locked by pid {holder} (.dvc/tmp/{name}).",
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


def check_not_busy(dvc_dir: Path, workspace: Path) -> None:
    """Refuse, as DVC would, while ``.dvc/tmp/rwlock`` lists a path in ``workspace``
    (any: apply rewrites the workspace, and a stage reads its deps as it runs)."""
    busy = busy_paths(dvc_dir, workspace)
    if busy:
        path, (pid, cmd) = next(iter(busy.items()))
        raise WorkspaceBusyError(
            f"'{path}' is busy: it is used by PID {pid} ({cmd})"
            + (f" and {len(busy) - 1} more path(s)" if len(busy) > 1 else "")
            + ".",
            "Let that dvc command finish; if no process has that PID, remove "
            "'.dvc/tmp/rwlock' and try again.",
        )


def busy_paths(dvc_dir: Path, workspace: Path) -> dict[str, tuple[object, str]]:
    """Paths in ``workspace`` that DVC's rwlock holds for reading or writing, with the
    holder's pid and command; an unreadable rwlock counts as everything busy."""
    path = dvc_dir / "tmp" / "rwlock"
    if not path.exists():
        return {}
    with dvc_lock(dvc_dir, name="rwlock.lock"):
        try:
            with open(path, "rb") as stream:
                data = json.loads(stream.read(MAX_RWLOCK_BYTES + 1)[:MAX_RWLOCK_BYTES])
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError):
            return {str(path): ("?", "an unreadable .dvc/tmp/rwlock")}
    holders: dict[str, tuple[object, str]] = {}
    for mode in ("write", "read"):
        entries = data.get(mode) if isinstance(data, dict) else None
        for held, infos in (entries or {}).items() if isinstance(entries, dict) else ():
            info = infos[0] if isinstance(infos, list) and infos else infos
            if isinstance(info, dict) and _overlaps(str(held), workspace):
                holders[str(held)] = (info.get("pid", "?"), str(info.get("cmd", "dvc")))
    return holders


def _overlaps(held: str, workspace: Path) -> bool:
    root = os.path.realpath(workspace)
    path = os.path.realpath(os.path.join(root, held))
    return path == root or path.startswith(root + os.sep) or root.startswith(path + os.sep)
