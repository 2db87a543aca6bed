"""apply and branch from the app: confirmations, pulling a remote-only experiment first,
and nothing done when the user says no."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message
from textual.notifications import Notify

from tests.helpers import plain, settle, wait_for
from tests.remote_setup import server_refs
from tui.app import ExptuiApp
from tui.screens.branch_name import BranchName
from tui.screens.confirm import Confirm


def cursor_to(app: ExptuiApp, tree: object, name: str) -> None:
    node = next(
        leaf
        for group in tree.root.children
        for leaf in group.children  # type: ignore[attr-defined]
        if leaf.data.exp.name == name
    )
    tree.move_cursor(node)  # type: ignore[attr-defined]


async def answer(pilot: object, app: ExptuiApp, screen: type, key: str) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, screen))
    await pilot.press(key)  # type: ignore[attr-defined]


async def test_apply_a_local_experiment(fresh_demo: Path) -> None:
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        cursor_to(app, app.main.local_tree, "tuned-lr")
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        assert "outputs checked out" in plain(app.screen.query_one("Static"))  # type: ignore[arg-type]
        await pilot.press("y")
        await settle(app, pilot)
        assert any(
            "Applied tuned-lr" in m.notification.message for m in messages if isinstance(m, Notify)
        )
    assert "lr: 0.02" in (fresh_demo / "params.yaml").read_text()
    tuned = next(s for r, s in server_refs(fresh_demo).items() if r.endswith("/tuned-lr"))
    assert server_refs(fresh_demo, "refs/exps/exec/")["refs/exps/exec/EXEC_APPLY"] == tuned


async def test_apply_a_remote_only_experiment_pulls_it_first(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        cursor_to(app, app.main.remote_tree, "alice-drop")
        await pilot.press("A")
        await answer(pilot, app, Confirm, "y")  # pull it from origin first?
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, Confirm) and "Apply" in plain(app.screen.query_one("Static"))
            ),
        )  # type: ignore[arg-type]
        await pilot.press("y")
        await settle(app, pilot)
    assert any(r.endswith("/alice-drop") for r in server_refs(fresh_demo))
    assert "dropout: 0.4" in (fresh_demo / "params.yaml").read_text()
    assert (fresh_demo / "model.pkl").is_file()


async def test_saying_no_changes_nothing(fresh_demo: Path) -> None:
    params = (fresh_demo / "params.yaml").read_text()
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        cursor_to(app, app.main.remote_tree, "ci-nightly")
        await pilot.press("A")
        await answer(pilot, app, Confirm, "n")
        await settle(app, pilot)
        cursor_to(app, app.main.local_tree, "wide-net")
        await pilot.press("1", "A")
        await answer(pilot, app, Confirm, "escape")
        await settle(app, pilot)
        assert not app.main.busy
    assert (fresh_demo / "params.yaml").read_text() == params
    assert not any(r.endswith("/ci-nightly") for r in server_refs(fresh_demo))
    assert "refs/exps/exec/EXEC_APPLY" not in server_refs(fresh_demo, "refs/exps/exec/")


async def test_branch_from_the_app(fresh_demo: Path) -> None:
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        cursor_to(app, app.main.local_tree, "old-adam")
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BranchName))
        assert app.screen.query_one("Input").value == "old-adam-branch"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(app, pilot)
    old_adam = next(s for r, s in server_refs(fresh_demo).items() if r.endswith("/old-adam"))
    assert server_refs(fresh_demo, "refs/heads/")["refs/heads/old-adam-branch"] == old_adam
    assert (fresh_demo / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"


async def test_remove_asks_which_side_and_removes_only_there(fresh_demo: Path) -> None:
    bare = fresh_demo.parent / "origin.git"
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        cursor_to(app, app.main.local_tree, "quick-test")
        await pilot.press("space", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        assert "locally" in plain(app.screen.query_one("Static"))  # type: ignore[arg-type]
        await pilot.press("y")
        await settle(app, pilot)
        await pilot.press("2")
        cursor_to(app, app.main.remote_tree, "gusty-fern")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        assert "from Git remote 'origin'" in plain(app.screen.query_one("Static"))  # type: ignore[arg-type]
        await pilot.press("n")  # said no: nothing goes
        await settle(app, pilot)
        assert any(r.endswith("/gusty-fern") for r in server_refs(bare))
        # Again on the row and wait for the question: a reload's cursor restore may land
        # after cursor_to when the machine is busy (seen once on CI).
        cursor_to(app, app.main.remote_tree, "gusty-fern")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await settle(app, pilot)
    assert not any(r.endswith("/quick-test") for r in server_refs(fresh_demo))
    assert not any(r.endswith("/gusty-fern") for r in server_refs(bare))
    assert any(r.endswith("/sgd-base") for r in server_refs(bare))


async def test_removing_the_only_copy_says_so_and_enter_keeps_it(fresh_demo: Path) -> None:
    """quick-test is on no Git remote (↑): the question said nothing of it, and enter
    removed it. Now it says so, and only y removes."""
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(app, pilot)
        cursor_to(app, app.main.local_tree, "quick-test")
        await pilot.press("space", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        question = plain(app.screen.query_one("Static"))  # type: ignore[arg-type]
        assert "quick-test: not on 'origin'" in question and "only copy" in question
        await pilot.press("enter")
        await settle(app, pilot)
        assert any(r.endswith("/quick-test") for r in server_refs(fresh_demo))
        cursor_to(app, app.main.local_tree, "wide-net")  # also on origin: the usual question
        await pilot.press("u", "space", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        assert "only copy" not in plain(app.screen.query_one("Static"))  # type: ignore[arg-type]
