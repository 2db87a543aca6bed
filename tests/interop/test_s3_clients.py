"""Which client serves an S3 remote, and every DVC option on the client that serves it,
seen on the wire by a relay between exptui and a moto server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.data.s3 import CLIENT_VARIABLE
from core.data.stores import ObjectKey, open_store
from core.project.config import DvcRemote
from tests.helpers import Dvc, exp_objects, git, run_json
from tests.servers import SeenRequest, moto_s3, s3fs_client, self_signed_certificate, tcp_proxy
from tui.cli import main

KEYS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3fs_client(s3_endpoint).call_s3("create_bucket", Bucket=name)
    return name


def configure(project: Path, bucket: str, endpoint: str, **options: str) -> None:
    lines = ["['remote \"s3\"']", f"    url = s3://{bucket}/cache"]
    lines += [
        f"    {name} = {value}" for name, value in {"endpointurl": endpoint, **options}.items()
    ]
    (project / ".dvc" / "config.local").write_text("\n".join(lines) + "\n")


def object_requests(seen: list[SeenRequest], method: str) -> list[SeenRequest]:
    """The requests that moved one object (``files/md5/..``) with this method."""
    return [r for r in seen if r.method == method and "/files/md5/" in r.path]


def clients(requests: list[SeenRequest]) -> set[str]:
    return {request.agent.split("/", 1)[0] for request in requests}


def clone_of(project: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "clone"
    git("clone", "-q", str(project.parent / "origin.git"), str(clone), cwd=tmp_path)
    return clone


def same_cache(project: Path, clone: Path, oids: set[str]) -> None:
    for oid in oids:
        rel = Path(".dvc/cache/files/md5") / oid[:2] / oid[2:]
        assert (clone / rel).read_bytes() == (project / rel).read_bytes(), oid
        assert stat.S_IMODE((clone / rel).stat().st_mode) == 0o444


@pytest.mark.parametrize(("client", "agent"), [("auto", "object_store"), ("s3fs", "aiobotocore")])
def test_push_and_pull_through_either_client(
    client: str,
    agent: str,
    s3_endpoint: str,
    bucket: str,
    fresh_demo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A remote with keys and an endpoint goes to obstore; ``EXPTUI_S3_CLIENT=s3fs``
    sends it to s3fs. Either way the same objects arrive, and ``-v`` names the client."""
    monkeypatch.setenv(CLIENT_VARIABLE, client)
    with tcp_proxy(int(s3_endpoint.rsplit(":", 1)[1]), latency=0) as (port, seen):
        endpoint = f"http://127.0.0.1:{port}"
        configure(fresh_demo, bucket, endpoint, **KEYS)
        code = main(["push", "origin", "tuned-lr", "-r", "s3", "-v", "-C", str(fresh_demo)])
        assert code == 0, capsys.readouterr().err
        named = "obstore" if client == "auto" else "s3fs (EXPTUI_S3_CLIENT=s3fs)"
        assert f"DVC remote 's3': {named}" in capsys.readouterr().err
        clone = clone_of(fresh_demo, tmp_path)
        configure(clone, bucket, endpoint, **KEYS)
        code, pulled = run_json(capsys, "pull", "origin", "tuned-lr", "-r", "s3", "-C", str(clone))
    assert code == 0 and pulled["success"] == ["tuned-lr"], pulled
    oids = exp_objects(fresh_demo, "tuned-lr")
    same_cache(fresh_demo, clone, oids)
    puts, gets = object_requests(seen.requests, "PUT"), object_requests(seen.requests, "GET")
    assert len(puts) == len(oids)
    assert {r.path.rsplit("/", 2)[1] + r.path.rsplit("/", 1)[1] for r in gets} == oids
    if client == "auto":  # small files only: botocore never loaded, not even to sweep
        assert clients(seen.requests) == {"object_store"}
    assert clients(puts + gets) == {agent}


