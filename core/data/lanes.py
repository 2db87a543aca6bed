"""How many threads copy small local files at once, found while copying.

One thread is usually fastest on a local disk (each small copy is a few quick syscalls,
and more threads mostly trade the GIL back and forth: see ``core.data.mounts``). But not
always: right after mass deletes, ext4 spends its time allocating inodes, and there eight
threads took 27.9 s where one took 131 s; pulling 10,000 files ran 3x faster with eight.
A default tuned on one disk is a guess, so the limit climbs: it starts at one lane, and
every window it measures the work done per second at the current limit, then moves to
half or double the lanes where that did (or may do) better, up to ``most``, and holds
where neither neighbour helps. The disk in front of us decides.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType

WINDOW = 0.25  # seconds of copying per measurement: several batches of small files
BETTER = 1.10  # a change that does 10% more work per second is worth keeping
WORSE = 0.90
WORK_PER_MIB = 1.0  # a mebibyte copied counts like one file: small files are syscalls


class AdaptiveLanes:
    """An async limit on concurrent copy batches that follows measured throughput.
    Use as ``async with lanes:`` around a batch, then :meth:`record` what it moved."""

    def __init__(self, most: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.most = max(1, most)
        self.limit = 1
        self.clock = clock
        self.history: list[int] = [1]  # every limit tried, for ``-v`` and the tests
        self._active = 0
        self._changed = asyncio.Condition()
        self._work = 0.0
        self._since = clock()
        self._rates: dict[int, float] = {}  # work per second last measured, per limit
        self._step = 2.0  # the last move: x2 up, x0.5 down
        self._waking: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> AdaptiveLanes:
        async with self._changed:
            await self._changed.wait_for(lambda: self._active < self.limit)
            self._active += 1
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        async with self._changed:
            self._active -= 1
            self._changed.notify_all()

    def record(self, files: int, nbytes: int) -> None:
        """A batch finished; once a window has passed, steer the limit by its rate."""
        self._work += files + WORK_PER_MIB * nbytes / (1 << 20)
        now = self.clock()
        elapsed = now - self._since
        if elapsed < WINDOW:
            return
        self.steer(self._work / elapsed)
        self._work, self._since = 0.0, now

    def steer(self, rate: float) -> None:
        """One step from the rate of the window just ended: move to a neighbouring limit
        (half or double) known to do 10% more, else try one not measured yet (the way
        the last move went first), else hold. A limit now 10% slower than when last
        measured means the disk changed: what the other limits did is forgotten."""
        known = self._rates.get(self.limit)
        if known is not None and rate <= known * WORSE:
            self._rates = {}
        self._rates[self.limit] = rate
        ahead = self._neighbour(self._step)
        behind = self._neighbour(1 / self._step)
        for limit in (ahead, behind):
            if limit is not None and self._rates.get(limit, 0.0) >= rate * BETTER:
                return self._go(limit)
        for limit in (ahead, behind):
            if limit is not None and limit not in self._rates:
                return self._go(limit)
        return None

    def _neighbour(self, step: float) -> int | None:
        limit = round(self.limit * step)
        return limit if 1 <= limit <= self.most and limit != self.limit else None

    def _go(self, limit: int) -> None:
        self._step = 2.0 if limit > self.limit else 0.5
        self.limit = limit
        self.history.append(limit)
        try:  # batches waiting for a lane may go now
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # steered by hand (a test): nobody waits
        waking = loop.create_task(self._wake())
        self._waking.add(waking)
        waking.add_done_callback(self._waking.discard)

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()
