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


def test_an_s3_endpoint_that_never_answers_costs_one_timeout(fresh_demo: Path) -> None:
    with silent_server() as port:
        (fresh_demo / ".dvc" / "config.local").write_text(
            "['remote \"mute\"']\n    url = s3://bucket/store\n"
            f"    endpointurl = http://127.0.0.1:{port}\n"
            "    read_timeout = 1\n    connect_timeout = 1\n"
            "    access_key_id = test\n    secret_access_key = test\n"
        )
        done = subprocess.run(
            [sys.executable, "-m", "tui", "push", "origin", "quick-test", "-r", "mute"],
            cwd=fresh_demo,
            capture_output=True,
            text=True,
            timeout=25,
        )  # fmt: skip  (the old client retried for 30 s and more with these timeouts)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    where = f"'s3://bucket/store at http://127.0.0.1:{port}'"
    assert f"DVC remote {where} did not answer within 2 s" in done.stderr


def test_an_ssh_server_that_never_answers_costs_one_timeout(fresh_demo: Path) -> None:
    with silent_server() as port:
        (fresh_demo / ".dvc" / "config.local").write_text(
            f"['remote \"mute\"']\n    url = ssh://tester@127.0.0.1:{port}/store\n    timeout = 1\n"
        )
        done = subprocess.run(
            [sys.executable, "-m", "tui", "push", "origin", "quick-test", "-r", "mute"],
            cwd=fresh_demo, capture_output=True, text=True, timeout=25,
        )  # fmt: skip
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "Cannot reach DVC remote 'ssh://tester@127.0.0.1:" in done.stderr
    assert "/store': no answer within 1 s." in done.stderr  # it once gave no reason at all
