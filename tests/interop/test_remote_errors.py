"""Bad input and hostile servers: one clear error, and nothing changed on either side."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import (
    AuthenticationError,
    PermissionDeniedError,
    UnknownExperimentError,
    UnknownRemoteError,
    UnreachableRemoteError,
)
from core.git import exchange as ops
from core.git.exchange import Selection, Status
from core.git.sync import list_remote
from core.git.transport import Connection, GitRemoteSpec, resolve_remote
from core.project.repo import Repository
from tests.helpers import git
from tests.remote_setup import server_refs
from tests.servers import free_port, git_daemon, http_git, ssh_git, throwaway_key
from tui.cli import main


@pytest.fixture
def repo(fresh_demo: Path) -> Iterator[Repository]:
    with Repository.open(fresh_demo) as opened:
        yield opened


def snapshot(demo: Path) -> tuple[dict[str, str], dict[str, str]]:
    return server_refs(demo, "refs/"), server_refs(demo.parent / "origin.git", "refs/")


def connect(repo: Repository, url: str) -> Connection:
    return Connection(repo, GitRemoteSpec("test", url), timeout=5)


def test_unknown_remote_name(repo: Repository, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnknownRemoteError, match="not a valid Git remote or URL") as info:
        resolve_remote(repo, "upstream")
    assert "origin" in info.value.hint
    assert main(["push", "upstream", "tuned-lr", "-C", str(repo.root)]) == 1
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("scheme", ["git", "http", "ssh"])
def test_unreachable_host_is_a_clear_error(repo: Repository, scheme: str) -> None:
    port = free_port()  # nothing listens there
    url = {
        "git": f"git://127.0.0.1:{port}/x.git",
        "http": f"http://127.0.0.1:{port}/x.git",
        "ssh": f"ssh://git@127.0.0.1:{port}/x.git",
    }[scheme]
    with pytest.raises(UnreachableRemoteError, match="reach") as info:
        list_remote(connect(repo, url))
    assert "network" in info.value.hint


def test_missing_repository_on_a_live_server(repo: Repository, tmp_path: Path) -> None:
    with git_daemon(tmp_path) as base, pytest.raises(Exception, match=r"(?i)repository|hung up"):
        list_remote(connect(repo, f"{base}/nothing-here.git"))


def test_http_credentials_missing_refused_helped_and_forbidden(
    repo: Repository, fresh_demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(fresh_demo)
    users = {"alice": "s3cret", "reader": "r3ad"}
    with http_git(fresh_demo.parent, users=users, readonly={"reader"}) as (base, _):
        host = base.removeprefix("http://")
        with pytest.raises(AuthenticationError, match="needs credentials") as info:
            list_remote(connect(repo, f"{base}/origin.git"))
        assert "credential helper" in info.value.hint
        with pytest.raises(AuthenticationError, match="refused the credentials"):
            list_remote(connect(repo, f"http://alice:wrong@{host}/origin.git"))
        assert len(list_remote(connect(repo, f"http://alice:s3cret@{host}/origin.git")).refs) == 8
        # a credential helper configured in the repository answers, as it would for git
        store = fresh_demo.parent / "credentials"
        store.write_text(f"http://alice:s3cret@{host}\n")
        store.chmod(stat.S_IRUSR | stat.S_IWUSR)
        git("config", "credential.helper", f"store --file={store}", cwd=fresh_demo)
        assert len(list_remote(connect(repo, f"{base}/origin.git")).refs) == 8
        # authenticated but read-only: a 403 on push is a permission error, not an auth one
        conn = connect(repo, f"http://reader:r3ad@{host}/origin.git")
        listing = list_remote(conn)
        plan = ops.plan_push(repo, listing, ops.select_local(repo, Selection(("tuned-lr",))))
        with pytest.raises(PermissionDeniedError, match="403") as denied:
            ops.run_push(repo, conn, plan)
        assert "write permission for refs/exps" in denied.value.hint
    assert snapshot(fresh_demo) == before


def test_ssh_login_refused_is_explained(
    repo: Repository, fresh_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ssh_git(fresh_demo.parent, tmp_path) as server:
        other_key = throwaway_key(tmp_path / "other")
        monkeypatch.setenv(
            "GIT_SSH_COMMAND",
            server.ssh_command.replace(str(tmp_path / "client_ed25519"), str(other_key)),
        )
        with pytest.raises(AuthenticationError, match="SSH refused the login") as info:
            list_remote(connect(repo, f"{server.url}{fresh_demo.parent / 'origin.git'}"))
        assert "ssh-agent" in info.value.hint


def test_server_that_rejects_a_ref(repo: Repository, fresh_demo: Path) -> None:
    hook = fresh_demo.parent / "origin.git" / "hooks" / "update"
    hook.write_text(
        '#!/bin/sh\ncase "$1" in */tuned-lr) echo "no tuning here" >&2; exit 1;; esac\n'
    )
    hook.chmod(0o755)
    before = server_refs(fresh_demo.parent / "origin.git")
    with git_daemon(fresh_demo.parent) as base:
        conn = connect(repo, f"{base}/origin.git")
        listing = list_remote(conn)
        plan = ops.plan_push(
            repo, listing, ops.select_local(repo, Selection(("tuned-lr", "quick-test")))
        )
        result = ops.run_push(repo, conn, plan)
    assert result.names(Status.REJECTED) == ["tuned-lr"]
    assert result.names(Status.SUCCESS) == ["quick-test"]
    assert result.exit_code == 1
    rejected = next(o for o in result.outcomes if o.status is Status.REJECTED)
    assert "hook declined" in rejected.reason or "no tuning" in rejected.reason
    after = server_refs(fresh_demo.parent / "origin.git")
    assert not any(r.endswith("/tuned-lr") for r in after)
    assert len(after) == len(before) + 1


def test_malformed_names_and_refs(
    repo: Repository, fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(fresh_demo)
    with pytest.raises(UnknownExperimentError, match="'bad name'"):
        ops.select_local(repo, Selection(("bad name",)))
    code = main(["push", "origin", "bad..name", "-C", str(fresh_demo)])
    assert code == 1 and "'bad..name' is not an experiment" in capsys.readouterr().err
    assert snapshot(fresh_demo) == before
    # A malformed ref on the remote breaks `dvc exp list` for everyone; we skip and warn.
    bare = fresh_demo.parent / "origin.git"
    sha = next(iter(server_refs(bare).values()))
    git("update-ref", f"refs/exps/{sha[:2]}/{sha[2:]}/nested/name", sha, cwd=bare)
    listing = list_remote(connect(repo, str(bare)))
    assert len(listing.refs) == 8 and listing.skipped == [
        f"refs/exps/{sha[:2]}/{sha[2:]}/nested/name"
    ]
    assert main(["list", "origin", "-A", "-C", str(fresh_demo)]) == 0
    assert "skipped malformed experiment ref" in capsys.readouterr().err


def test_ambiguous_name_lists_full_refs(repo: Repository, fresh_demo: Path) -> None:
    exps = {e.name: e for e in repo.experiments()}
    other = exps["old-adam"].baseline
    git(
        "update-ref",
        f"refs/exps/{other[:2]}/{other[2:]}/tuned-lr",
        exps["old-adam"].sha,
        cwd=fresh_demo,
    )
    git("checkout", "-q", "--detach", "v1.0", cwd=fresh_demo)
    with Repository.open(fresh_demo) as detached:  # HEAD is now the other baseline
        chosen = ops.select_local(detached, Selection(("tuned-lr",)))
        assert [r.baseline for r in chosen] == [other]
    git("checkout", "-q", "--detach", "HEAD~0", cwd=fresh_demo)
    git("update-ref", "--no-deref", "HEAD", exps["tuned-lr"].sha, cwd=fresh_demo)
    with Repository.open(fresh_demo) as elsewhere:
        from core.errors import AmbiguousExperimentError

        with pytest.raises(AmbiguousExperimentError) as info:
            ops.select_local(elsewhere, Selection(("tuned-lr",)))
        assert exps["tuned-lr"].ref.ref in info.value.hint
        full = ops.select_local(elsewhere, Selection((exps["tuned-lr"].ref.ref,)))
        assert full == [exps["tuned-lr"].ref]
