"""The remote pane: a Git remote's experiments with sync badges, peeked details, the
listing's age, another remote picked with r, and failures shown as messages."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message
from textual.widgets import OptionList

from core.data.datastate import DataState
from core.git.sync import SyncState
from tests.dvclive_project import shared_dvclive
from tests.helpers import Dvc, each, git, plain, rows, settle, status_text, toasts_once_shown
from tui.app import ExptuiApp
from tui.screens.remote_picker import RemotePicker


async def test_remote_pane_shows_every_sync_state_with_badges(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        remote = rows(app.main.remote_tree)
        local = rows(app.main.local_tree)
        assert set(remote) == {
            "alice-drop",
            "ci-nightly",
            "gusty-fern",
            "big-batch",
            "brisk-lynx",
            "long-run",
            "wide-net",
            "sgd-base",
        }
        assert remote["alice-drop"].sync is SyncState.REMOTE_ONLY
        assert remote["big-batch"].sync is SyncState.DIVERGED
        assert remote["wide-net"].sync is SyncState.IN_SYNC
        assert local["tuned-lr"].sync is SyncState.LOCAL_ONLY
        assert local["big-batch"].sync is SyncState.DIVERGED
        label = str(app.main.remote_tree.row_label(remote["alice-drop"]))
        assert label.startswith(
            "↓■ alice-drop"
        )  # glyphs, not colour alone: remote-only, data there
        assert str(app.main.local_tree.row_label(local["big-batch"])).startswith("≠")
        # the half-shared experiment: ref in sync on origin, data never pushed to storage
        assert remote["brisk-lynx"].data is not None
        assert remote["brisk-lynx"].data.remote is DataState.MISSING
        assert str(app.main.remote_tree.row_label(remote["brisk-lynx"])).startswith("✓□ brisk-lynx")
        assert remote["wide-net"].data.remote is DataState.COMPLETE  # type: ignore[union-attr]
        assert local["tuned-lr"].data.local is DataState.COMPLETE  # type: ignore[union-attr]
        # remote-only experiments were peeked: their metrics show without pulling them
        assert remote["alice-drop"].state is not None
        assert remote["alice-drop"].metric("accuracy") is not None
        pane = app.query_one("#remote-pane")
        assert pane.border_title == "Remote origin"
        assert "listed just now" in str(pane.border_subtitle)
        assert not any(
            r.endswith("/alice-drop")
            for r in git("for-each-ref", cwd=fresh_demo).split()
            if r.startswith("refs/exps/")
        )


async def test_remote_details_and_cached_listing_offline(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(170, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "down")
        await pilot.pause()
        details = plain(app.query_one("#details").query_one("Static"))  # type: ignore[arg-type]
        assert "alice-drop" in details and "remote-only" in details and "model.dropout" in details
    offline = ExptuiApp(fresh_demo, network=False, clock=lambda: app.clock() + 7200)
    async with offline.run_test(size=(130, 36)) as pilot:
        await settle(offline, pilot)
        assert "alice-drop" in rows(offline.main.remote_tree)
        assert "cached 2h" in str(offline.query_one("#remote-pane").border_subtitle)


async def test_r_picks_another_git_remote(fresh_demo: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.git"
    git("clone", "-q", "--mirror", str(fresh_demo.parent / "origin.git"), str(backup), cwd=tmp_path)
    for ref in git("for-each-ref", "--format=%(refname)", "refs/exps/", cwd=backup).split():
        if not ref.endswith("/sgd-base"):
            git("update-ref", "-d", ref, cwd=backup)
    git("remote", "add", "backup", str(backup), cwd=fresh_demo)
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        assert isinstance(app.screen, RemotePicker)
        await pilot.press("up", "enter")  # backup sorts before origin
        await settle(app, pilot)
        assert app.main.remote_name == "backup"
        assert set(rows(app.main.remote_tree)) == {"sgd-base"}
        assert rows(app.main.local_tree)["wide-net"].sync is SyncState.LOCAL_ONLY
        assert app.query_one("#remote-pane").border_title == "Remote backup"


async def test_unreachable_remote_is_a_toast_and_the_app_stays(fresh_demo: Path) -> None:
    from tests.servers import free_port

    git("remote", "set-url", "origin", f"git://127.0.0.1:{free_port()}/x.git", cwd=fresh_demo)
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        toast = (await toasts_once_shown(pilot, messages))[0]
        assert toast.severity == "error" and "Cannot reach Git remote 'origin'" in toast.message
        await settle(app, pilot)  # the refusal can come before the local rows are read
        assert app.is_running and len(rows(app.main.local_tree)) == 8
        await pilot.press("j", "k")  # still browsable


async def test_no_git_remote_says_how_to_add_one(fresh_demo: Path) -> None:
    git("remote", "remove", "origin", cwd=fresh_demo)
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        assert "git remote add" in str(app.query_one("#remote-pane").border_subtitle)
        await pilot.press("r")
        assert not isinstance(app.screen, RemotePicker)


async def test_http_remote_asks_for_credentials_in_the_app(fresh_demo: Path) -> None:
    from tests.servers import http_git
    from tui.screens.credentials import CredentialScreen

    with http_git(fresh_demo.parent, users={"alice": "s3cret"}) as (base, _):
        git("remote", "set-url", "origin", f"{base}/origin.git", cwd=fresh_demo)
        app = ExptuiApp(fresh_demo)
        async with app.run_test(size=(130, 36)) as pilot:
            for _ in range(200):
                if isinstance(app.screen, CredentialScreen):
                    break
                await pilot.pause(0.02)
            assert isinstance(app.screen, CredentialScreen)
            await pilot.press(*"alice", "enter", *"s3cret", "enter")
            await settle(app, pilot)
            assert len(rows(app.main.remote_tree)) == 8
            assert "listed just now" in str(app.query_one("#remote-pane").border_subtitle)


async def test_a_diverged_experiment_shows_each_commits_own_data(fresh_demo: Path) -> None:
    """big-batch is two commits: the local one's data only in the cache, the remote one's
    only on storage. Each row's badge is for the commit that row shows (the local row once
    showed the remote commit's 'complete on storage')."""
    from tests.helpers import exp_objects, object_path

    storage, cache = fresh_demo.parent / "storage", fresh_demo / ".dvc" / "cache"
    mine = exp_objects(fresh_demo, "big-batch")
    assert all(object_path(cache, o).is_file() for o in each(mine))
    assert not any(object_path(storage, o).is_file() for o in mine)  # never pushed
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        local, remote = (
            rows(app.main.local_tree)["big-batch"],
            rows(app.main.remote_tree)["big-batch"],
        )
        assert local.exp.sha != remote.exp.sha
        assert local.data is not None and remote.data is not None
        assert (local.data.local, local.data.remote) == (DataState.COMPLETE, DataState.MISSING)
        assert (remote.data.local, remote.data.remote) == (DataState.MISSING, DataState.COMPLETE)


