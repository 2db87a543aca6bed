"""Real Git servers on 127.0.0.1 for tests, each stopped by the fixture that started it.

- ``git daemon`` for git:// (Debian's git),
- ``git http-backend`` behind a small threaded CGI bridge for smart HTTP, with optional
  Basic auth and read-only users so 401 and 403 can be provoked,
- an in-process asyncssh server that runs the real ``git-upload-pack`` /
  ``git-receive-pack`` for the command it is given, reached through the system OpenSSH
  client exactly as users reach their servers.
Each server counts the requests it served, so tests can check "one connection per batch".
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shlex
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def throwaway_key(path: Path) -> Path:
    """A fresh passphrase-less ed25519 key pair at ``path`` (and ``path``.pub)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


@contextmanager
def running(server: object, port: int) -> Iterator[str]:
    """Start an HTTP test server object, wait until it listens, stop it afterwards."""
    server.start()  # type: ignore[attr-defined]
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()  # type: ignore[attr-defined]


@contextmanager
def git_daemon(root: Path) -> Iterator[str]:
    """git:// serving every repository under ``root``; yields the base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={root}",
            "--export-all",
            "--enable=receive-pack",
            "--informative-errors",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"git://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class HttpServerState:
    root: Path
    users: dict[str, str] = field(default_factory=dict)  # empty: no auth at all
    readonly: set[str] = field(default_factory=set)
    requests: Counter[str] = field(default_factory=Counter)


class _GitCgiHandler(BaseHTTPRequestHandler):
    state: HttpServerState

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _user(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if self.state.users.get(user) == password else None

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        pushing = path.endswith("git-receive-pack") or "service=git-receive-pack" in query
        self.state.requests[f"{self.command} {path.rsplit('/', 1)[-1]}"] += 1
        user = self._user()
        if self.state.users and user is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if pushing and user in self.state.readonly:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self._body()
        env = {
            **os.environ,
            "GIT_PROJECT_ROOT": str(self.state.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": user or "anonymous",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = done.stdout.partition(b"\n\n")
        headers = [line.split(":", 1) for line in head.decode().splitlines() if ":" in line]
        status = next((v.strip() for k, v in headers if k.lower() == "status"), "200 OK")
        self.send_response(int(status.split()[0]))
        for key, value in headers:
            if key.lower() != "status":
                self.send_header(key, value.strip())
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if not size:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


@contextmanager
def http_git(
    root: Path, users: dict[str, str] | None = None, readonly: set[str] | None = None
) -> Iterator[tuple[str, HttpServerState]]:
    """Smart HTTP over ``git http-backend``; yields (base URL, state with request counts)."""
    state = HttpServerState(root, users or {}, readonly or set())
    with _serving(_GitCgiHandler, state) as port:
        yield f"http://127.0.0.1:{port}", state


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler], state: object) -> Iterator[int]:
    """``handler`` with ``state`` in a thread on a free port of 127.0.0.1, stopped after."""
    bound = type("Handler", (handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class StorageServerState:
    """A DVC HTTP remote: files under ``root``; ``header`` is (name, value) a request must
    carry, or basic credentials ``users``; ``requests`` counts method and status."""

    root: Path
    users: dict[str, str] = field(default_factory=dict)
    header: tuple[str, str] | None = None
    requests: Counter[str] = field(default_factory=Counter)


class _StorageHandler(_GitCgiHandler):
    """GET and HEAD of files, PUT and POST to write them (DVC's ``method``), as a team's
    data server behind nginx/WebDAV-less Apache would; 401 without the credentials."""

    state: StorageServerState  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers

    def do_HEAD(self) -> None:
        self._storage()

    def do_GET(self) -> None:
        self._storage()

    def do_PUT(self) -> None:
        self._storage()

    def do_POST(self) -> None:
        self._storage()

    def _allowed(self) -> bool:
        if self.state.header is not None:
            name, value = self.state.header
            return self.headers.get(name) == value
        return not self.state.users or self._user() is not None

    def _storage(self) -> None:
        target = self.state.root / self.path.lstrip("/").split("?")[0]
        if not self._allowed():
            self._reply(401)
        elif self.command in ("PUT", "POST"):
            body = self._body()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            self._reply(201)
        elif not target.is_file():
            self._reply(404)
        else:
            data = target.read_bytes()
            self._reply(200, b"" if self.command == "HEAD" else data, len(data))

    def _reply(self, status: int, body: bytes = b"", length: int | None = None) -> None:
        self.state.requests[f"{self.command} {status}"] += 1
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def http_storage(
    root: Path, users: dict[str, str] | None = None, header: tuple[str, str] | None = None
) -> Iterator[tuple[str, StorageServerState]]:
    """A DVC HTTP remote on 127.0.0.1 serving ``root``; yields (URL, state)."""
    state = StorageServerState(root, users or {}, header)
    with _serving(_StorageHandler, state) as port:
        yield f"http://127.0.0.1:{port}/storage", state


@dataclass
class ProxyState:
    """What a :func:`tcp_proxy` saw: the most connections open at once, how many requests
    asked the server to answer ``100 Continue`` before their body, and of each request
    its method and path, client (User-Agent), signing key id and header names."""

    peak: int = 0
    open: int = 0
    expect_continue: int = 0
    requests: list[SeenRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    agent: str
    key_id: str | None  # from ``Authorization: AWS4-HMAC-SHA256 Credential=KEY/...``
    bearer: str | None  # from ``Authorization: Bearer TOKEN`` (GCS)
    headers: frozenset[str]  # lower-case names


_REQUEST_LINE = re.compile(rb"^([A-Z]+) (\S+) HTTP/1\.[01]\r\n", re.MULTILINE)


def _requests_in(data: bytes) -> list[SeenRequest]:
    """The requests whose head starts in ``data`` (a relay's chunk; tests send small
    requests, whose heads arrive whole)."""
    seen = []
    for match in _REQUEST_LINE.finditer(data):
        head = data[match.end() :].split(b"\r\n\r\n", 1)[0].decode("latin-1")
        fields = {}
        for line in head.split("\r\n"):
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        auth = fields.get("authorization", "")
        key = re.search(r"Credential=([^/,\s]+)/", auth)
        seen.append(
            SeenRequest(
                match[1].decode(),
                match[2].decode(),
                fields.get("user-agent", ""),
                key[1] if key else None,
                bearer[1] if (bearer := re.match(r"Bearer (\S+)", auth)) else None,
                frozenset(fields),
            )
        )
    return seen


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key: (cert, key) PEM files.
    Trusting the certificate file as a CA bundle is what trusting a private CA means."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "exptui test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert, key_file = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key_file


@contextmanager
def tcp_proxy(
    port: int, latency: float = 0.02, tls: tuple[Path, Path] | None = None
) -> Iterator[tuple[int, ProxyState]]:
    """A TCP relay on 127.0.0.1 to ``port`` that delays the first bytes of each answer
    by ``latency``: a remote's round trip per request (and per ``100 Continue``), paid
    once however many pieces the answer comes in, so requests overlap as they do over a
    network; yields (its port, what it saw). With ``tls`` (cert, key) it speaks HTTPS
    to its clients (plain to ``port``)."""
    import ssl

    state = ProxyState()
    context = None
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def pump(
        source: socket.socket, sink: socket.socket, upstream: bool, asked: threading.Event
    ) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if upstream:
                    with state.lock:
                        state.expect_continue += data.lower().count(b"expect: 100-continue")
                        state.requests.extend(_requests_in(data))
                    asked.set()
                elif asked.is_set():  # the first bytes answering what was sent
                    asked.clear()
                    time.sleep(latency)
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def serve(client: socket.socket) -> None:
        with state.lock:
            state.open += 1
            state.peak = max(state.peak, state.open)
        try:
            if context is not None:
                try:
                    client = context.wrap_socket(client, server_side=True)
                except (OSError, ssl.SSLError):
                    client.close()  # a client that refused our certificate
                    return
            with client, socket.create_connection(("127.0.0.1", port)) as server:
                asked = threading.Event()
                back = threading.Thread(
                    target=pump, args=(server, client, False, asked), daemon=True
                )
                back.start()
                pump(client, server, True, asked)
                back.join(timeout=30)
        finally:
            with state.lock:
                state.open -= 1

    def accept() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], state
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()


@dataclass
class SshServer:
    url: str  # ssh://git@127.0.0.1:PORT
    ssh_command: str  # what GIT_SSH_COMMAND should be for the throwaway key
    commands: Counter[str]


@contextmanager
def ssh_git(root: Path, workdir: Path) -> Iterator[SshServer]:
    """An SSH server on 127.0.0.1 that runs git-upload-pack/git-receive-pack (only those,
    only under ``root``) for a throwaway client key."""
    import asyncssh

    key = throwaway_key(workdir / "client_ed25519")
    commands: Counter[str] = Counter()

    async def handle(process: asyncssh.SSHServerProcess) -> None:
        argv = shlex.split(process.command or "")
        allowed = {"git-upload-pack", "git-receive-pack"}
        if len(argv) != 2 or argv[0] not in allowed or not argv[1].startswith(str(root)):
            process.stderr.write(f"refused: {process.command}\n")
            process.exit(1)
            return
        commands[argv[0]] += 1
        env = {**os.environ}
        if process.env.get("GIT_PROTOCOL"):
            env["GIT_PROTOCOL"] = str(process.env["GIT_PROTOCOL"])
        child = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        await process.redirect(stdin=child.stdin, stdout=child.stdout, stderr=child.stderr)
        code = await child.wait()
        await process.drain()
        process.exit(code)

    command = (
        f"ssh -i {key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no "
        "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
    )
    listen = {"process_factory": handle, "encoding": None}
    with asyncssh_server(key, asyncssh.generate_private_key("ssh-ed25519"), listen) as port:
        yield SshServer(f"ssh://git@127.0.0.1:{port}", command, commands)


@contextmanager
def asyncssh_server(client_key: Path, host_key: object, listen: dict[str, object]) -> Iterator[int]:
    """An asyncssh server on 127.0.0.1 for one client key, on its own loop in a thread;
    yields its port and stops it (and the loop) afterwards."""
    import asyncssh

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> object:
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            allow_scp=False,
            authorized_client_keys=asyncssh.import_authorized_keys(
                client_key.with_suffix(".pub").read_text()
            ),
            **listen,
        )

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)

    async def stop() -> None:
        server.close()  # type: ignore[attr-defined]
        await server.wait_closed()  # type: ignore[attr-defined]

    try:
        yield int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@contextmanager
def moto_s3() -> Iterator[str]:
    """An S3 API on 127.0.0.1 (moto's threaded server); yields the endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    with running(server, port) as url:
        yield url


S3RVER_VERSION = "3.7.1"


def s3rver_script() -> Path:
    """s3rver (an S3 API in Node), installed from npm into the test cache on first use."""
    import fcntl

    from tests.dvc_peer import CACHE_ROOT

    home = CACHE_ROOT / f"s3rver-{S3RVER_VERSION}"
    script = home / "node_modules" / "s3rver" / "bin" / "s3rver.js"
    if script.is_file():
        return script
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not script.is_file():
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", f"s3rver@{S3RVER_VERSION}"],
                cwd=home,
                check=True,
                capture_output=True,
            )
    return script


@contextmanager
def s3rver(root: Path) -> Iterator[str]:
    """s3rver on 127.0.0.1 storing under ``root``; yields the endpoint URL. Any
    well-formed signature is accepted, so every tool's test keys work. Unlike moto's
    werkzeug server (2-3 ms of CPU per request, one connection per request) it keeps
    connections alive: a benchmark's S3 rows then measure the clients."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "node",
            "--openssl-legacy-provider",
            str(s3rver_script()),
            "--directory",
            str(root),
            "--address",
            "127.0.0.1",
            "--port",
            str(port),
            "--silent",
            "--allow-mismatched-signatures",
            "--no-vhost-buckets",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def s3fs_client(endpoint: str, key: str = "testing") -> Any:
    """A blocking s3fs filesystem on a test S3 server (moto takes any key; s3rver only
    its own, ``S3RVER``)."""
    import s3fs

    return s3fs.S3FileSystem(
        key=key,
        secret=key,
        skip_instance_cache=True,
        client_kwargs={"endpoint_url": endpoint, "region_name": "us-east-1"},
    )


@dataclass
class SftpServer:
    port: int
    client_key: Path
    host_key_line: str  # for ~/.ssh/known_hosts: host checking stays on in tests


@contextmanager
def sftp_server(workdir: Path, factory: Any = None) -> Iterator[SftpServer]:
    """An SFTP server on 127.0.0.1 (asyncssh, its own loop in a thread) for one client key;
    ``factory`` is an ``asyncssh.SFTPServer`` subclass, to observe what clients ask."""
    import asyncssh

    key = throwaway_key(workdir / "sftp_client")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    public = host_key.export_public_key().decode().strip()
    sftp_factory = factory or asyncssh.SFTPServer
    with asyncssh_server(key, host_key, {"sftp_factory": sftp_factory}) as port:
        yield SftpServer(port, key, f"[127.0.0.1]:{port} {public}")


@contextmanager
def gcs_emulator() -> Iterator[str]:
    """A GCS JSON API on 127.0.0.1 (gcp-storage-emulator, in memory); yields its URL.

    The emulator's stock HTTP server has a listen backlog of 5, which collapses under
    concurrent clients (TESTING.md W2); this one queues 1024. Its storage is not
    thread-safe, so it stays single-threaded."""
    from functools import partial
    from http import server as http_server

    import gcp_storage_emulator.server as emulator

    class Backlogged(http_server.HTTPServer):
        request_queue_size = 1024

        def handle_error(self, request: object, client_address: object) -> None:
            return  # gcsfs cancels racing requests; the resulting broken pipes are noise

    def run(self: object) -> None:
        self._httpd = Backlogged(  # type: ignore[attr-defined]
            (self._host, self._port),  # type: ignore[attr-defined]
            partial(emulator.RequestHandler, self._storage),  # type: ignore[attr-defined]
        )
        self.is_running.set()  # type: ignore[attr-defined]
        self._httpd.serve_forever()  # type: ignore[attr-defined]

    emulator.APIThread.run = run  # type: ignore[method-assign]
    port = free_port()
    server = emulator.create_server("127.0.0.1", port, in_memory=True)
    with running(server, port) as url:
        yield url
