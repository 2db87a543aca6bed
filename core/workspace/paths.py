"""Confinement of untrusted relative paths (manifests, lock files, ``.dvc`` files, trees).

Every path that comes from data we did not write is normalised here before it is joined to
a directory. ``..`` escapes, absolute paths, drive letters and NUL bytes are refused, so
nothing is ever read or written outside the workspace or cache because a file said so. A
backslash is an ordinary byte of a POSIX file name (DVC accepts ``data/a\\b.txt``), and a
separator only on Windows, where it is refused.
"""

from __future__ import annotations

import os
import posixpath

from dulwich.index import (
    validate_path_element_default,
    validate_path_element_hfs,
    validate_path_element_ntfs,
)

from core.errors import UnsafePathError

MAX_NAME_BYTES = 255  # NAME_MAX on every common file system


def confine(path: str, base: str = "") -> str:
    """Join ``path`` to the repo-relative ``base`` and return a normalised POSIX path.

    The result is relative and stays inside the root; anything else raises.
    """
    if not path or "\x00" in path or (os.sep == "\\" and "\\" in path):
        raise UnsafePathError(f"Refusing path {path!r}: it is empty or has a NUL or backslash.")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise UnsafePathError(f"Refusing absolute path {path!r} from a DVC file.")
    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        raise UnsafePathError(f"Refusing path {path!r}: it leads outside the repository.")
    return "" if joined == "." else joined


def _element_is_safe(element: bytes) -> bool:
    """Git's ``verify_path`` for one name: no ``.``, ``..``, empty, and no spelling of
    ``.git`` that Git, NTFS (``.GIT``, ``git~1``, ``.git.``) or HFS+ (ignorable code points)
    would treat as the repository's own directory."""
    if not (validate_path_element_default(element) and validate_path_element_ntfs(element)):
        return False
    try:
        element.decode("utf-8")
    except UnicodeDecodeError:
        return True  # HFS+ cannot store it at all, so it cannot alias .git there
    return validate_path_element_hfs(element)


def tree_path_problem(path: str) -> str | None:
    """Why Git would refuse to check out ``path`` (a ``/``-separated name from a tree, a
    lock file or a manifest), or None when it is an ordinary name."""
    raw = path.encode("utf-8", "surrogateescape")
    if not raw or raw.startswith(b"/") or b"\x00" in raw:
        return "an empty, absolute or NUL-bearing path"
    for element in raw.split(b"/"):
        if len(element) > MAX_NAME_BYTES:
            return f"a name of {len(element)} bytes, longer than file systems allow"
        if not _element_is_safe(element):
            shown = element.decode("utf-8", "backslashreplace")
            return f"a path through {shown!r}, which Git refuses to check out"
    return None