async def test_values_inside_cached_outputs_arrive_for_remote_only_rows(
    dvc: Dvc, tmp_path: Path
) -> None:
    """DVCLive's metrics live in the cached dvclive/ on the DVC remote: the row first
    shows none, then the values fetched in the background, as dvc exp show would."""
    setup = shared_dvclive(dvc, tmp_path)
    app = ExptuiApp(setup.colleague, remote="shared")
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        await settle(app, pilot)  # phase four posts its states when it is done
        row = rows(app.main.remote_tree)["faster"]
        assert row.state is not None and row.state.uncached == []
        assert row.metric("loss") == 0.75
        assert row.state.params == setup.expected["params"]
        assert "fetching values" not in status_text(app)


async def test_the_picker_moves_with_j_k_aligns_urls_and_the_status_follows(
    fresh_demo: Path,
) -> None:
    """Switching to a remote that does not answer: the status line said '8 on origin'
    until the end; now it names the chosen remote and that it is unreachable."""
    from tests.servers import free_port

    git("remote", "add", "a-long-remote-name", f"git://127.0.0.1:{free_port()}/x", cwd=fresh_demo)
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        assert "on origin" in status_text(app)
        await pilot.press("r")
        assert isinstance(app.screen, RemotePicker)
        lines = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
        assert len(lines) == 2 and len({line.rindex(" ") for line in lines}) == 1  # one column
        await pilot.press("k", "j", "k", "enter")  # the first: a-long-remote-name
        await settle(app, pilot)
        assert app.main.remote_name == "a-long-remote-name"
        text = status_text(app)
        assert "on origin" not in text and "a-long-remote-name unreachable" in text


