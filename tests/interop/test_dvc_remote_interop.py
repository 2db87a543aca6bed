"""Refs pushed by exptui are what `dvc exp` expects, and the reverse (DVC_FORMAT §7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.git import exchange as ops
from core.git.exchange import Selection, Status
from core.git.sync import list_remote, peek
from core.git.transport import Connection, resolve_remote
from core.project.repo import Repository
from tests.helpers import Dvc, dvc_list, dvc_show, git
from tests.remote_setup import server_refs
from tui.cli import main

pytestmark = pytest.mark.dvc


def test_dvc_lists_pulls_and_shows_what_exptui_pushed(
    dvc: Dvc, fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["push", "origin", "tuned-lr", "quick-test", "-C", str(fresh_demo)])
    assert code == 0, capsys.readouterr().err
    origin = fresh_demo.parent / "origin.git"
    names = {ref.rsplit("/", 1)[1] for ref in server_refs(origin)}
    listed = {name for _, name in dvc_list(dvc("exp", "list", "origin", "-A", cwd=fresh_demo))}
    assert listed == names and {"tuned-lr", "quick-test"} <= listed

    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    dvc("exp", "pull", "origin", "tuned-lr", "quick-test", "--no-cache", cwd=clone)
    with Repository.open(fresh_demo) as repo:
        pushed = {e.name: e.sha for e in repo.experiments() if e.name in names}
    shown = dvc_show(dvc, clone)
    assert pushed["tuned-lr"] in shown and pushed["quick-test"] in shown
    assert shown[pushed["tuned-lr"]]["params"]["params.yaml"]["train"]["lr"] == 0.02


def test_exptui_lists_peeks_and_pulls_what_dvc_pushed(
    dvc: Dvc, dvc_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "shared.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    dvc("exp", "push", str(bare), "exp-c", "exp-d", cwd=dvc_project)
    expected = dvc_show(dvc, dvc_project)

    clone = tmp_path / "colleague"
    git("clone", "-q", str(dvc_project), str(clone), cwd=tmp_path)
    git("remote", "add", "shared", str(bare), cwd=clone)
    with Repository.open(clone) as repo:
        conn = Connection(repo, resolve_remote(repo, "shared"))
        listing = list_remote(conn)
        assert sorted(ref.name for ref in listing.refs) == ["exp-c", "exp-d"]
        assert not repo.experiments()
        assert len(peek(repo, conn, listing)) == 2
        assert not repo.experiments()  # peeking created no refs/exps
        for ref, sha in listing.refs.items():
            state = repo.project_state(sha)
            assert state.params == expected[sha]["params"], ref.name
            assert state.metrics["metrics.json"] == expected[sha]["metrics"]["metrics.json"]

    code = main(["pull", "shared", "exp-c", "-C", str(clone), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["success"] == ["exp-c"]
    assert result["up_to_date"] == [] and result["diverged"] == []
    listed = dvc_list(dvc("exp", "list", "-A", cwd=clone))
    assert {name.split("[")[1][:-1] for _, name in listed} == {"exp-c"}
    assert any(rev in expected for rev in dvc_show(dvc, clone))


def test_remove_on_remote_is_seen_by_dvc(dvc: Dvc, fresh_demo: Path) -> None:
    with Repository.open(fresh_demo) as repo:
        conn = Connection(repo, resolve_remote(repo, "origin"))
        listing = list_remote(conn)
        refs = ops.select_remote(repo, listing, Selection(("alice-drop", "ci-nightly")))
        result = ops.run_remove_remote(repo, conn, ops.plan_remove_remote(listing, refs))
        assert sorted(result.names(Status.SUCCESS)) == ["alice-drop", "ci-nightly"]
    listed = {name for _, name in dvc_list(dvc("exp", "list", "origin", "-A", cwd=fresh_demo))}
    assert "alice-drop" not in listed and "ci-nightly" not in listed and "wide-net" in listed


def test_dvc_pulls_and_applies_what_exptui_pushed_with_data(
    dvc: Dvc, fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["push", "origin", "tuned-lr", "-C", str(fresh_demo)]) == 0
    capsys.readouterr()
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    dvc("exp", "pull", "origin", "tuned-lr", cwd=clone)
    dvc("exp", "apply", "tuned-lr", cwd=clone)
    with Repository.open(fresh_demo) as repo:
        exp = next(e for e in repo.experiments() if e.name == "tuned-lr")
        for out in repo.project_state(exp.sha).outputs:
            if out.path == "model.pkl":
                assert (clone / "model.pkl").read_bytes() == repo.cache.read(out.oid or "")
    assert "up to date" in dvc("status", cwd=clone)


def test_exptui_pull_fills_the_cache_so_dvc_applies_offline(
    dvc: Dvc, dvc_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "shared.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    dvc("exp", "push", str(bare), "exp-d", cwd=dvc_project)
    twins = {}
    for who in ("dvc", "exptui"):
        twins[who] = tmp_path / who
        git("clone", "-q", str(dvc_project), str(twins[who]), cwd=tmp_path)
    dvc("exp", "pull", str(bare), "exp-d", cwd=twins["dvc"])
    assert main(["pull", str(bare), "exp-d", "-C", str(twins["exptui"])]) == 0
    capsys.readouterr()

    def cached(clone: Path) -> dict[str, bytes]:
        root = clone / ".dvc" / "cache" / "files"
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }

    assert cached(twins["exptui"]) == cached(twins["dvc"])  # the same objects, byte for byte
    # out.bin is push: false, so nobody shared it: the colleague supplies it, as with DVC.
    with Repository.open(dvc_project) as repo:
        exp = next(e for e in repo.experiments() if e.name == "exp-d")
        out = next(o for o in repo.project_state(exp.sha).outputs if o.path == "out.bin")
        target = twins["exptui"] / ".dvc" / "cache" / "files" / "md5" / out.oid[:2] / out.oid[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(repo.cache.read(out.oid) or b"")
    # With the DVC remote unreachable, apply can only succeed from what is cached.
    (twins["exptui"] / ".dvc" / "config.local").write_text(
        "['remote \"storage\"']\n    url = /nonexistent/exptui-offline\n"
    )
    dvc("exp", "apply", "exp-d", cwd=twins["exptui"])
    assert "up to date" in dvc("status", cwd=twins["exptui"])


def test_many_pulled_refs_go_into_packed_refs_that_git_and_dvc_read(
    dvc: Dvc, fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pull creating 100,000 refs wrote and fsynced a loose file per ref (minutes);
    from ops.PACKED_FROM on, new refs are one packed-refs write, which git and dvc read
    as any other refs, and the next pull finds up to date."""
    from tests.helpers import crowd_remote

    count = ops.PACKED_FROM + 50
    baseline = crowd_remote(fresh_demo.parent / "origin.git", count)
    pull = ["pull", "origin", "-A", "--no-cache", "-C", str(fresh_demo)]
    assert main(pull) == 3  # the demo's big-batch diverged on purpose; the rest moves
    capsys.readouterr()
    prefix = f"refs/exps/{baseline[:2]}/{baseline[2:]}/crowd-"
    listed = git("for-each-ref", "--format=%(refname)", f"{prefix}*", cwd=fresh_demo).split()
    assert len(listed) == count and listed[0] == f"{prefix}000000"
    assert not (fresh_demo / ".git" / listed[0]).exists()  # packed, not loose
    assert prefix + "000000" in (fresh_demo / ".git" / "packed-refs").read_text()
    rows = dvc_list(dvc("exp", "list", "-A", cwd=fresh_demo))  # 'sha7 [name]'
    names = {row.rsplit("[", 1)[-1].rstrip("]") for _, row in rows}
    assert {f"crowd-{i:06d}" for i in range(count)} <= names
    assert main([*pull, "--json"]) == 3
    again = json.loads(capsys.readouterr().out)
    assert not again["success"] and again["diverged"] == ["big-batch"]
    assert {f"crowd-{i:06d}" for i in range(count)} <= set(again["up_to_date"])
