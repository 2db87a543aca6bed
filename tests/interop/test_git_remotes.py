"""List, push, pull, force and remove over every transport, against real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.git import exchange as ops
from core.git.exchange import Selection, Status
from core.git.refs import ExpRef
from core.git.sync import SyncState, compare, list_remote, load_listing, peek, save_listing
from core.git.transport import Connection, resolve_remote
from core.project.repo import Repository
from tests.helpers import git
from tests.remote_setup import TRANSPORTS, Served, serve, server_refs


@pytest.fixture(params=TRANSPORTS)
def served(
    request: pytest.FixtureRequest,
    fresh_demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Served]:
    with serve(request.param, fresh_demo, tmp_path, monkeypatch) as setup:
        yield setup


def local_refs(project: Path) -> dict[str, str]:
    return server_refs(project)


def push(repo: Repository, served: Served, *names: str, force: bool = False) -> ops.RefResult:
    conn = served.connect(repo)
    listing = list_remote(conn)
    plan = ops.plan_push(repo, listing, ops.select_local(repo, Selection(names)), force)
    return ops.run_push(repo, conn, plan)


def pull(repo: Repository, served: Served, *names: str, force: bool = False) -> ops.RefResult:
    conn = served.connect(repo)
    listing = list_remote(conn)
    refs = ops.select_remote(repo, listing, Selection(names))
    return ops.run_pull(repo, ops.plan_pull(repo, conn, listing, refs, force))


def test_listing_matches_the_server(served: Served) -> None:
    with Repository.open(served.project) as repo:
        listing = list_remote(served.connect(repo))
    assert {ref.ref: sha for ref, sha in listing.refs.items()} == server_refs(served.bare)
    assert len(listing.refs) == 8


def test_push_several_in_one_send_pack(served: Served) -> None:
    before = server_refs(served.bare)
    with Repository.open(served.project) as repo:
        result = push(repo, served, "tuned-lr", "quick-test", "wide-net")
        local = {e.name: e for e in repo.experiments()}
    assert sorted(result.names(Status.SUCCESS)) == ["quick-test", "tuned-lr"]
    assert result.names(Status.UP_TO_DATE) == ["wide-net"]
    after = server_refs(served.bare)
    for name in ("tuned-lr", "quick-test"):
        assert after[local[name].ref.ref] == local[name].sha
    assert {k: v for k, v in after.items() if k in before} == before  # nothing else moved
    assert len(after) == len(before) + 2
    git("fsck", "--strict", "--no-dangling", cwd=served.bare)  # the pack was complete
    if served.transport == "http":
        assert served.counts["POST git-receive-pack"] == 1
    if served.transport == "ssh":
        assert served.counts["git-receive-pack"] == 1


def test_pull_sets_only_the_selected_local_refs(served: Served) -> None:
    project = served.project
    head, status = (
        (project / ".git" / "HEAD").read_text(),
        git("status", "--porcelain", cwd=project),
    )
    branches = server_refs(project, "refs/heads/")
    index = (project / ".git" / "index").read_bytes()
    with Repository.open(project) as repo:
        result = pull(repo, served, "alice-drop", "ci-nightly", "wide-net")
    assert sorted(result.names(Status.SUCCESS)) == ["alice-drop", "ci-nightly"]
    assert result.names(Status.UP_TO_DATE) == ["wide-net"]
    remote = server_refs(served.bare)
    mine = local_refs(project)
    for ref, sha in remote.items():
        if ref.endswith(("/alice-drop", "/ci-nightly")):
            assert mine[ref] == sha
    assert not any(r.endswith("/gusty-fern") for r in mine)  # not selected, not pulled
    assert (project / ".git" / "HEAD").read_text() == head
    assert server_refs(project, "refs/heads/") == branches
    assert (project / ".git" / "index").read_bytes() == index
    assert git("status", "--porcelain", cwd=project) == status
    git("fsck", "--strict", "--no-dangling", cwd=project)


def test_diverged_needs_force_both_ways(served: Served) -> None:
    with Repository.open(served.project) as repo:
        name = next(e for e in repo.experiments() if e.name == "big-batch")
        remote_before = server_refs(served.bare)[name.ref.ref]
        skipped = push(repo, served, "big-batch")
        assert skipped.names(Status.DIVERGED) == ["big-batch"] and skipped.exit_code == 3
        assert server_refs(served.bare)[name.ref.ref] == remote_before
        skipped = pull(repo, served, "big-batch")
        assert skipped.names(Status.DIVERGED) == ["big-batch"]
        assert local_refs(served.project)[name.ref.ref] == name.sha
        forced = pull(repo, served, "big-batch", force=True)
        assert forced.names(Status.SUCCESS) == ["big-batch"] and forced.outcomes[0].forced
        assert local_refs(served.project)[name.ref.ref] == remote_before
        git("update-ref", name.ref.ref, name.sha, cwd=served.project)  # back to ours
        forced = push(repo, served, "big-batch", force=True)
        assert forced.names(Status.SUCCESS) == ["big-batch"] and forced.exit_code == 0
    assert server_refs(served.bare)[name.ref.ref] == name.sha


def test_remove_on_the_remote_in_one_push(served: Served) -> None:
    local_before = local_refs(served.project)
    with Repository.open(served.project) as repo:
        conn = served.connect(repo)
        listing = list_remote(conn)
        refs = ops.select_remote(repo, listing, Selection(("gusty-fern", "alice-drop", "wide-net")))
        result = ops.run_remove_remote(repo, conn, ops.plan_remove_remote(listing, refs))
    assert sorted(result.names(Status.SUCCESS)) == ["alice-drop", "gusty-fern", "wide-net"]
    remaining = {ref.rsplit("/", 1)[1] for ref in server_refs(served.bare)}
    assert remaining == {"big-batch", "brisk-lynx", "ci-nightly", "long-run", "sgd-base"}
    assert local_refs(served.project) == local_before  # nothing removed locally
    if served.transport == "http":
        assert served.counts["POST git-receive-pack"] == 1


def test_sync_states_and_peek_without_exp_refs(served: Served) -> None:
    with Repository.open(served.project) as repo:
        conn = served.connect(repo)
        listing = list_remote(conn)
        before = compare(repo, listing)
        states = {r.name: state for r, state in before.items()}
        assert states["alice-drop"] is SyncState.REMOTE_ONLY
        assert states["tuned-lr"] is SyncState.LOCAL_ONLY
        assert states["wide-net"] is SyncState.IN_SYNC
        assert states["big-batch"] is SyncState.DIVERGED
        exp_refs_before = local_refs(served.project)
        readable = peek(repo, conn, listing)
        assert len(readable) == 8
        assert local_refs(served.project) == exp_refs_before  # no refs/exps created
        alice = next(r for r in listing.refs if r.name == "alice-drop")
        state = repo.project_state(listing.refs[alice])
        assert state.params["params.yaml"]["model"]["dropout"] == 0.4
        assert "accuracy" in state.metrics["metrics.json"]
        peeked = server_refs(served.project, "refs/exptui/peek/")
        assert len(peeked) == 8
        save_listing(repo, listing)
        cached = load_listing(repo, conn.spec)
        assert cached is not None and cached.refs == listing.refs


def test_exp_ref_parse_round_trips_through_a_listing(served: Served) -> None:
    with Repository.open(served.project) as repo:
        for ref in list_remote(served.connect(repo)).refs:
            assert ExpRef.parse(ref.ref) == ref


def test_force_is_per_experiment(fresh_demo: Path, tmp_path: Path) -> None:
    """Forcing one diverged experiment leaves another diverged one alone."""
    git(
        "update-ref",
        "-d",
        next(r for r in server_refs(fresh_demo) if r.endswith("/tuned-lr")),
        cwd=fresh_demo,
    )
    with Repository.open(fresh_demo) as repo:
        exps = {e.name: e for e in repo.experiments()}
        base = exps["big-batch"].baseline
        # make wide-net diverge too: a sibling commit on the remote
        sibling = git(
            "commit-tree", "-p", base, "-m", "x", f"{exps['wide-net'].sha}^{{tree}}", cwd=fresh_demo
        ).strip()
        git(
            "push",
            "-q",
            str(fresh_demo.parent / "origin.git"),
            f"{sibling}:{exps['wide-net'].ref.ref}",
            "-f",
            cwd=fresh_demo,
        )
        conn = Connection(repo, resolve_remote(repo, "origin"))
        listing = list_remote(conn)
        chosen = [exps["big-batch"].ref, exps["wide-net"].ref]
        plan = ops.plan_push(repo, listing, chosen, force={exps["big-batch"].ref})
        assert [u.action for u in plan.updates] == [ops.Action.FORCE, ops.Action.DIVERGED]
        result = ops.run_push(repo, conn, plan)
    assert result.names(Status.SUCCESS) == ["big-batch"]
    assert result.names(Status.DIVERGED) == ["wide-net"]
    remote = server_refs(fresh_demo.parent / "origin.git")
    assert remote[exps["big-batch"].ref.ref] == exps["big-batch"].sha
    assert remote[exps["wide-net"].ref.ref] == sibling
