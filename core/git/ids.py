"""Git's ids as dulwich's annotations name them.

dulwich types object ids and ref names as ``NewType``s over ``bytes``; the values are the
same bytes. These two functions are the one place a ``str`` or ``bytes`` becomes one, so
``mypy`` checks every other call into dulwich instead of being silenced at each.
"""

from __future__ import annotations

from dulwich.objects import ObjectID
from dulwich.refs import Ref


def oid(sha: str | bytes) -> ObjectID:
    """A hex object id (40 characters for SHA-1)."""
    return ObjectID(sha.encode() if isinstance(sha, str) else sha)


def refname(name: str | bytes) -> Ref:
    """A full ref name such as ``refs/exps/ab/cdef.../name`` or ``HEAD``."""
    return Ref(name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name)
