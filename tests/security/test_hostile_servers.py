"""Servers that misbehave on purpose: one that accepts connections and never answers must
cost one timeout and one line naming it, not the client's retries multiplied."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import CompletedProcess

import pytest

pytestmark = pytest.mark.slow  # real S3, SSH and Git servers that misbehave


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts every connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def push_quick_test(
    project: Path, remote: str, config: str, timeout: float
) -> CompletedProcess[str]:
    """``exptui push origin quick-test -r REMOTE`` with this config.local, as a process."""
    (project / ".dvc" / "config.local").write_text(f"['remote \"{remote}\"']\n{config}")
    return subprocess.run(
        [sys.executable, "-m", "tui", "push", "origin", "quick-test", "-r", remote],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_an_s3_endpoint_that_never_answers_costs_one_timeout(fresh_demo: Path) -> None:
    with silent_server() as port:
        config = (
            f"    url = s3://bucket/store\n    endpointurl = http://127.0.0.1:{port}\n"
            "    read_timeout = 1\n    connect_timeout = 1\n"
            "    access_key_id = test\n    secret_access_key = test\n"
        )
        # The old client retried for 30 s and more with these timeouts.
        done = push_quick_test(fresh_demo, "mute", config, timeout=25)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    where = f"'s3://bucket/store at http://127.0.0.1:{port}'"
    assert f"DVC remote {where} did not answer within 2 s" in done.stderr


def test_an_ssh_server_that_never_answers_costs_one_timeout(fresh_demo: Path) -> None:
    with silent_server() as port:
        config = f"    url = ssh://tester@127.0.0.1:{port}/store\n    timeout = 1\n"
        done = push_quick_test(fresh_demo, "mute", config, timeout=25)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "Cannot reach DVC remote 'ssh://tester@127.0.0.1:" in done.stderr
    assert "/store': no answer within 1 s." in done.stderr  # it once gave no reason at all


@contextmanager
def flaky_s3(endpoint: str, fail: int, of: int) -> Iterator[str]:
    """A proxy in front of ``endpoint`` that answers ``fail`` of every ``of`` requests
    with S3's 503 SlowDown (as S3 does under load), and forwards the others."""
    import http.client
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    target = urlsplit(endpoint)
    count = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, and '100 Continue' as S3 sends it

        def log_message(self, *args: object) -> None:
            pass

        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                count[0] += 1
                refuse = count[0] % of < fail
            if refuse:
                error = b"<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>"
                self.send_response(503)
                self.send_header("Content-Length", str(len(error)))
                self.end_headers()
                if self.command != "HEAD":  # a HEAD answer has no body (HTTP; S3 sends none)
                    self.wfile.write(error)
                return
            upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            upstream.close()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("fail", [3, 5], ids=["3-of-5", "all"])
def test_s3_answering_503_is_retried_or_one_line_and_never_half_shared(
    fresh_demo: Path, fail: int
) -> None:
    """S3's SlowDown on 3 of every 5 requests: retries carry the push. On every request:
    one line, no traceback, and no ref without its data."""
    import uuid

    from tests.remote_setup import server_refs
    from tests.servers import moto_s3, s3fs_client

    with moto_s3() as endpoint, flaky_s3(endpoint, fail=fail, of=5) as flaky:
        bucket = f"b-{uuid.uuid4().hex[:12]}"
        s3fs_client(endpoint).call_s3("create_bucket", Bucket=bucket)
        config = (
            f"    url = s3://{bucket}/cache\n    endpointurl = {flaky}\n"
            "    access_key_id = testing\n    secret_access_key = testing\n"
            "    region = us-east-1\n"
        )
        done = push_quick_test(fresh_demo, "s3", config, timeout=300)
    pushed = any("quick-test" in ref for ref in server_refs(fresh_demo.parent / "origin.git"))
    if fail == 5:
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert "Reduce your rate." in done.stderr and not pushed
    else:
        assert done.returncode == 0 and not done.stderr and pushed, done.stderr
