"""The adaptive limit on local copy lanes: it climbs while more lanes do more work per
second, turns around when a change hurts, and holds when nothing changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.data.lanes import WINDOW, AdaptiveLanes


def settle(rate_at: Callable[[int], float], windows: int = 12, most: int = 8) -> AdaptiveLanes:
    """Run ``windows`` measurement windows on a fake clock where ``rate_at(limit)`` files
    per second get copied, and return the limiter."""
    now = [0.0]
    lanes = AdaptiveLanes(most, clock=lambda: now[0])
    for _ in range(windows):
        now[0] += WINDOW
        lanes.record(int(rate_at(lanes.limit) * WINDOW), 0)
    return lanes


def test_one_lane_stays_when_more_lanes_only_add_gil_handoffs() -> None:
    """Small files on a fast local disk: one thread beats two (the usual case)."""
    lanes = settle(lambda limit: 8000 / limit**0.5)
    assert lanes.limit == 1, lanes.history


def test_lanes_climb_while_the_disk_rewards_them() -> None:
    """After mass deletes, ext4 allocation: eight threads did 4.7x what one did."""
    lanes = settle(lambda limit: 1000 * min(limit, 8))
    assert lanes.limit == 8, lanes.history


def test_lanes_settle_near_the_best_concurrency() -> None:
    lanes = settle(lambda limit: {1: 1000, 2: 1800, 4: 2600, 8: 1500}[limit], windows=20)
    assert lanes.limit in (2, 4) and 4 in lanes.history, lanes.history
    assert max(lanes.history) == 8  # it looked past the peak, then came back


def test_lanes_turn_around_when_the_disk_changes_under_them() -> None:
    state = {"slow": False}

    def rate(limit: int) -> float:
        return 500 * limit if not state["slow"] else 4000 / limit

    now = [0.0]
    lanes = AdaptiveLanes(8, clock=lambda: now[0])
    for window in range(30):
        state["slow"] = window >= 10
        now[0] += WINDOW
        lanes.record(int(rate(lanes.limit) * WINDOW), 0)
    assert 8 in lanes.history and lanes.limit == 1, lanes.history


def test_the_limit_bounds_how_many_batches_run_at_once() -> None:
    async def main() -> tuple[int, int]:
        lanes = AdaptiveLanes(8)
        running = most = 0

        async def batch() -> None:
            nonlocal running, most
            async with lanes:
                running += 1
                most = max(most, running)
                await asyncio.sleep(0.01)
                running -= 1

        await asyncio.gather(*(batch() for _ in range(6)))
        first = most
        lanes.steer(100.0)  # the first window: try two lanes
        running = most = 0
        await asyncio.gather(*(batch() for _ in range(6)))
        return first, most

    assert asyncio.run(main()) == (1, 2)
