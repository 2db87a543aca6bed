"""Whole journeys in the app: mark, push or pull, confirm, wait; then check the real remote
(with plain git and the storage directory) and the local repository."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.message import Message
from textual.notifications import Notify

from tests.big_experiment import add_big_experiment
from tests.helpers import each, exp_objects, object_path, settle, wait_for
from tests.remote_setup import server_refs
from tui.app import ExptuiApp
from tui.format import format_size
from tui.screens.confirm_share import ConfirmShare


def origin_names(demo: Path) -> set[str]:
    return {r.rsplit("/", 1)[1] for r in server_refs(demo.parent / "origin.git")}


async def test_mark_three_push_confirm_and_the_remote_has_them(fresh_demo: Path) -> None:
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        # main group: big-batch, brisk-lynx, long-run, quick-test, tuned-lr, wide-net
        await pilot.press("down", "down", "down", "space", "space", "space")  # long-run..tuned-lr
        assert len(app.main.local_tree.marked) == 3
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
        assert all(object_path(storage, o).is_file() for o in each(exp_objects(fresh_demo, name)))


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
    assert all(object_path(cache, o).is_file() for o in each(exp_objects(fresh_demo, "ci-nightly")))


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
        assert "diverged" in app.main.local_tree.statuses[app.main.local_tree.current_row.key][0]  # type: ignore[union-attr]
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))
        await pilot.press("space", "y")  # toggle force on big-batch, go
        await settle(app, pilot)
    local = {r: s for r, s in server_refs(fresh_demo).items() if r.endswith("/big-batch")}
    remote = server_refs(fresh_demo.parent / "origin.git")
    assert all(remote[r] == s for r, s in each(local.items()))


async def test_cancel_mid_transfer_moves_no_ref(fresh_demo: Path) -> None:
    add_big_experiment(fresh_demo, "huge", 6000)
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        tree = app.main.local_tree
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
            while app.main.board is None:
                await asyncio.sleep(0.001)
            app.main.action_cancel()

        watcher = asyncio.create_task(cancel_when_moving())
        await pilot.press("y")
        await asyncio.wait_for(watcher, 30)
        await app.workers.wait_for_complete()
        await pilot.pause()
        toasts = [m.notification.message for m in messages if isinstance(m, Notify)]
        assert any("Cancelled" in t for t in toasts), toasts
        assert not app.main.busy
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
        app.main.busy, app.main.operation = True, "push"  # as while a batch runs
        await pilot.press("q")
        assert isinstance(app.screen, Confirm) and app.is_running
        await pilot.press("n")
        assert app.is_running
        await pilot.press("q", "y")
        await pilot.pause()
        assert not app.is_running


async def test_toggling_force_replans_in_place_and_runs_what_it_shows(fresh_demo: Path) -> None:
    """The confirmation once showed '0 obj, 0 B' for a diverged row, ticking force changed
    nothing on screen, and the push then uploaded 4 files: a plan shown is the plan run.
    With a diverged and a local-only row marked, the files and bytes that reach storage
    are exactly what the confirmation says after force is ticked."""
    from tui.render import share_summary

    storage = fresh_demo.parent / "storage"
    before = {p for p in storage.rglob("*") if p.is_file()}
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "space", "down", "down", "space")  # big-batch, quick-test
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))
        screen = app.screen
        assert isinstance(screen, ConfirmShare)
        unforced = screen.plan
        assert [u.action.value for u in unforced.refs.updates] == ["diverged", "create"]
        await pilot.press("space")  # force big-batch: re-planned from the facts, redrawn
        await wait_for(pilot, lambda: screen.plan is not unforced)
        forced = screen.plan
        assert unforced.data is not None and forced.data is not None
        assert {i.ref.name for i in unforced.data.items} == {"quick-test"}
        assert {i.ref.name for i in forced.data.items} == {"big-batch", "quick-test"}
        objects, size = forced.data.objects_to_move, forced.data.bytes_to_move
        assert objects > unforced.data.objects_to_move
        head = share_summary(forced)[0].plain
        assert f"{objects} objects" in head and format_size(size) in head
        drawn = str(screen.query_one("#share-head").render())
        assert f"{objects} objects" in drawn  # on screen, not only in the value
        await pilot.press("y")
        await settle(app, pilot)
    uploaded = {p for p in storage.rglob("*") if p.is_file()} - before
    assert len(uploaded) == objects  # exactly what the confirmation said
    assert sum(p.stat().st_size for p in uploaded) == size


async def test_cli_dry_run_json_is_the_plan_the_app_confirms(fresh_demo: Path) -> None:
    """One plan value, two renderings: the app's confirmation holds the same plan the CLI's
    ``--dry-run --json`` prints for the same selection."""
    import json
    import subprocess
    import sys

    args = ["push", "origin", "big-batch", "quick-test", "-f", "--dry-run", "--json"]
    cli = subprocess.run(
        [sys.executable, "-m", "tui", *args, "-C", str(fresh_demo)],
        capture_output=True,
        text=True,
        check=True,
    )
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "space", "down", "down", "space", "P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmShare))
        screen = app.screen
        assert isinstance(screen, ConfirmShare)
        await pilot.press("space")  # force big-batch, as -f does
        await wait_for(pilot, lambda: bool(screen.forced))
        shown_plan = screen.plan.to_json()
        await pilot.press("n")
    printed = json.loads(cli.stdout)
    assert printed["data"] and printed["experiments"]
    assert shown_plan == printed
