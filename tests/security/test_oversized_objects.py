"""An object on a DVC remote larger than the experiment recorded is refused while it
downloads, on every kind of store: a hostile remote cannot fill the disk before the md5
check would have caught it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.data.s3 import CLIENT_VARIABLE
from core.data.stores import PART_SIZE, ObjectKey, open_store
from core.data.transfer import MANIFEST_BASE, MANIFEST_ENTRY_BYTES
from core.errors import ObjectTooLargeError
from core.project.config import DvcRemote
from tests.helpers import exp_output, git, object_path, run_json
from tests.servers import gcs_emulator, http_storage, moto_s3, s3fs_client, sftp_server

OBJECT = 9 << 20  # beyond one S3 part, so a known size takes the parallel path
BOUND = 4096
ONE_CHUNK = 1 << 20  # what a store may write past the bound before it notices

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")  # before gcsfs loads


def test_a_directory_file_larger_than_its_directory_is_refused_while_it_downloads(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path, tmp_path: Path
) -> None:
    """No file of a directory is larger than the directory the lock records, so its
    size bounds each file's download (the lock names no file's own size); a pull that
    meets a larger one stops that download, names it, and keeps the directory out."""
    storage = fresh_demo.parent / "storage"
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    eval_dir = exp_output(fresh_demo, "wide-net", "eval")
    assert eval_dir.size is not None
    manifest = json.loads(object_path(storage, eval_dir.oid or "").read_bytes())
    swollen = object_path(storage, manifest[0]["md5"])
    swollen.chmod(0o644)
    swollen.write_bytes(os.urandom(eval_dir.size + (2 << 20)))
    code, result = run_json(capsys, "pull", "origin", "wide-net", "-C", str(clone))
    assert code == 1 and result["incomplete"] == ["wide-net"]
    why = result["experiments"][0]["failed"][manifest[0]["md5"]]
    assert f"larger than the {eval_dir.size:,} bytes expected of it" in why
    cache = clone / ".dvc" / "cache"
    assert not object_path(cache, manifest[0]["md5"]).exists()
    assert not object_path(cache, eval_dir.oid or "").exists()
    assert not list(cache.rglob("*.tmp"))


def test_a_manifest_longer_than_its_files_need_is_refused_while_it_downloads(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path, tmp_path: Path
) -> None:
    """A .dir manifest is fetched while the pull is planned, before anything says how
    large it is; the lock's file count bounds it, so an endless one stops the plan with
    one line and the workspace keeps nothing of it."""
    storage = fresh_demo.parent / "storage"
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    eval_dir = exp_output(fresh_demo, "wide-net", "eval")
    assert eval_dir.nfiles
    limit = MANIFEST_BASE + eval_dir.nfiles * MANIFEST_ENTRY_BYTES
    swollen = object_path(storage, eval_dir.oid or "")
    swollen.chmod(0o644)
    swollen.write_bytes(b"[" + b" " * (limit + (2 << 20)) + b"]")
    code, result = run_json(capsys, "pull", "origin", "wide-net", "-C", str(clone))
    assert code != 0 and f"larger than the {limit:,} bytes expected of it" in result["err"]
    assert len(result["err"].strip().splitlines()) <= 2
    cache = clone / ".dvc" / "cache"
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def gcs_endpoint() -> Iterator[str]:
    with gcs_emulator() as endpoint:
        yield endpoint


def s3_remote(endpoint: str) -> DvcRemote:
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    s3fs_client(endpoint).call_s3("create_bucket", Bucket=bucket)
    options = {"endpointurl": endpoint, "access_key_id": "testing"}
    return DvcRemote("s3", f"s3://{bucket}/cache", options | {"secret_access_key": "testing"})


def gcs_remote(endpoint: str) -> DvcRemote:
    import gcsfs

    bucket = f"b-{uuid.uuid4().hex[:12]}"
    gcsfs.GCSFileSystem(endpoint_url=endpoint, token="anon", project="test").mkdir(bucket)
    options = {"endpointurl": endpoint, "allow_anonymous_login": "true", "projectname": "test"}
    return DvcRemote("gcs", f"gs://{bucket}/cache", options)


@pytest.fixture(params=["local", "s3", "s3-on-s3fs", "gcs", "ssh", "http"])
def remote(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DvcRemote]:
    kind = request.param
    if kind == "local":
        yield DvcRemote("here", str(tmp_path / "storage"))
    elif kind.startswith("s3"):
        if kind == "s3-on-s3fs":
            monkeypatch.setenv(CLIENT_VARIABLE, "s3fs")
        yield s3_remote(request.getfixturevalue("moto_endpoint"))
    elif kind == "gcs":
        yield gcs_remote(request.getfixturevalue("gcs_endpoint"))
    elif kind == "ssh":
        home = tmp_path / "home"
        (home / ".ssh").mkdir(parents=True)
        monkeypatch.setenv("HOME", str(home))  # asyncssh reads known_hosts from here
        with sftp_server(tmp_path) as server:
            (home / ".ssh" / "known_hosts").write_text(server.host_key_line + "\n")
            url = f"ssh://tester@127.0.0.1:{server.port}{tmp_path / 'sshstore'}"
            yield DvcRemote("box", url, {"keyfile": str(server.client_key)})
    else:
        with http_storage(tmp_path / "served") as (url, _state):
            yield DvcRemote("web", url, {"method": "PUT"})


def test_every_store_stops_a_download_at_its_bound(remote: DvcRemote, tmp_path: Path) -> None:
    """Whether the bound is the lock's size for a file or its directory's size for a
    directory's file, each store refuses the object without writing it whole, and the
    same object within its bound still downloads."""
    source = tmp_path / "object"
    source.write_bytes(os.urandom(OBJECT))
    key = ObjectKey(hashlib.md5(source.read_bytes()).hexdigest())

    async def attempts() -> list[int | str]:
        store = await open_store(remote, jobs=4)
        try:
            await store.upload(source, key)
            outcomes: list[int | str] = []
            for size, limit in ((None, BOUND), (BOUND, None), (PART_SIZE + 1, None)):
                target = tmp_path / f"got-{size}-{limit}"
                try:
                    await store.download(key, target, size, limit)
                    outcomes.append("downloaded whole")
                except ObjectTooLargeError as exc:
                    assert f"larger than the {size or limit:,} bytes" in exc.message
                    outcomes.append(target.stat().st_size if target.exists() else 0)
            assert await store.download(key, tmp_path / "whole", limit=OBJECT) == key.oid
            return outcomes
        finally:
            await store.close()

    outcomes = asyncio.run(attempts())
    assert all(isinstance(o, int) and o <= PART_SIZE + 1 + ONE_CHUNK for o in outcomes), outcomes
    assert all(isinstance(o, int) and o <= BOUND + ONE_CHUNK for o in outcomes[:2]), outcomes
    assert (tmp_path / "whole").read_bytes() == source.read_bytes()
