"""The data phase against S3 (a moto server on 127.0.0.1): push, re-push, pull, faults."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.data.stores import PART_SIZE, ObjectKey, open_store
from core.project.config import DvcRemote
from tests.helpers import exp_objects, git, run_json
from tests.servers import free_port, moto_s3, s3fs_client, tcp_proxy
from tui.cli import main

CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}
KEYS = "    access_key_id = testing\n    secret_access_key = testing\n    region = us-east-1\n"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


def use_s3(project: Path, endpoint: str, bucket: str) -> None:
    (project / ".dvc" / "config.local").write_text(
        f"['remote \"s3\"']\n    url = s3://{bucket}/cache\n    endpointurl = {endpoint}\n{KEYS}"
    )


def test_push_repush_and_pull_through_s3(
    s3_endpoint: str, fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    s3 = s3fs_client(s3_endpoint)
    s3.call_s3("create_bucket", Bucket=bucket)  # us-east-1 takes no location constraint
    use_s3(fresh_demo, s3_endpoint, bucket)
    args = ["push", "origin", "tuned-lr", "quick-test", "-r", "s3", "-C", str(fresh_demo)]
    code, result = run_json(capsys, *args, "--verify")  # each upload re-checked by a HEAD
    assert code == 0, result
    wanted = exp_objects(fresh_demo, "tuned-lr") | exp_objects(fresh_demo, "quick-test")
    keys = {k.split("/files/md5/", 1)[1].replace("/", "") for k in s3.find(f"{bucket}/cache")}
    assert keys == wanted and result["uploaded"]["files"] == len(wanted)
    code, again = run_json(capsys, *args)
    assert code == 0 and again["uploaded"]["files"] == 0

    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    use_s3(clone, s3_endpoint, bucket)
    code, pulled = run_json(capsys, "pull", "origin", "tuned-lr", "-r", "s3", "-C", str(clone))
    assert code == 0 and pulled["success"] == ["tuned-lr"]
    for oid in exp_objects(fresh_demo, "tuned-lr"):
        rel = Path("files/md5") / oid[:2] / oid[2:]
        assert (clone / ".dvc/cache" / rel).read_bytes() == (
            fresh_demo / ".dvc/cache" / rel
        ).read_bytes()
        assert stat.S_IMODE((clone / ".dvc/cache" / rel).stat().st_mode) == 0o444
    # All of it cached now: a re-pull asks the remote nothing, so it works unreachable too.
    use_s3(clone, f"http://127.0.0.1:{free_port()}", bucket)
    code, again = run_json(capsys, "pull", "origin", "tuned-lr", "-r", "s3", "-C", str(clone))
    assert code == 0 and again["downloaded"] == {"files": 0, "bytes": 0}


def test_missing_bucket_is_one_clear_error(
    s3_endpoint: str, fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    use_s3(fresh_demo, s3_endpoint, "no-such-bucket")
    code = main(["push", "origin", "tuned-lr", "-r", "s3", "-C", str(fresh_demo)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "Bucket 'no-such-bucket'" in err and "does not exist" in err


def test_unreachable_endpoint_fails_cleanly(
    fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    use_s3(fresh_demo, f"http://127.0.0.1:{free_port()}", "b")
    code = main(["push", "origin", "tuned-lr", "-r", "s3", "-C", str(fresh_demo)])
    err = capsys.readouterr().err
    assert code == 1 and "Cannot reach DVC remote" in err
    assert "tuned-lr" not in git("for-each-ref", cwd=fresh_demo.parent / "origin.git")


def test_presence_is_answered_for_existing_missing_and_absent_prefixes(s3_endpoint: str) -> None:
    """Prefixes holding many wanted keys are listed, but only those that exist; the rest
    are probed one by one. Either way the answer is exactly what the bucket holds."""
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    s3 = s3fs_client(s3_endpoint)
    s3.call_s3("create_bucket", Bucket=bucket)

    def keys(prefix: str, count: int, legacy: bool = False) -> list[ObjectKey]:
        return [ObjectKey(f"{prefix}{i:030x}", legacy) for i in range(count)]

    listed_here = keys("ab", 6)  # six of twelve wanted keys under files/md5/ab exist
    listed_absent = keys("ab", 12)[6:]
    empty_prefix = keys("cd", 5)  # a prefix folder that does not exist at all
    probed = keys("ef", 2)  # too few to list: probed singly; one exists
    legacy = keys("12", 5, legacy=True)  # the 2.x layout, at the remote's root
    stored = [*listed_here, probed[0], *legacy[:3]]
    s3.pipe({f"{bucket}/cache/{key.relpath}": b"x" for key in stored})
    remote = DvcRemote("s3", f"s3://{bucket}/cache", {"endpointurl": s3_endpoint, **CREDENTIALS})

    async def ask() -> set[ObjectKey]:
        store = await open_store(remote)
        try:
            return await store.present(
                {*listed_here, *listed_absent, *empty_prefix, *probed, *legacy}
            )
        finally:
            await store.close()

    assert asyncio.run(ask()) == set(stored)


@pytest.mark.parametrize("client", ["s3fs", "auto"])
def test_a_push_aborts_multipart_uploads_abandoned_on_its_remote(
    client: str,
    s3_endpoint: str,
    fresh_demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A killed push of a large object leaves its parts on S3, billed, until aborted.
    s3fs sweeps on a push's first upload; the fast path on its first upload of an object
    large enough to be sent in parts (the only kind that leaves parts behind), so a push
    of small files need not load botocore."""
    monkeypatch.setenv("EXPTUI_S3_CLIENT", client)
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    s3 = s3fs_client(s3_endpoint)
    s3.call_s3("create_bucket", Bucket=bucket)
    ours = s3.call_s3("create_multipart_upload", Bucket=bucket, Key="cache/files/md5/ab/cdef")
    other = s3.call_s3("create_multipart_upload", Bucket=bucket, Key="elsewhere/big.bin")

    def uploads() -> dict[str, Any]:
        answer = s3.call_s3("list_multipart_uploads", Bucket=bucket)
        return {u["UploadId"]: u["Initiated"] for u in answer.get("Uploads") or []}

    begun = uploads()[ours["UploadId"]].timestamp()  # moto dates every upload in 2010

    async def sweep_an_hour_later() -> int:
        remote = DvcRemote(
            "s3", f"s3://{bucket}/cache", {**CREDENTIALS, "endpointurl": s3_endpoint}
        )
        store = await open_store(remote)
        try:
            return await store.abort_stale_uploads(now=begun + 3600)  # type: ignore[attr-defined]
        finally:
            await store.close()

    assert asyncio.run(sweep_an_hour_later()) == 0 and len(uploads()) == 2  # not stale yet
    use_s3(fresh_demo, s3_endpoint, bucket)
    assert main(["push", "origin", "quick-test", "-r", "s3", "-C", str(fresh_demo)]) == 0
    if client == "auto":
        assert len(uploads()) == 2  # small files only: nothing swept
        big = tmp_path / "big"
        big.write_bytes(os.urandom(PART_SIZE + 1))

        async def push_big() -> None:
            remote = DvcRemote(
                "s3", f"s3://{bucket}/cache", {**CREDENTIALS, "endpointurl": s3_endpoint}
            )
            store = await open_store(remote)
            try:
                await store.upload(big, ObjectKey(hashlib.md5(big.read_bytes()).hexdigest()))
            finally:
                await store.close()

        asyncio.run(push_big())
    assert set(uploads()) == {other["UploadId"]}  # another tool's, outside this remote: kept


