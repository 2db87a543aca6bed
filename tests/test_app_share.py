"""Whole journeys in the app: mark, push or pull, confirm, wait; then check the real remote
(with plain git and the storage directory) and the local repository."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.message import Message
from textual.notifications import Notify

from tests.big_experiment import add_big_experiment
from tests.remote_setup import server_refs
from tests.test_app import settle
from tests.test_transfer import exp_objects, object_path
from tui.app import ExptuiApp
from tui.screens.confirm_share import ConfirmShare


async def wait_for(pilot: object, predicate: object, tries: int = 300) -> None:
    for _ in range(tries):
        if predicate():  # type: ignore[operator]
            return
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError("condition not reached")


def origin_names(demo: Path) -> set[str]:
    return {r.rsplit("/", 1)[1] for r in server_refs(demo.parent / "origin.git")}


async def test_mark_three_push_confirm_and_the_remote_has_them(fresh_demo: Path) -> None:
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        # main group: big-batch, brisk-lynx, long-run, quick-test, tuned-lr, wide-net
        await pilot.press("down", "down", "down", "space", "space", "space")  # long-run..tuned-lr
        assert len(app.local_tree.marked) == 3
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))
        plan = app.screen.plan  # type: ignore[attr-defined]
        assert sorted(u.ref.name for u in plan.refs.updates) == [
            "long-run",
            "quick-test",
            "tuned-lr",
        ]
        await pilot.press("y")
        await settle(app, pilot)
        toast = [m.notification.message for m in messages if isinstance(m, Notify)][-1]
        assert "Pushed 3/3 experiments" in toast
    assert {"long-run", "quick-test", "tuned-lr"} <= origin_names(fresh_demo)
    storage = fresh_demo.parent / "storage"
    for name in ("quick-test", "tuned-lr"):
        assert all(object_path(storage, o).is_file() for o in exp_objects(fresh_demo, name))


async def test_pull_from_the_remote_pane(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "down", "space", "down", "down", "space")  # alice-drop, ci-nightly
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))
        await pilot.press("enter")
        await settle(app, pilot)
    local = {r.rsplit("/", 1)[1] for r in server_refs(fresh_demo)}
    assert {"alice-drop", "ci-nightly"} <= local and "gusty-fern" not in local
    cache = fresh_demo / ".dvc" / "cache"
    assert all(object_path(cache, o).is_file() for o in exp_objects(fresh_demo, "ci-nightly"))


async def test_diverged_row_needs_its_own_force(fresh_demo: Path) -> None:
    remote_before = server_refs(fresh_demo.parent / "origin.git")
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("down")  # big-batch, diverged
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))
        await pilot.press("y")  # force left off: nothing replaced
        await settle(app, pilot)
        assert server_refs(fresh_demo.parent / "origin.git") == remote_before
        assert "diverged" in app.local_tree.statuses[app.local_tree.current_row.key][0]  # type: ignore[union-attr]
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))
        await pilot.press("space", "y")  # toggle force on big-batch, go
        await settle(app, pilot)
    local = {r: s for r, s in server_refs(fresh_demo).items() if r.endswith("/big-batch")}
    remote = server_refs(fresh_demo.parent / "origin.git")
    assert all(remote[r] == s for r, s in local.items())


async def test_cancel_mid_transfer_moves_no_ref(fresh_demo: Path) -> None:
    add_big_experiment(fresh_demo, "huge", 6000)
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        tree = app.local_tree
        node = next(
            leaf
            for group in tree.root.children
            for leaf in group.children
            if leaf.data.exp.name == "huge"
        )
        tree.move_cursor(node)
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))

        async def cancel_when_moving() -> None:
            # Pilot's press() waits for the app to settle, which is after the transfer:
            # watch alongside it, and cancel as the data phase starts, as z does.
            while app.board is None:
                await asyncio.sleep(0.001)
            app.action_cancel()

        watcher = asyncio.create_task(cancel_when_moving())
        await pilot.press("y")
        await asyncio.wait_for(watcher, 30)
        await app.workers.wait_for_complete()
        await pilot.pause()
        toasts = [m.notification.message for m in messages if isinstance(m, Notify)]
        assert any("Cancelled" in t for t in toasts), toasts
        assert not app.busy
    assert "huge" not in origin_names(fresh_demo)


async def test_nothing_marked_and_no_row_is_a_hint(fresh_demo: Path) -> None:
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "p")  # cursor on a baseline row, nothing marked
        await pilot.pause()
        toasts = [m.notification.message for m in messages if isinstance(m, Notify)]
        assert any("mark experiments in the remote pane" in t for t in toasts)
        assert not isinstance(app.screen, ConfirmShare)


async def test_quit_asks_while_a_batch_runs(fresh_demo: Path) -> None:
    from tui.screens.confirm import Confirm

    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        app.busy, app.operation = True, "push"  # as while a batch runs
        await pilot.press("q")
        assert isinstance(app.screen, Confirm) and app.is_running
        await pilot.press("n")
        assert app.is_running
        await pilot.press("q", "y")
        await pilot.pause()
        assert not app.is_running


async def test_toggling_force_replans_in_place_and_runs_what_it_shows(fresh_demo: Path) -> None:
    """The confirmation once showed '0 obj, 0 B' for a diverged row, ticking force changed
    nothing on screen, and the push then uploaded 4 files: a plan shown is the plan run."""
    from tui.screens.confirm_share import summary

    storage = fresh_demo.parent / "storage"
    before = {p for p in storage.rglob("*") if p.is_file()}
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("down")  # big-batch, diverged
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))
        screen = app.screen
        assert isinstance(screen, ConfirmShare)
        unforced = screen.plan
        await pilot.press("space")  # force big-batch: planned again, drawn again
        await wait_for(pilot, lambda: screen.plan is not unforced and not screen.planning)
        forced = screen.plan
        objects = sum(len(i.to_move) for i in forced.data.items) if forced.data else 0
        assert sum(len(i.to_move) for i in unforced.data.items) == 0  # type: ignore[union-attr]
        assert objects > 0 and f"{objects} objects" in summary(forced)[0].plain
        await pilot.press("y")
        await settle(app, pilot)
    uploaded = {p for p in storage.rglob("*") if p.is_file()} - before
    assert len(uploaded) == objects  # exactly what the confirmation said
