"""Long reads the caller can stop between items: the app quits while 100,000 refs are
being listed or peeked, and the process must not wait for the last of them.

A stopped read raises :class:`core.errors.Stopped` before it writes anything, so the
caller sees either the whole result or none of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from core.errors import Stopped

T = TypeVar("T")
Stop = Callable[[], bool]
EVERY = 1000  # items between two looks at the flag: microseconds each, a flag read apart


def never() -> bool:
    return False


def checked(items: Iterable[T], stopped: Stop, every: int = EVERY) -> Iterator[T]:
    """``items``, raising :class:`Stopped` once ``stopped()`` says so (looked at every
    ``every`` items, and before the first)."""
    for index, item in enumerate(items):
        if index % every == 0 and stopped():
            raise Stopped("Stopped.", "")
        yield item