def test_small_uploads_use_every_job_and_no_continue_round_trip(
    s3_endpoint: str, tmp_path: Path
) -> None:
    """botocore's defaults capped every transfer at 10 connections whatever -j said, and
    sent ``Expect: 100-continue`` (one more round trip) before each small file's body.
    Seen from a relay between exptui and the server, 20 ms away like a real remote."""
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    s3fs_client(s3_endpoint).call_s3("create_bucket", Bucket=bucket)
    files = []
    for i in range(96):
        path = tmp_path / f"f{i}"
        path.write_bytes(f"object {i}\n".encode())
        files.append((path, ObjectKey(f"{i:02x}" + "a" * 30)))
    with tcp_proxy(int(s3_endpoint.rsplit(":", 1)[1])) as (port, seen):
        remote = DvcRemote(
            "s3",
            f"s3://{bucket}/cache",
            {**CREDENTIALS, "endpointurl": f"http://127.0.0.1:{port}"},
        )

        async def push() -> None:
            store = await open_store(remote, jobs=32)
            try:
                await asyncio.gather(*(store.upload(path, key) for path, key in files))
            finally:
                await store.close()

        asyncio.run(push())
    assert seen.peak > 16, seen.peak  # botocore's default pool: 10
    assert seen.expect_continue == 0


@pytest.mark.parametrize("held", [True, False])
def test_a_pull_fetches_each_manifest_once(
    held: bool,
    s3_endpoint: str,
    fresh_demo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The plan fetches the .dir manifests the cache lacks (to know the files to move);
    the run writes those same verified bytes instead of asking for them again. Past the
    memory the plan may keep, the run fetches them anew, and the pull is as complete."""
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    s3fs_client(s3_endpoint).call_s3("create_bucket", Bucket=bucket)
    use_s3(fresh_demo, s3_endpoint, bucket)
    names = ["tuned-lr", "quick-test", "wide-net", "sgd-base"]
    code, result = run_json(capsys, "push", "origin", *names, "-r", "s3", "-C", str(fresh_demo))
    assert code == 0, result
    dirs = {oid for name in names for oid in exp_objects(fresh_demo, name) if oid.endswith(".dir")}
    assert len(dirs) >= 2
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    if not held:
        monkeypatch.setattr("core.data.transfer.HELD_MANIFEST_BYTES", 0)
    with tcp_proxy(int(s3_endpoint.rsplit(":", 1)[1]), latency=0.005) as (port, seen):
        use_s3(clone, f"http://127.0.0.1:{port}", bucket)
        code, pulled = run_json(capsys, "pull", "origin", *names, "-r", "s3", "-C", str(clone))
    assert code == 0 and sorted(pulled["success"]) == sorted(names), pulled
    for oid in dirs:
        rel = f"files/md5/{oid[:2]}/{oid[2:]}"
        asked = [r for r in seen.requests if r.path.split("?")[0].endswith(rel)]
        assert len(asked) == (1 if held else 2), (oid, asked)
        cached = clone / ".dvc/cache" / rel
        assert cached.read_bytes() == (fresh_demo / ".dvc/cache" / rel).read_bytes()
        assert stat.S_IMODE(cached.stat().st_mode) == 0o444
