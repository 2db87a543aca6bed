"""The per-remote index: re-pushing a new version of a big dataset asks the remote about
the new files only, and a pruned remote is noticed rather than trusted."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from core.data.remoteindex import RemoteIndex, index_path
from core.data.stores import ObjectKey
from core.project.config import DvcRemote
from tests.big_experiment import add_big_experiment
from tests.helpers import exp_objects, object_path, run_json, use_ssh
from tests.servers import SftpServer, sftp_server


class CountingSFTPServer(asyncssh.SFTPServer):
    """The stock server, counting the existence questions clients ask it."""

    stats = 0

    def stat(self, path: bytes) -> Any:
        CountingSFTPServer.stats += 1
        return super().stat(path)

    def lstat(self, path: bytes) -> Any:
        CountingSFTPServer.stats += 1
        return super().lstat(path)


@pytest.fixture
def counting_sftp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SftpServer]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    with sftp_server(tmp_path, factory=CountingSFTPServer) as server:
        (home / ".ssh" / "known_hosts").write_text(server.host_key_line + "\n")
        yield server


def test_a_new_dataset_version_asks_only_about_its_new_files(
    counting_sftp: SftpServer, fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "sshstore"
    use_ssh(fresh_demo, counting_sftp, root)
    add_big_experiment(fresh_demo, "data-v1", files=200, size=64, seed="data")
    args = ["-r", "box", "-C", str(fresh_demo)]
    code, first = run_json(capsys, "push", "origin", "data-v1", *args)
    assert code == 0 and first["uploaded"]["files"] == len(exp_objects(fresh_demo, "data-v1"))
    add_big_experiment(fresh_demo, "data-v2", files=201, size=64, seed="data")
    CountingSFTPServer.stats = 0
    code, second = run_json(capsys, "push", "origin", "data-v2", *args)
    assert code == 0 and second["uploaded"]["files"] == 2  # one new file and its .dir
    assert CountingSFTPServer.stats < 40, CountingSFTPServer.stats  # 218 without the index
    for oid in exp_objects(fresh_demo, "data-v2"):
        assert object_path(root, oid).is_file()


def test_a_pruned_remote_drops_the_index_and_everything_goes_up_again(
    fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = fresh_demo.parent / "storage"
    add_big_experiment(fresh_demo, "data-v1", files=30, size=64, seed="data")
    code, _ = run_json(capsys, "push", "origin", "data-v1", "-C", str(fresh_demo))
    assert code == 0
    shutil.rmtree(storage)  # `dvc gc -c` or a new bucket: the index is now wrong
    storage.mkdir()
    add_big_experiment(fresh_demo, "data-v2", files=31, size=64, seed="data")
    code, result = run_json(capsys, "push", "origin", "data-v2", "-C", str(fresh_demo))
    assert code == 0, result
    for oid in exp_objects(fresh_demo, "data-v2"):
        assert object_path(storage, oid).is_file(), oid


def test_an_unusable_index_is_no_error(tmp_path: Path) -> None:
    remote = DvcRemote("storage", "/somewhere")
    path = index_path(tmp_path / ".dvc", remote)
    manifest, entry = ObjectKey("a" * 32 + ".dir"), ObjectKey("b" * 32)
    index = RemoteIndex(path)
    index.add_dir(manifest, [entry])
    index.save()
    assert RemoteIndex(path).known({manifest, entry, ObjectKey("c" * 32)}) == {manifest, entry}
    path.write_bytes(b"not a database at all" * 100)  # corrupt: read as empty, then rebuilt
    assert RemoteIndex(path).known({entry}) == set()
    rebuilt = RemoteIndex(path)
    rebuilt.add_dir(manifest, [entry])
    rebuilt.save()
    assert RemoteIndex(path).known({entry}) == {entry}
    blocked = tmp_path / "file"
    blocked.write_text("a file where the index directory would go")
    stuck = RemoteIndex(blocked / "index.sqlite")
    stuck.add_dir(manifest, [entry])
    stuck.save()  # nothing raised
    assert RemoteIndex(blocked / "index.sqlite").known({entry}) == set()
    other = DvcRemote("other-name", "/somewhere")
    assert index_path(tmp_path / ".dvc", other) == path  # keyed by place, not by name
