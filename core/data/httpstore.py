"""HTTP(S) DVC remotes: a team's data server, read over GET and HEAD, written with the
upload method DVC uses (``method``, POST by default, often PUT) where the server takes it.

DVC's options, as dvc-http reads them: ``auth`` (``basic`` with ``user`` and
``password``; ``custom`` sends ``password`` in the ``custom_auth_header``), ``ssl_verify``
(a boolean or a CA bundle path), ``method``, ``connect_timeout`` and ``read_timeout``.
HTTP cannot list, so existence is one HEAD per object (DVC asks the same way), and the
run-cache, which must list, is refused.

The session comes from fsspec's HTTP filesystem (aiohttp underneath), as DVC's does.
Reads are streamed by hand instead of fsspec's ``_get_file``/``_cat_file``: a server may
send more than it should, and a download stops at the size the lock promised, a value
read at its limit, wherever the server would go on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import ssl
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Any

from core.data.objects import CHUNK
from core.data.stores import (
    BoundedSink,
    ObjectKey,
    ObjectStore,
    bound,
    check_within,
    checked,
    gather_bounded,
)
from core.errors import AuthenticationError, ConfigError, StoreError
from core.project.config import DvcRemote

ABSENT = {404, 410}
DENIED = {401, 403}


async def http_store(remote: DvcRemote) -> HTTPStore:
    """The store for an ``http://`` or ``https://`` remote, its session opened."""
    from fsspec.implementations.http import HTTPFileSystem

    options = remote.options
    client: dict[str, Any] = {"trust_env": True}
    headers: dict[str, str] = {}
    auth = (options.get("auth") or "").lower()
    if options.get("ask_password", "").lower() == "true" and not options.get("password"):
        raise ConfigError(
            f"DVC remote '{remote.name}' asks for a password, and exptui does not prompt.",
            f"Store it with 'dvc remote modify --local {remote.name} password ...'.",
        )
    if auth == "basic":
        if not options.get("user") or options.get("password") is None:
            raise ConfigError(
                f"DVC remote '{remote.name}': HTTP 'basic' authentication requires both "
                "'user' and 'password'.",
                f"Set them with 'dvc remote modify --local {remote.name} user|password ...'.",
            )
        pair = f"{options['user']}:{options['password']}".encode("latin-1", "replace")
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    elif auth == "custom":
        if not options.get("custom_auth_header") or options.get("password") is None:
            raise ConfigError(
                f"DVC remote '{remote.name}': HTTP 'custom' authentication requires both "
                "'custom_auth_header' and 'password'.",
                f"Set them with 'dvc remote modify --local {remote.name} ...'.",
            )
        headers[options["custom_auth_header"]] = options["password"]
    elif auth:
        raise ConfigError(
            f"DVC remote '{remote.name}': HTTP auth '{auth}' is not supported.",
            "Use 'basic' or 'custom', as DVC does.",
        )
    client["timeout"] = _timeout(options)
    fs = HTTPFileSystem(asynchronous=True, client_kwargs=client, skip_instance_cache=True)
    return await checked(HTTPStore(fs, remote, headers, _ssl(options.get("ssl_verify"))))


def _timeout(options: Any) -> Any:
    import aiohttp

    connect = float(options.get("connect_timeout") or 60)
    read = float(options["read_timeout"]) if options.get("read_timeout") else None
    return aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)


def _ssl(value: str | None) -> ssl.SSLContext | bool | None:
    """``ssl_verify``: true (the default), false, or a CA bundle to trust."""
    if value is None or value.lower() == "true":
        return None
    if value.lower() == "false":
        return False
    context = ssl.create_default_context()
    context.load_verify_locations(os.path.expanduser(value))
    return context


