"""branch and rename, side by side with dvc exp branch / dvc exp rename on twin copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import Dvc, git
from tests.remote_setup import server_refs
from tui.cli import main

pytestmark = pytest.mark.dvc


@pytest.fixture
def twins(fresh_demo: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two byte-identical copies of one demo (same SHAs): one for DVC, one for exptui."""
    other = tmp_path / "twin"
    shutil.copytree(fresh_demo.parent, other, symlinks=True)
    return fresh_demo, other / "project"


def reflog(project: Path, branch: str) -> list[str]:
    line = (project / ".git" / "logs" / "refs" / "heads" / branch).read_text().strip()
    old, new, rest = line.split(" ", 2)
    identity, message = rest.split("\t")
    return [old, new, identity.rsplit(" ", 2)[0], message]


def test_branch_matches_dvc_exp_branch(
    dvc: Dvc, twins: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    theirs, ours = twins
    expected = dvc("exp", "branch", "tuned-lr", cwd=theirs)
    assert main(["branch", "tuned-lr", "-C", str(ours)]) == 0
    assert capsys.readouterr().out.strip() == expected.strip()
    assert server_refs(ours, "refs/heads/") == server_refs(theirs, "refs/heads/")
    assert reflog(ours, "tuned-lr-branch") == reflog(theirs, "tuned-lr-branch")
    assert git("status", "--porcelain", cwd=ours) == ""  # nothing checked out
    assert (ours / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert main(["branch", "tuned-lr", "-C", str(ours)]) == 1
    assert "Git branch 'tuned-lr-branch' already exists." in capsys.readouterr().err


def test_branch_by_sha_with_a_name_and_refusals(
    fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sha = next(s for r, s in server_refs(fresh_demo).items() if r.endswith("/old-adam"))
    assert main(["branch", sha[:10], "adam", "-C", str(fresh_demo)]) == 0
    assert server_refs(fresh_demo, "refs/heads/")["refs/heads/adam"] == sha
    assert main(["branch", "main", "-C", str(fresh_demo)]) == 1
    assert "does not appear to be an experiment commit" in capsys.readouterr().err
    assert main(["branch", "old-adam", "bad..name", "-C", str(fresh_demo)]) == 1
    assert "Invalid branch name" in capsys.readouterr().err
    twin = next(r for r in server_refs(fresh_demo) if r.endswith("/tuned-lr"))
    git(
        "update-ref",
        twin.replace("tuned-lr", "tuned-copy"),
        server_refs(fresh_demo)[twin],
        cwd=fresh_demo,
    )
    assert main(["branch", server_refs(fresh_demo)[twin], "-C", str(fresh_demo)]) == 1
    assert "Ambiguous experiment name" in capsys.readouterr().err


def test_rename_matches_dvc_exp_rename(
    dvc: Dvc, twins: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    theirs, ours = twins
    dvc("exp", "rename", "quick-test", "fast-test", cwd=theirs)
    assert main(["rename", "quick-test", "fast-test", "-C", str(ours)]) == 0
    assert server_refs(ours) == server_refs(theirs)
    assert main(["rename", "fast-test", "tuned-lr", "-C", str(ours)]) == 1
    assert "already exists" in capsys.readouterr().err
    before = server_refs(ours)
    assert main(["rename", "fast-test", "tuned-lr", "-f", "-C", str(ours)]) == 0
    after = server_refs(ours)
    moved = next(s for r, s in before.items() if r.endswith("/fast-test"))
    assert next(s for r, s in after.items() if r.endswith("/tuned-lr")) == moved
    assert not any(r.endswith("/fast-test") for r in after)


def test_rename_on_a_remote_is_one_push(
    fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = fresh_demo.parent / "origin.git"
    local_before = server_refs(fresh_demo)
    old = next(s for r, s in server_refs(bare).items() if r.endswith("/alice-drop"))
    assert (
        main(["rename", "alice-drop", "alice-dropout", "-g", "origin", "-C", str(fresh_demo)]) == 0
    )
    assert "on Git remote 'origin'" in capsys.readouterr().out
    remote = server_refs(bare)
    assert not any(r.endswith("/alice-drop") for r in remote)
    assert next(s for r, s in remote.items() if r.endswith("/alice-dropout")) == old
    assert server_refs(fresh_demo) == local_before  # a remote rename changes nothing here
