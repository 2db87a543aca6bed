"""Confinement of untrusted relative paths (manifests, lock files, ``.dvc`` files, trees).

Every path that comes from data we did not write is normalised here before it is joined to
a directory. ``..`` escapes, absolute paths, drive letters and NUL bytes are refused, so
nothing is ever read or written outside the workspace or cache because a file said so.
"""

from __future__ import annotations

import posixpath

from core.errors import ExptuiError


class UnsafePathError(ExptuiError):
    """A path from a manifest, lock file or tree would leave its root."""


def confine(path: str, base: str = "") -> str:
    """Join ``path`` to the repo-relative ``base`` and return a normalised POSIX path.

    The result is relative and stays inside the root; anything else raises.
    """
    if not path or "\x00" in path or "\\" in path:
        raise UnsafePathError(f"Refusing path {path!r}: it is empty or has a NUL or backslash.")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise UnsafePathError(f"Refusing absolute path {path!r} from a DVC file.")
    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        raise UnsafePathError(f"Refusing path {path!r}: it leads outside the repository.")
    return "" if joined == "." else joined
