"""The data phase against GCS (an emulator on 127.0.0.1): push, re-push, pull, no bucket."""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.helpers import exp_objects, git, run_json
from tests.servers import gcs_emulator, tcp_proxy
from tui.cli import main

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")  # W1, before gcsfs loads


@pytest.fixture(scope="module")
def gcs_endpoint() -> Iterator[str]:
    with gcs_emulator() as endpoint:
        yield endpoint


def use_gcs(project: Path, endpoint: str, bucket: str) -> None:
    (project / ".dvc" / "config.local").write_text(
        f"['remote \"gcs\"']\n    url = gs://{bucket}/cache\n    endpointurl = {endpoint}\n"
        "    allow_anonymous_login = true\n    projectname = test\n"
    )


def test_push_repush_and_pull_through_gcs(
    gcs_endpoint: str, fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gcsfs

    bucket = f"b-{uuid.uuid4().hex[:12]}"
    fs = gcsfs.GCSFileSystem(
        endpoint_url=gcs_endpoint, token="anon", project="test", skip_instance_cache=True
    )
    fs.mkdir(bucket)
    use_gcs(fresh_demo, gcs_endpoint, bucket)
    args = ["push", "origin", "wide-net", "-r", "gcs", "-j", "4", "-C", str(fresh_demo)]
    code, result = run_json(capsys, *args)
    assert code == 0, result
    stored = {k.split("/files/md5/", 1)[1].replace("/", "") for k in fs.find(f"{bucket}/cache")}
    assert stored == exp_objects(fresh_demo, "wide-net")
    code, again = run_json(capsys, *args)
    assert code == 0 and again["uploaded"]["files"] == 0

    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    use_gcs(clone, gcs_endpoint, bucket)
    code, pulled = run_json(capsys, "pull", "origin", "wide-net", "-r", "gcs", "-C", str(clone))
    assert code == 0 and pulled["success"] == ["wide-net"]
    for oid in exp_objects(fresh_demo, "wide-net"):
        rel = Path("files/md5") / oid[:2] / oid[2:]
        assert (clone / ".dvc/cache" / rel).read_bytes() == (
            fresh_demo / ".dvc/cache" / rel
        ).read_bytes()


def test_missing_gcs_bucket_is_one_clear_error(
    gcs_endpoint: str, fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    use_gcs(fresh_demo, gcs_endpoint, "no-such-bucket")
    assert main(["push", "origin", "tuned-lr", "-r", "gcs", "-C", str(fresh_demo)]) == 1
    err = capsys.readouterr().err
    assert "Bucket 'no-such-bucket'" in err and err.count("\n") == 1


@contextmanager
def token_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An OAuth token endpoint on 127.0.0.1, as a service account's ``token_uri``:
    every grant it is asked for is kept, and answered with the token ``from-the-file``."""
    grants: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            grants.append(dict(parse_qsl(body.decode())))
            answer = b'{"access_token": "from-the-file", "expires_in": 3600}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token", grants
    finally:
        server.shutdown()
        server.server_close()


def test_credentialpath_signs_every_request_with_the_service_account(
    gcs_endpoint: str, fresh_demo: Path, tmp_path: Path
) -> None:
    """DVC's ``credentialpath``: the service account file's key asks its token endpoint
    for a token, and every request to the bucket carries that token."""
    import gcsfs
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    anonymous = gcsfs.GCSFileSystem(
        endpoint_url=gcs_endpoint, token="anon", project="test", skip_instance_cache=True
    )
    anonymous.mkdir(bucket)
    with (
        token_server() as (token_uri, grants),
        tcp_proxy(int(gcs_endpoint.rsplit(":", 1)[1]), latency=0) as (port, seen),
    ):
        account = tmp_path / "account.json"
        account.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "test",
                    "private_key_id": "k1",
                    "private_key": pem,
                    "client_email": "pusher@test.iam.gserviceaccount.com",
                    "client_id": "1",
                    "token_uri": token_uri,
                }
            )
        )
        (fresh_demo / ".dvc" / "config.local").write_text(
            f"['remote \"gcs\"']\n    url = gs://{bucket}/cache\n"
            f"    endpointurl = http://127.0.0.1:{port}\n"
            f"    credentialpath = {account}\n    projectname = test\n"
        )
        assert main(["push", "origin", "quick-test", "-r", "gcs", "-C", str(fresh_demo)]) == 0
    assert grants and grants[0]["grant_type"].endswith("jwt-bearer")
    claims = grants[0]["assertion"].split(".")[1]
    issuer = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["iss"]
    assert issuer == "pusher@test.iam.gserviceaccount.com"
    assert seen.requests and {r.bearer for r in seen.requests} == {"from-the-file"}
    stored = {k.split("/files/md5/", 1)[1].replace("/", "") for k in anonymous.find(bucket)}
    assert stored == exp_objects(fresh_demo, "quick-test")
