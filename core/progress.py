"""A thread-safe progress board: core writes counters, the UI polls a snapshot.

Nothing is pushed to the UI per chunk (that floods an event loop, TUI_GUIDE §1.3): the
transfer engine adds to counters under a lock, and whoever draws (the app's timer, the
CLI's bar) takes a consistent snapshot a few times a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class ItemProgress:
    """One experiment's share of a transfer."""

    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    status: str = "queued"  # queued, moving, done, failed
    error: str = ""


@dataclass(frozen=True)
class Snapshot:
    phase: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    started: float
    now: float
    items: dict[str, ItemProgress] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Bytes per second since the phase started."""
        elapsed = self.now - self.started
        return self.bytes_done / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        left = self.bytes_total - self.bytes_done
        return left / self.rate if self.rate > 0 and left >= 0 else None


class ProgressBoard:
    """Counters for one operation, safe to update from any thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock  # a fake one makes rates and ETAs repeatable (screenshots)
        self._phase = "idle"
        self._started = self._clock()
        self._files = [0, 0]
        self._bytes = [0, 0]
        self._items: dict[str, ItemProgress] = {}

    def start_phase(self, phase: str, files_total: int = 0, bytes_total: int = 0) -> None:
        with self._lock:
            self._phase = phase
            self._started = self._clock()
            self._files = [0, files_total]
            self._bytes = [0, bytes_total]

    def plan_item(self, key: str, files_total: int, bytes_total: int) -> None:
        with self._lock:
            self._items[key] = ItemProgress(files_total=files_total, bytes_total=bytes_total)

    def advance(self, key: str | None, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._files[0] += files
            self._bytes[0] += nbytes
            if key in self._items:
                item = self._items[key]
                self._items[key] = replace(
                    item,
                    files_done=item.files_done + files,
                    bytes_done=item.bytes_done + nbytes,
                    status="moving",
                )

    def finish_item(self, key: str, error: str = "") -> None:
        with self._lock:
            item = self._items.get(key, ItemProgress())
            self._items[key] = replace(item, status="failed" if error else "done", error=error)

    def snapshot(self) -> Snapshot:
        with self._lock:
            (files_done, files_total), (bytes_done, bytes_total) = self._files, self._bytes
            return Snapshot(
                self._phase,
                files_done,
                files_total,
                bytes_done,
                bytes_total,
                self._started,
                self._clock(),
                dict(self._items),
            )
