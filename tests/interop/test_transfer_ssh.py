"""The data phase against an SSH/SFTP DVC remote (an asyncssh server on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import exp_objects, git, object_path, run_json, use_ssh
from tests.servers import SftpServer, free_port, sftp_server, throwaway_key
from tui.cli import main


@pytest.fixture
def sftp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SftpServer]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))  # asyncssh reads ~/.ssh/known_hosts from here
    with sftp_server(tmp_path) as server:
        (home / ".ssh" / "known_hosts").write_text(server.host_key_line + "\n")
        yield server


def test_push_repush_and_pull_over_sftp(
    sftp: SftpServer, fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "sshstore"
    use_ssh(fresh_demo, sftp, root)
    args = ["push", "origin", "tuned-lr", "-r", "box", "-C", str(fresh_demo)]
    code, result = run_json(capsys, *args, "--verify")
    assert code == 0, result
    for oid in exp_objects(fresh_demo, "tuned-lr"):
        assert object_path(root, oid).is_file()
    assert not list(root.rglob("*.tmp"))
    code, again = run_json(capsys, *args)
    assert code == 0 and again["uploaded"]["files"] == 0

    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    use_ssh(clone, sftp, root)
    code, pulled = run_json(capsys, "pull", "origin", "tuned-lr", "-r", "box", "-C", str(clone))
    assert code == 0 and pulled["success"] == ["tuned-lr"]
    for oid in exp_objects(fresh_demo, "tuned-lr"):
        rel = Path("files/md5") / oid[:2] / oid[2:]
        assert (clone / ".dvc/cache" / rel).read_bytes() == (root / rel).read_bytes()


def test_refused_key_and_unreachable_host(
    sftp: SftpServer, fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = throwaway_key(tmp_path / "stranger")
    use_ssh(fresh_demo, SftpServer(sftp.port, stranger, ""), tmp_path / "s")
    assert main(["push", "origin", "tuned-lr", "-r", "box", "-C", str(fresh_demo)]) == 1
    err = capsys.readouterr().err
    assert "SSH refused the login" in err and err.count("\n") == 1
    use_ssh(fresh_demo, sftp, tmp_path / "s", port=free_port())
    assert main(["push", "origin", "tuned-lr", "-r", "box", "-C", str(fresh_demo)]) == 1
    assert "Cannot reach DVC remote" in capsys.readouterr().err
    assert "tuned-lr" not in git("for-each-ref", cwd=fresh_demo.parent / "origin.git")


@pytest.mark.parametrize("known", ["wrong-key", "no-file"])
def test_an_unknown_or_changed_host_key_is_refused_before_any_transfer(
    sftp: SftpServer,
    fresh_demo: Path,
    tmp_path: Path,
    known: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As OpenSSH: a key not in known_hosts (or a different one pinned there) is a
    man in the middle until the user says otherwise."""
    import asyncssh

    known_hosts = Path.home() / ".ssh" / "known_hosts"
    if known == "no-file":
        known_hosts.unlink()
    else:
        other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
        known_hosts.write_text(f"[127.0.0.1]:{sftp.port} {other.strip()}\n")
    root = tmp_path / "sshstore"
    use_ssh(fresh_demo, sftp, root)
    assert main(["push", "origin", "tuned-lr", "-r", "box", "-C", str(fresh_demo)]) == 1
    err = capsys.readouterr().err
    assert "is not trusted" in err and f"ssh -p {sftp.port} 127.0.0.1" in err
    assert err.count("\n") == 1 and not root.exists()


def test_a_later_push_sweeps_what_a_killed_one_left_on_the_server(
    sftp: SftpServer, fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import time

    root = tmp_path / "sshstore"
    oid = sorted(exp_objects(fresh_demo, "tuned-lr"))[0]
    folder = object_path(root, oid).parent
    folder.mkdir(parents=True)
    stale, fresh = folder / f".exptui-1-{oid[2:]}.tmp", folder / f".exptui-2-{oid[2:]}.tmp"
    for path in (stale, fresh, folder / "not-ours.tmp"):
        path.write_bytes(b"half an upload")
    long_ago = time.time() - 2 * 3600
    for path in (stale, folder / "not-ours.tmp"):
        os.utime(path, (long_ago, long_ago))
    use_ssh(fresh_demo, sftp, root)
    assert main(["push", "origin", "tuned-lr", "-r", "box", "-C", str(fresh_demo)]) == 0
    assert not stale.exists() and fresh.exists() and (folder / "not-ours.tmp").exists()