async def test_the_remote_pane_notices_what_colleagues_push(fresh_demo: Path) -> None:
    """A quiet listing now and then: a colleague's new experiment appears by itself, the
    status line says so, and the cursor stays where it was."""
    from tests.app.test_app_workspace import cursor_to
    from tests.helpers import wait_for
    from tests.remote_setup import server_refs

    origin = fresh_demo.parent / "origin.git"
    app = ExptuiApp(fresh_demo)
    app.main.watch_every = 0.3
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        cursor_to(app, app.main.remote_tree, "wide-net")
        ref, sha = next((r, s) for r, s in server_refs(origin).items() if r.endswith("/wide-net"))
        git("update-ref", ref.rsplit("/", 1)[0] + "/colleague-run", sha, cwd=origin)
        await wait_for(pilot, lambda: "1 new on origin" in status_text(app), tries=1000)
        await wait_for(pilot, lambda: "colleague-run" in rows(app.main.remote_tree), tries=1000)
        await settle(app, pilot)
        node = app.main.remote_tree.cursor_node
        assert node is not None and node.data.exp.name == "wide-net"
        await pilot.press("R")  # a refresh is news read: the note goes
        await settle(app, pilot)
        assert "new on origin" not in status_text(app)


async def test_a_fresh_listing_like_the_cached_one_keeps_the_rows(fresh_demo: Path) -> None:
    """The second start shows the cached listing, then lists the remote again: when
    nothing moved, the pane keeps the rows it drew and only the title says "listed"
    (``still_current``); when something moved, the fresh rows replace them."""
    first = ExptuiApp(fresh_demo)
    async with first.run_test(size=(130, 36)) as pilot:
        await settle(first, pilot)  # the listing is cached now
    again = ExptuiApp(fresh_demo)
    async with again.run_test(size=(130, 36)) as pilot:
        await settle(again, pilot)
        assert "listed just now" in str(again.query_one("#remote-pane").border_subtitle)
        assert len(rows(again.main.remote_tree)) == 8
    gone = next(
        r
        for r in git(
            "for-each-ref", "--format=%(refname)", cwd=fresh_demo.parent / "origin.git"
        ).split()
        if r.endswith("/alice-drop")
    )
    git("update-ref", "-d", gone, cwd=fresh_demo.parent / "origin.git")
    moved = ExptuiApp(fresh_demo)
    async with moved.run_test(size=(130, 36)) as pilot:
        await settle(moved, pilot)
        assert "alice-drop" not in rows(moved.main.remote_tree)
        assert len(rows(moved.main.remote_tree)) == 7
        assert "listed just now" in str(moved.query_one("#remote-pane").border_subtitle)


async def test_peeked_commits_are_kept_after_the_rows_and_a_held_lock_is_a_toast(
    fresh_demo: Path,
) -> None:
    """The peek refs are written once both panes show their rows (at 100,000 new ones
    that write took a second of the first screen); when another git process holds
    the refs lock, the rows still show and a toast says what to do."""

    def peeked() -> list[str]:
        return git("for-each-ref", "--format=%(refname)", "refs/exptui/", cwd=fresh_demo).split()

    lock = fresh_demo / ".git" / "packed-refs.lock"
    lock.write_text("")
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        assert len(rows(app.main.remote_tree)) == 8
        assert rows(app.main.remote_tree)["alice-drop"].metric("accuracy") is not None
        toasts = [t.message for t in await toasts_once_shown(pilot, messages)]
        assert any("peeked commits not kept" in t and "packed-refs.lock" in t for t in toasts)
        assert peeked() == []
    lock.unlink()
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        assert len(peeked()) == 8