def test_options_only_s3fs_honours_send_the_remote_through_it(
    s3_endpoint: str,
    bucket: str,
    fresh_demo: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A profile from DVC's credentialpath and configpath files, and a canned ACL: every
    request is signed with the profile's key, and every object gets the ACL."""
    credentials, config = tmp_path / "credentials", tmp_path / "aws-config"
    credentials.write_text(
        "[team]\naws_access_key_id = AKIATEAMEXAMPLE\naws_secret_access_key = secret\n"
    )
    config.write_text("[profile team]\nregion = us-east-1\n")
    with tcp_proxy(int(s3_endpoint.rsplit(":", 1)[1]), latency=0) as (port, seen):
        configure(
            fresh_demo,
            bucket,
            f"http://127.0.0.1:{port}",
            profile="team",
            credentialpath=str(credentials),
            configpath=str(config),
            acl="public-read",
        )
        with caplog.at_level(logging.INFO, logger="exptui"):
            assert main(["push", "origin", "quick-test", "-r", "s3", "-C", str(fresh_demo)]) == 0
    assert "DVC remote 's3': s3fs (option acl)" in caplog.messages
    puts = object_requests(seen.requests, "PUT")
    assert len(puts) == len(exp_objects(fresh_demo, "quick-test"))
    assert {r.key_id for r in seen.requests} == {"AKIATEAMEXAMPLE"}
    assert all("x-amz-acl" in r.headers for r in puts)
    s3 = s3fs_client(s3_endpoint)
    for key in s3.find(f"{bucket}/cache/files"):
        grants = s3.call_s3("get_object_acl", Bucket=bucket, Key=key.split("/", 1)[1])["Grants"]
        assert any(g["Grantee"].get("URI", "").endswith("/AllUsers") for g in grants), grants


def test_customer_keys_and_grants_go_with_every_request(
    s3_endpoint: str,
    bucket: str,
    fresh_demo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SSE-C: the key must go with the upload and with every read (S3 refuses a read
    without it); the grant with the upload."""
    customer = base64.b64encode(bytes(range(32))).decode()
    options = {**KEYS, "sse_customer_key": customer, "grant_read": 'id="reader"'}
    with tcp_proxy(int(s3_endpoint.rsplit(":", 1)[1]), latency=0) as (port, seen):
        endpoint = f"http://127.0.0.1:{port}"
        configure(fresh_demo, bucket, endpoint, **options)
        assert main(["push", "origin", "quick-test", "-r", "s3", "-C", str(fresh_demo)]) == 0
        capsys.readouterr()
        clone = clone_of(fresh_demo, tmp_path)
        configure(clone, bucket, endpoint, **options)
        code, pulled = run_json(
            capsys, "pull", "origin", "quick-test", "-r", "s3", "-C", str(clone)
        )
    assert code == 0, pulled
    same_cache(fresh_demo, clone, exp_objects(fresh_demo, "quick-test"))
    puts, gets = object_requests(seen.requests, "PUT"), object_requests(seen.requests, "GET")
    assert puts and gets
    customer_header = "x-amz-server-side-encryption-customer-key"
    assert all({customer_header, "x-amz-grant-read"} <= r.headers for r in puts)
    assert all(customer_header in r.headers for r in gets)
    key = s3fs_client(s3_endpoint).find(f"{bucket}/cache/files")[0].split("/", 1)[1]
    grants = s3fs_client(s3_endpoint).call_s3("get_object_acl", Bucket=bucket, Key=key)["Grants"]
    assert {"ID": "reader", "Type": "CanonicalUser"} in [g["Grantee"] for g in grants]


def test_the_fast_path_encrypts_with_kms_and_sends_the_session_token(
    s3_endpoint: str, bucket: str, fresh_demo: Path
) -> None:
    options = {**KEYS, "sse": "aws:kms", "sse_kms_key_id": "key-1", "session_token": "tok"}
    with tcp_proxy(int(s3_endpoint.rsplit(":", 1)[1]), latency=0) as (port, seen):
        configure(fresh_demo, bucket, f"http://127.0.0.1:{port}", **options)
        assert main(["push", "origin", "quick-test", "-r", "s3", "-C", str(fresh_demo)]) == 0
    puts = object_requests(seen.requests, "PUT")
    assert puts and clients(puts) == {"object_store"}
    assert all("x-amz-security-token" in r.headers for r in puts)
    s3 = s3fs_client(s3_endpoint)
    for key in s3.find(f"{bucket}/cache/files"):
        head = s3.call_s3("head_object", Bucket=bucket, Key=key.split("/", 1)[1])
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", "key-1")


def test_anonymous_reads_are_unsigned_and_large_objects_move_in_bounded_parts(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    """An object beyond one part goes through s3fs (bounded parts, ranged reads, one
    sweep of abandoned multipart uploads) even on the fast path; an anonymous remote
    signs nothing."""
    big = tmp_path / "big"
    big.write_bytes(os.urandom(9 << 20))
    key = ObjectKey(hashlib.md5(big.read_bytes()).hexdigest())
    small = tmp_path / "small"
    small.write_bytes(b"metrics\n")
    small_key = ObjectKey(hashlib.md5(b"metrics\n").hexdigest())
    with tcp_proxy(int(s3_endpoint.rsplit(":", 1)[1]), latency=0) as (port, seen):
        endpoint = f"http://127.0.0.1:{port}"

        async def round_trip(options: dict[str, str], upload: bool) -> tuple[str, str, bytes]:
            remote = DvcRemote("s3", f"s3://{bucket}/cache", {"endpointurl": endpoint, **options})
            store = await open_store(remote, jobs=4)
            try:
                if upload:
                    await asyncio.gather(store.upload(big, key), store.upload(small, small_key))
                got_big = await store.download(key, tmp_path / "got-big", big.stat().st_size)
                got_small = await store.download(small_key, tmp_path / "got-small", None)
                return got_big, got_small, await store.read_small(small_key, 100)
            finally:
                await store.close()

        asyncio.run(round_trip(KEYS, upload=True))
        s3 = s3fs_client(s3_endpoint)
        for stored in (key, small_key):  # readable by anyone, as a public remote's are
            name = f"cache/{stored.relpath}"
            s3.call_s3("put_object_acl", Bucket=bucket, Key=name, ACL="public-read")
        signed = len(seen.requests)
        answers = asyncio.run(round_trip({"allow_anonymous_login": "true"}, upload=False))
    assert answers == (key.oid, small_key.oid, b"metrics\n")
    assert (tmp_path / "got-big").read_bytes() == big.read_bytes()
    by_object = {
        (r.method, r.path.rsplit("/", 2)[1] + r.path.rsplit("/", 1)[1]): r.agent.split("/")[0]
        for r in seen.requests[:signed]
        if "/files/md5/" in r.path
    }
    assert by_object[("PUT", key.oid)] == "aiobotocore"  # beyond one part: s3fs
    assert by_object[("PUT", small_key.oid)] == "object_store"
    sweeps = [r for r in seen.requests if "?uploads" in r.path]
    assert len(sweeps) == 1  # abandoned multipart uploads looked for once, by s3fs
    assert all(r.key_id is None for r in seen.requests[signed:])  # anonymous: unsigned
    assert "object_store" in clients(seen.requests[signed:])


@pytest.mark.dvc
def test_dvc_reads_what_the_fast_path_wrote_and_the_reverse(
    s3_endpoint: str,
    bucket: str,
    fresh_demo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Byte-identical both ways with real ``dvc`` (dvc-s3, botocore): dvc pulls the
    objects obstore uploaded, exptui pulls through obstore the objects dvc pushed."""
    from dvc_peer import dvc_executable

    dvc = Dvc(dvc_executable("s3"))
    configure(fresh_demo, bucket, s3_endpoint, **KEYS)
    assert main(["push", "origin", "tuned-lr", "-r", "s3", "-C", str(fresh_demo)]) == 0
    dvc("exp", "push", "origin", "quick-test", "-r", "s3", cwd=fresh_demo)

    clone = clone_of(fresh_demo, tmp_path)
    configure(clone, bucket, s3_endpoint, **KEYS)
    dvc("exp", "pull", "origin", "tuned-lr", "-r", "s3", cwd=clone)
    same_cache(fresh_demo, clone, exp_objects(fresh_demo, "tuned-lr"))
    capsys.readouterr()
    code, pulled = run_json(capsys, "pull", "origin", "quick-test", "-r", "s3", "-C", str(clone))
    assert code == 0 and pulled["success"] == ["quick-test"], pulled
    same_cache(fresh_demo, clone, exp_objects(fresh_demo, "quick-test"))


def test_ssl_verify_as_dvc_reads_it_a_bundle_true_or_false(
    s3_endpoint: str,
    bucket: str,
    fresh_demo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An HTTPS endpoint with a private CA: ``ssl_verify`` naming the CA's bundle is
    trusted (through s3fs, which trusts that bundle alone, as botocore does), the default
    refuses it in one line, and ``false`` skips the check (through obstore)."""
    certificate = self_signed_certificate(tmp_path)
    other = f"b-{uuid.uuid4().hex[:12]}"
    s3fs_client(s3_endpoint).call_s3("create_bucket", Bucket=other)
    push = ["push", "origin", "quick-test", "-r", "s3", "-v", "-C", str(fresh_demo)]
    with tcp_proxy(int(s3_endpoint.rsplit(":", 1)[1]), 0, tls=certificate) as (port, seen):
        endpoint = f"https://127.0.0.1:{port}"
        configure(fresh_demo, bucket, endpoint, **KEYS)
        assert main(push) == 1
        refused = capsys.readouterr().err.strip().splitlines()[-1]
        assert "presented a TLS certificate that is not trusted" in refused, refused
        configure(fresh_demo, bucket, endpoint, **KEYS, ssl_verify=str(certificate[0]))
        assert main(push) == 0
        assert "s3fs (ssl_verify names a CA bundle)" in capsys.readouterr().err
        through_bundle = clients(object_requests(seen.requests, "PUT"))
        configure(fresh_demo, other, endpoint, **KEYS, ssl_verify="false")
        assert main(push) == 0
        assert "DVC remote 's3': obstore" in capsys.readouterr().err
    assert through_bundle == {"aiobotocore"}
    unchecked = [r for r in object_requests(seen.requests, "PUT") if other in r.path]
    assert unchecked and clients(unchecked) == {"object_store"}
