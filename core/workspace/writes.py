"""Writes into the working tree that can never leave it, whatever the experiment holds.

``apply`` writes paths that come from someone else's commit: tree entries, lock outputs,
``.dir`` entries. Checking them as strings is not enough, because the same apply may
create a symlink (``d/up -> ..``) and then write through it (``d/up/x``), or a directory
in the workspace may have been swapped for a symlink. So every write here walks from the
root one directory at a time with ``O_NOFOLLOW``, as Git does when it refuses to write
"beyond a symbolic link": a symlink (or a file) where a directory should be stops the
write with :class:`UnsafePathError`, and no name is ever resolved through a link.

Files land through a temporary name in their own directory and a rename, so a reader never
sees half a file and an interrupted apply leaves the old file or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from core.errors import UnsafePathError

SYMLINK_MODE = 0o120000
EXECUTABLE_MODE = 0o100755
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_CREATE_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FICLONE = 0x40049409  # Linux's copy-on-write clone ioctl (Btrfs, XFS)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _temporary_name() -> str:
    return f".exptui-{secrets.token_hex(6)}.tmp"


class Workspace:
    """The working tree below ``root``; every path given to it is ``/``-separated and
    relative, and was already refused by the plan if it had ``..`` or a ``.git`` in it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- walking -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _parent(self, relpath: str, create: bool = True) -> Iterator[tuple[int, str]]:
        """An open descriptor of ``relpath``'s directory and its last name; directories are
        created on the way (when ``create``) and never followed through a symlink."""
        *parents, name = relpath.split("/")
        fd = os.open(self.root, _OPEN_DIR)
        try:
            for depth, part in enumerate(parents):
                child = self._descend(fd, part, "/".join(parents[: depth + 1]), relpath, create)
                os.close(fd)
                fd = child
            yield fd, name
        finally:
            os.close(fd)  # exactly once: a second close could close another thread's file

    @staticmethod
    def _descend(fd: int, part: str, where: str, relpath: str, create: bool) -> int:
        """Open the directory ``part`` below ``fd`` without following it."""
        try:
            try:
                return os.open(part, _OPEN_DIR, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o777, dir_fd=fd)
                return os.open(part, _OPEN_DIR, dir_fd=fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafePathError(
                    f"Refusing to write '{relpath}': '{where}' is a symlink or a file, "
                    "not a directory.",
                    "exptui never writes through a symlink, as Git does not.",
                ) from exc
            raise

    def kind(self, relpath: str) -> str | None:
        """``"dir"``, ``"link"``, ``"file"``, ``"other"`` or None (absent or unreachable
        without following a symlink)."""
        try:
            with self._parent(relpath, create=False) as (fd, name):
                mode = os.lstat(name, dir_fd=fd).st_mode
        except (OSError, UnsafePathError):
            return None
        if stat.S_ISLNK(mode):
            return "link"
        if stat.S_ISDIR(mode):
            return "dir"
        return "file" if stat.S_ISREG(mode) else "other"

    # -- writing -------------------------------------------------------------------------

    def write(self, relpath: str, data: bytes, git_mode: int) -> None:
        """Put a file (or, for Git's symlink mode, a symlink) at ``relpath`` atomically."""
        with self._parent(relpath) as (fd, name):
            tmp = _temporary_name()
            if git_mode == SYMLINK_MODE:
                os.symlink(data.decode("utf-8", "surrogateescape"), tmp, dir_fd=fd)
            else:
                mode = (0o777 if git_mode == EXECUTABLE_MODE else 0o666) & ~_umask()
                self._fill(fd, tmp, mode, lambda out: out.write(data))
            self._place(fd, tmp, name)

    def link(self, relpath: str, source: Path, kinds: list[str]) -> None:
        """Materialise the cache file ``source`` at ``relpath`` with the first link type
        that works here (``cache.type``); a copy always works and shares nothing."""
        with self._parent(relpath) as (fd, name):
            tmp = _temporary_name()
            for kind in [*kinds, "copy"]:
                if self._try_link(fd, tmp, kind, source):
                    self._place(fd, tmp, name)
                    return

    def _try_link(self, fd: int, tmp: str, kind: str, source: Path) -> bool:
        mode = 0o666 & ~_umask()
        try:
            if kind == "hardlink":
                os.link(source, tmp, dst_dir_fd=fd)
            elif kind == "symlink":
                os.symlink(source, tmp, dir_fd=fd)
            elif kind == "reflink":
                import fcntl

                with open(source, "rb") as src:
                    self._fill(fd, tmp, mode, lambda out: fcntl.ioctl(out, _FICLONE, src.fileno()))
            else:
                with open(source, "rb") as src:
                    self._fill(fd, tmp, mode, lambda out: shutil.copyfileobj(src, out))
            return True
        except OSError:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=fd)
            return False

    @staticmethod
    def _fill(fd: int, tmp: str, mode: int, writer: Callable[[BinaryIO], object]) -> None:
        """Create ``tmp`` (never through a link) and let ``writer`` fill it."""
        handle = os.open(tmp, _CREATE_FILE, 0o600, dir_fd=fd)
        try:
            with os.fdopen(handle, "wb", closefd=False) as out:
                writer(out)
            os.fchmod(handle, mode)
        except BaseException:
            os.close(handle)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=fd)
            raise
        os.close(handle)

    @staticmethod
    def _place(fd: int, tmp: str, name: str) -> None:
        """Rename ``tmp`` over ``name``; an empty directory in the way is removed first
        (the plan refused any directory that holds something)."""
        try:
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISDIR(os.lstat(name, dir_fd=fd).st_mode):
                    os.rmdir(name, dir_fd=fd)
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=fd)
            raise

    # -- removing ------------------------------------------------------------------------

    def remove(self, relpath: str) -> None:
        """Remove whatever is at ``relpath`` (a directory with everything in it, never
        following a link), then the directories this left empty."""
        try:
            with self._parent(relpath, create=False) as (fd, name):
                _remove_at(fd, name)
        except FileNotFoundError:
            pass
        self._prune(relpath)

    def _prune(self, relpath: str) -> None:
        parents = relpath.split("/")[:-1]
        while parents:
            try:
                with self._parent("/".join(parents), create=False) as (fd, name):
                    os.rmdir(name, dir_fd=fd)
            except (OSError, UnsafePathError):
                return
            parents.pop()


def _remove_at(fd: int, name: str) -> None:
    """Remove ``name`` below ``fd``; a directory is emptied through descriptors, so a
    symlink inside it is removed as a link and never followed."""
    if not stat.S_ISDIR(os.lstat(name, dir_fd=fd).st_mode):
        os.unlink(name, dir_fd=fd)
        return
    child = os.open(name, _OPEN_DIR, dir_fd=fd)
    try:
        for entry in list(os.scandir(child)):
            _remove_at(child, entry.name)
    finally:
        os.close(child)
    os.rmdir(name, dir_fd=fd)