class HTTPStore(ObjectStore):
    default_jobs = 16

    def __init__(
        self, fs: Any, remote: DvcRemote, headers: dict[str, str], verify: Any = None
    ) -> None:
        self.fs = fs
        self.root = remote.url.rstrip("/")
        self.description = remote.shown_url
        self.method = (remote.options.get("method") or "POST").upper()
        self.headers = headers
        self.ssl = verify
        self.default_jobs = int(remote.options.get("jobs") or self.default_jobs)

    def url(self, key: ObjectKey) -> str:
        return f"{self.root}/{key.relpath}"

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        ssl_arg = {} if self.ssl is None else {"ssl": self.ssl}
        return self.fs._session.request(method, url, headers=headers, **ssl_arg, **kwargs)

    async def check(self) -> None:
        """Reach the server once and be let in, so a wrong URL or password is one clear
        error, not one per object."""
        await self.fs.set_session()
        try:
            async with self._request("HEAD", self.root + "/") as response:
                self._refuse_denied(response.status)
        except OSError as exc:  # aiohttp's connection errors are OSErrors
            raise StoreError(
                f"Cannot reach DVC remote '{self.description}': {exc.strerror or exc}.",
                "Check the URL and the network, then retry.",
            ) from exc
        except asyncio.TimeoutError as exc:
            raise StoreError(
                f"DVC remote '{self.description}' did not answer in time.",
                "Check the URL and the network (or raise connect_timeout), then retry.",
            ) from exc

    def _refuse_denied(self, status: int) -> None:
        if status in DENIED:
            raise AuthenticationError(
                f"DVC remote '{self.description}' refused the credentials (HTTP {status}).",
                "Check auth, user and password (dvc remote modify --local ...).",
            )

    def _fail(self, status: int, what: str, key: ObjectKey) -> OSError:
        self._refuse_denied(status)
        return OSError(f"HTTP {status} on {what} of {key.oid}")

    async def find(self, prefix: str) -> list[str]:
        raise ConfigError(
            f"DVC remote '{self.description}' is HTTP, which cannot list what it holds, "
            "so its run-cache cannot be pulled (DVC cannot either).",
            "Pull without --run-cache.",
        )

    async def present(self, keys: Collection[ObjectKey]) -> set[ObjectKey]:
        found: set[ObjectKey] = set()

        async def probe(key: ObjectKey) -> None:
            async with _transport(), self._request("HEAD", self.url(key)) as response:
                if response.status < 300:
                    found.add(key)
                elif response.status not in ABSENT:
                    raise self._fail(response.status, "HEAD", key)

        await gather_bounded([probe(key) for key in keys], self.default_jobs)
        return found

    async def read_small(self, key: ObjectKey, limit: int) -> bytes:
        async with _transport(), self._request("GET", self.url(key)) as response:
            if response.status in ABSENT:
                raise FileNotFoundError(self.url(key))
            if response.status >= 300:
                raise self._fail(response.status, "GET", key)
            data = b""
            while len(data) <= limit and (chunk := await response.content.read(limit + 1)):
                data += chunk
            return check_within(data, limit, key)

    async def download(
        self,
        key: ObjectKey,
        target: str | Path,
        size: int | None = None,
        limit: int | None = None,
    ) -> str:
        async with _transport(), self._request("GET", self.url(key)) as response:
            if response.status >= 300:
                raise self._fail(response.status, "GET", key)
            with BoundedSink(target, key, bound(size, limit), self.description) as sink:
                sink.announce(response.content_length)
                async for chunk in response.content.iter_chunked(CHUNK):
                    sink.write(chunk)
                return sink.md5

    async def upload(self, source: Path, key: ObjectKey) -> None:
        if self.method not in ("POST", "PUT"):
            raise ConfigError(
                f"DVC remote '{self.description}': upload method '{self.method}' is not "
                "POST or PUT.",
                "Fix it with 'dvc remote modify <name> method PUT'.",
            )
        with open(source, "rb") as body:
            request = self._request(self.method, self.url(key), data=body)
            async with _transport(), request as response:
                if response.status >= 300:
                    raise self._fail(response.status, self.method, key)

    async def close(self) -> None:
        session = getattr(self.fs, "_session", None)
        if session is not None:
            await session.close()


@contextlib.asynccontextmanager
async def _transport() -> AsyncIterator[None]:
    """aiohttp's failures as OSError, which every transfer handles (a dropped connection
    mid-body is a ``ClientPayloadError``, not an OSError)."""
    import aiohttp

    try:
        yield
    except aiohttp.ClientError as exc:
        if isinstance(exc, OSError):
            raise
        raise ConnectionError(str(exc) or type(exc).__name__) from exc
