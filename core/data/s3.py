"""S3 remotes: every option DVC documents, and a fast client for the remotes that need
nothing more than it offers.

Two clients serve S3. s3fs (botocore underneath, as DVC uses) honours every option of
DVC's ``s3`` remote schema: profiles, credential and config files, SSE (AES256, KMS,
customer keys), ACLs and grants, ``use_ssl``, a CA bundle as ``ssl_verify``. Its cost is
per request: about 2 ms of client CPU (hooks, request building, signing) where obstore
(Rust's object_store) spends 0.4 ms, so thousands of small objects are paced by the
client instead of the network. A remote whose options obstore honours, with credentials
and region stated (in the remote or the ``AWS_*`` environment) rather than found through
botocore's chain of profiles and files, and no environment variable the two clients read
differently, is served by obstore; any other by s3fs (:func:`fast_path_refusal` says
why). The choice is logged (``-v`` shows it) and ``EXPTUI_S3_CLIENT=s3fs`` forces s3fs.

Objects larger than one multipart piece go through s3fs even on the fast path: their
cost is bytes, not requests, and s3fs's bounded parts stay as they are, with the sweep of
multipart uploads a killed push abandoned (obstore cannot list them). Only such objects
make multipart uploads, so the fast path sweeps when it first moves one; a push of small
files alone never imports botocore (0.3 s of CPU, and the event loop held meanwhile).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import errno
import functools
import importlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from core.data.objects import CHUNK
from core.data.stores import (
    BIG_FILES,
    PART_JOBS,
    PART_SIZE,
    BoundedSink,
    FsspecStore,
    ObjectKey,
    ObjectStore,
    bound,
    check_within,
    checked,
    present_by_prefix,
)
from core.errors import ConfigError, StoreError
from core.project.config import DvcRemote
from core.redact import redact

log = logging.getLogger("exptui.stores")

CLIENT_VARIABLE = "EXPTUI_S3_CLIENT"  # "s3fs" forces botocore's client; else chosen
DEFAULT_JOBS = 32
GRANTS = {
    "grant_full_control": "GrantFullControl",
    "grant_read": "GrantRead",
    "grant_read_acp": "GrantReadACP",
    "grant_write_acp": "GrantWriteACP",
}
# Options that change nothing on the wire, or that obstore honours as DVC means them.
FAST_OPTIONS = frozenset(
    {
        "url",
        "jobs",
        "checksum_jobs",
        "verify",  # DVC's re-hash after download: exptui always checks md5 before caching
        "listobjects",  # obsolete in DVC
        "no_traverse",  # obsolete in DVC
        "cache_regions",  # s3fs's region discovery; the fast path needs the region stated
        "endpointurl",
        "region",
        "access_key_id",
        "secret_access_key",
        "session_token",
        "allow_anonymous_login",
        "ssl_verify",  # true or false only; a CA bundle path goes to s3fs
        "read_timeout",
        "connect_timeout",
        "sse",
        "sse_kms_key_id",
    }
)
# obstore reads every AWS_* variable it knows (an AWS_ENDPOINT, AWS_TOKEN or
# AWS_SERVER_SIDE_ENCRYPTION botocore ignores; an AWS_PROFILE it ignores); only these
# mean the same to both clients, so any other set sends the remote to s3fs.
SHARED_ENVIRONMENT = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CA_BUNDLE",  # checked apart: only the system's own bundle
        "AWS_CONFIG_FILE",  # checked apart: a region it may hold
        "AWS_SHARED_CREDENTIALS_FILE",  # below stated keys, as in botocore's chain
        "AWS_EC2_METADATA_DISABLED",
        "AWS_PAGER",
    }
)
PROXY_ENVIRONMENT = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
)


def dvc_bool(value: str | None) -> bool:
    """DVC's ``Bool``: ``true`` or ``false`` in any case."""
    return str(value or "").strip().lower() == "true"


def ssl_verify(value: str | None) -> bool | str:
    """DVC's ``ssl_verify``: a boolean, or else the path of a CA bundle."""
    if value is None or value.strip().lower() == "true":
        return True
    if value.strip().lower() == "false":
        return False
    return value


def s3fs_arguments(remote: DvcRemote, jobs: int) -> dict[str, Any]:
    """s3fs's arguments for the remote's options, as dvc-s3's ``_prepare_credentials``
    builds them, with its two refusals (KMS and customer keys; ACL and grants)."""
    options = remote.options
    client: dict[str, Any] = {"verify": ssl_verify(options.get("ssl_verify"))}
    if options.get("endpointurl"):
        client["endpoint_url"] = options["endpointurl"]
    if options.get("region"):
        client["region_name"] = options["region"]
    arguments: dict[str, Any] = {
        "client_kwargs": client,
        "config_kwargs": {
            "connect_timeout": float(options.get("connect_timeout") or 10),
            "read_timeout": float(options.get("read_timeout") or 60),
            "retries": {"max_attempts": 3, "mode": "standard"},
            # botocore's pool is 10 whatever the concurrency (a proxy saw 11 at -j 32)
            "max_pool_connections": max(jobs + PART_JOBS * BIG_FILES, 10),
        },
        "s3_additional_kwargs": _written_with(remote),
        "use_ssl": options.get("use_ssl") is None or dvc_bool(options["use_ssl"]),
        "asynchronous": True,
        "skip_instance_cache": True,
    }
    for ours, theirs in (
        ("access_key_id", "key"),
        ("secret_access_key", "secret"),
        ("session_token", "token"),
        ("profile", "profile"),
    ):
        if options.get(ours):
            arguments[theirs] = options[ours]
    if dvc_bool(options.get("allow_anonymous_login")):
        arguments["anon"] = True
    if not options.get("region") and not os.environ.get("AWS_REGION"):
        arguments["cache_regions"] = options.get("cache_regions") is None or dvc_bool(
            options["cache_regions"]
        )
    return arguments


def _written_with(remote: DvcRemote) -> dict[str, Any]:
    """The encryption and access-control arguments every request carries (s3fs passes each
    call those its operation accepts: the customer key to reads too)."""
    options = remote.options
    extra: dict[str, Any] = {}
    if options.get("sse"):
        extra["ServerSideEncryption"] = options["sse"]
    if options.get("sse_kms_key_id"):
        extra["SSEKMSKeyId"] = options["sse_kms_key_id"]
    if options.get("sse_customer_key"):
        if options.get("sse_kms_key_id"):
            raise ConfigError(
                f"DVC remote '{remote.name}' sets both sse_kms_key_id and sse_customer_key.",
                "They are mutually exclusive (DVC refuses them too); unset one with "
                f"'dvc remote modify --unset {remote.name} ...'.",
            )
        try:
            key = base64.b64decode(options["sse_customer_key"], validate=True)
        except binascii.Error as exc:
            raise ConfigError(
                f"DVC remote '{remote.name}': sse_customer_key is not base64.",
                "Give the 256-bit key base64-encoded, as DVC expects it.",
            ) from exc
        extra["SSECustomerKey"] = key
        extra["SSECustomerAlgorithm"] = options.get("sse_customer_algorithm") or "AES256"
    elif options.get("sse_customer_algorithm"):
        extra["SSECustomerAlgorithm"] = options["sse_customer_algorithm"]
    if options.get("acl"):
        extra["ACL"] = options["acl"]
    for option, argument in GRANTS.items():
        if options.get(option):
            if options.get("acl"):
                raise ConfigError(
                    f"DVC remote '{remote.name}' sets both acl and {option}.",
                    "They are mutually exclusive (DVC refuses them too); unset one with "
                    f"'dvc remote modify --unset {remote.name} ...'.",
                )
            extra[argument] = options[option]
    return extra


def fast_path_refusal(remote: DvcRemote, environment: Mapping[str, str]) -> str | None:
    """Why obstore cannot serve this remote exactly as s3fs would, or None if it can."""
    options = remote.options
    if environment.get(CLIENT_VARIABLE, "").lower() == "s3fs":
        return f"{CLIENT_VARIABLE}=s3fs"
    extra = sorted(set(options) - FAST_OPTIONS)
    if extra:
        return f"option {extra[0]}"
    if not isinstance(ssl_verify(options.get("ssl_verify")), bool):
        return "ssl_verify names a CA bundle"
    bucket = remote.url.removeprefix("s3://").split("/", 1)[0]
    if "." in bucket and not options.get("endpointurl"):
        return "a bucket name with dots (botocore addresses it by path on AWS)"
    aws = sorted(n for n in environment if n.startswith("AWS_") and n not in SHARED_ENVIRONMENT)
    present = [*aws, *(name for name in PROXY_ENVIRONMENT if environment.get(name))]
    if present:
        return f"{present[0]} is set"
    bundle = environment.get("AWS_CA_BUNDLE")
    plain_http = str(options.get("endpointurl", "")).startswith("http://")
    if bundle and not plain_http and not _is_system_bundle(bundle):
        return "AWS_CA_BUNDLE names a CA bundle"
    anonymous = dvc_bool(options.get("allow_anonymous_login"))
    keyed = options.get("access_key_id") and options.get("secret_access_key")
    from_environment = environment.get("AWS_ACCESS_KEY_ID") and environment.get(
        "AWS_SECRET_ACCESS_KEY"
    )
    if not (anonymous or keyed or from_environment):
        return "credentials come from botocore's chain (profiles, files, SSO)"
    if keyed and environment.get("AWS_SESSION_TOKEN") and not options.get("session_token"):
        return "AWS_SESSION_TOKEN would be sent with the remote's own keys"
    return _region_refusal(options, environment)


def _region_refusal(options: Mapping[str, str], environment: Mapping[str, str]) -> str | None:
    """The region must be the one botocore would sign for: stated in the remote, or
    AWS_DEFAULT_REGION (botocore reads no other variable; obstore reads AWS_REGION too,
    so it may only agree); else botocore may read it from the AWS config file."""
    if options.get("region"):
        return None
    default, other = environment.get("AWS_DEFAULT_REGION"), environment.get("AWS_REGION")
    if other and other != default:
        return "AWS_REGION is set (botocore reads AWS_DEFAULT_REGION only)"
    if default:
        return None
    config = environment.get("AWS_CONFIG_FILE") or os.path.expanduser("~/.aws/config")
    if os.path.exists(config):
        return f"the region may come from {config}"
    if not options.get("endpointurl"):
        return "the bucket's region is not stated"
    return None


def _is_system_bundle(path: str) -> bool:
    """Whether ``path`` is the bundle TLS trusts anyway (images often point
    AWS_CA_BUNDLE at it): then it narrows nothing, and obstore's roots are the same."""
    import ssl

    defaults = ssl.get_default_verify_paths()
    system = {p for p in (defaults.cafile, defaults.openssl_cafile) if p}
    return os.path.realpath(path) in {os.path.realpath(p) for p in system}


async def s3_store(remote: DvcRemote, jobs: int | None = None) -> ObjectStore:
    """The store for an ``s3://`` remote: obstore where it honours every option set,
    else s3fs; either way checked before it is handed out."""
    concurrency = jobs or int(remote.options.get("jobs") or DEFAULT_JOBS)
    refusal = fast_path_refusal(remote, os.environ)
    if refusal is None:
        try:
            import obstore  # noqa: F401
        except ImportError:
            refusal = "obstore is not installed"
    if refusal is not None:
        log.info("DVC remote '%s': s3fs (%s)", remote.name, refusal)
        return await checked(await s3fs_store(remote, concurrency))
    log.info("DVC remote '%s': obstore", remote.name)
    return await checked(FastS3Store(remote, concurrency))


async def s3fs_store(remote: DvcRemote, concurrency: int) -> FsspecStore:
    """s3fs with every DVC option; its session scoped to the remote's credential and
    config files (dvc-s3 sets process-wide variables instead)."""
    import s3fs

    arguments = s3fs_arguments(remote, concurrency)
    files = {
        "credentials_file": remote.options.get("credentialpath"),
        "config_file": remote.options.get("configpath"),
    }
    if any(files.values()):
        from aiobotocore.session import AioSession

        session = AioSession(profile=arguments.pop("profile", None))
        for variable, path in files.items():
            if path:
                session.set_config_variable(variable, os.path.expanduser(path))
        arguments["session"] = session
    fs = s3fs.S3FileSystem(**arguments)
    await fs.set_session()
    _expect_continue_only_for_large_bodies(fs.s3.meta.events)
    config = arguments["config_kwargs"]
    return FsspecStore(
        fs,
        remote.url.removeprefix("s3://"),
        _where(remote),
        concurrency,
        parts=True,
        answer_within=config["connect_timeout"] + config["read_timeout"],
    )


def _where(remote: DvcRemote) -> str:
    """The remote as errors name it: with the host that does (or does not) answer."""
    where = remote.shown_url
    if remote.options.get("endpointurl"):
        where += f" at {redact(remote.options['endpointurl'])}"
    return where


def _expect_continue_only_for_large_bodies(events: Any) -> None:
    """botocore sends ``Expect: 100-continue`` before every upload's body: a round trip per
    small file. Kept only for bodies large enough for a refusal to be worth waiting for."""
    from botocore.handlers import add_expect_header
    from botocore.utils import determine_content_length

    def large_only(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        size = determine_content_length(params.get("body"))
        if size is None or size > PART_SIZE:
            add_expect_header(model, params, **kwargs)

    events.unregister("before-call.s3", add_expect_header)
    events.register("before-call.s3", large_only)


class FastS3Store(ObjectStore):
    """S3 through obstore for objects up to one multipart piece; larger ones, and the
    sweep of abandoned multipart uploads, through an s3fs store opened when first needed.
    Each request costs a fifth of botocore's client CPU and the pool grows with the
    concurrency, so small objects move at the network's pace."""

    def __init__(self, remote: DvcRemote, jobs: int) -> None:
        from obstore.store import S3Store

        options = remote.options
        bucket, _, prefix = remote.url.removeprefix("s3://").partition("/")
        self.remote = remote
        self.bucket = bucket
        self.description = _where(remote)
        self.default_jobs = jobs
        self.read_timeout = float(options.get("read_timeout") or 60)
        self.connect_timeout = float(options.get("connect_timeout") or 10)
        config: dict[str, Any] = {}
        for option in ("access_key_id", "secret_access_key", "session_token", "region"):
            if options.get(option):
                config[option] = options[option]
        if options.get("endpointurl"):
            config["endpoint"] = options["endpointurl"]
        else:
            config["virtual_hosted_style_request"] = True  # as botocore addresses AWS
        if dvc_bool(options.get("allow_anonymous_login")):
            config["skip_signature"] = True
        if options.get("sse"):
            config["server_side_encryption"] = options["sse"]
        if options.get("sse_kms_key_id"):
            config["sse_kms_key_id"] = options["sse_kms_key_id"]
        client = {
            "allow_http": str(options.get("endpointurl", "")).startswith("http://"),
            "allow_invalid_certificates": ssl_verify(options.get("ssl_verify")) is False,
            "connect_timeout": timedelta(seconds=self.connect_timeout),
            "read_timeout": timedelta(seconds=self.read_timeout),
        }
        retry = {
            "max_retries": 10,  # object_store's default: SlowDown bursts pass
            "retry_timeout": timedelta(minutes=3),
            "backoff": {
                "init_backoff": timedelta(milliseconds=100),
                "max_backoff": timedelta(seconds=5),
                "base": 2.0,
            },
        }
        self.store = S3Store(
            bucket,
            prefix=prefix.strip("/") or None,
            config=config,  # type: ignore[arg-type]
            client_options=client,  # type: ignore[arg-type]
            retry_config=retry,  # type: ignore[arg-type]
        )
        self._large: asyncio.Task[FsspecStore] | None = None

    async def _large_store(self) -> FsspecStore:
        """The s3fs store for objects beyond one piece, opened once however many ask."""
        if self._large is None:
            self._large = asyncio.ensure_future(self._open_large_store())
        return await self._large

    async def _open_large_store(self) -> FsspecStore:
        await asyncio.to_thread(importlib.import_module, "s3fs")  # not on the event loop
        return await s3fs_store(self.remote, self.default_jobs)

    async def check(self) -> None:
        """Fail once, clearly, when the bucket is missing, the endpoint unreachable or the
        credentials refused."""
        import obstore

        try:
            await asyncio.wait_for(
                obstore.list_with_delimiter_async(self.store, None),
                self.connect_timeout + self.read_timeout,
            )
        except asyncio.TimeoutError as exc:
            raise StoreError(
                f"DVC remote '{self.description}' did not answer within "
                f"{self.connect_timeout + self.read_timeout:g} s.",
                "Check the endpoint and network (or raise read_timeout), then retry.",
            ) from exc
        except Exception as exc:
            raise _store_error(self.remote.name, self.description, self.bucket, exc) from exc

    async def present(self, keys: Collection[ObjectKey]) -> set[ObjectKey]:
        import obstore

        async def listed(prefix: str) -> set[str]:
            async def names() -> set[str]:
                found: set[str] = set()
                async for batch in obstore.list(self.store, f"{prefix}/", chunk_size=1000):
                    found.update(entry["path"] for entry in batch)
                return found

            return await _retrying(names)

        async def exists(key: ObjectKey) -> bool:
            try:
                await _retrying(lambda: obstore.head_async(self.store, key.relpath))
            except FileNotFoundError:
                return False
            return True

        return await present_by_prefix(
            keys, listed, exists, self._existing_prefixes, self.default_jobs
        )

    async def _existing_prefixes(self, prefixes: list[str]) -> set[str]:
        """Which 2-hex prefix folders hold anything, one delimited listing per parent: a
        first push to an empty remote would otherwise list 256 empty prefixes."""

        existing: set[str] = set()
        for parent in {prefix.rpartition("/")[0] or None for prefix in prefixes}:
            answer = await _retrying(functools.partial(self._delimited, parent))
            existing.update(answer["common_prefixes"])
        return existing

    async def _delimited(self, parent: str | None) -> Any:
        import obstore

        return await obstore.list_with_delimiter_async(self.store, parent)

    async def find(self, prefix: str) -> list[str]:
        import obstore

        async def names() -> list[str]:
            found: list[str] = []
            async for batch in obstore.list(self.store, prefix.strip("/") or None):
                found.extend(entry["path"] for entry in batch)
            return found

        return await _retrying(names)

    async def upload(self, source: Path, key: ObjectKey) -> None:
        """One PUT (atomic on S3); a larger file through s3fs's bounded parts (whose first
        upload sweeps abandoned multipart uploads)."""
        import obstore

        if source.stat().st_size > PART_SIZE:
            await (await self._large_store()).upload(source, key)
            return
        await _retrying(
            lambda: obstore.put_async(self.store, key.relpath, source, use_multipart=False)
        )

    async def abort_stale_uploads(self, now: float | None = None) -> int:
        """As :meth:`FsspecStore.abort_stale_uploads`, through s3fs (obstore cannot list
        multipart uploads)."""
        return await (await self._large_store()).abort_stale_uploads(now)

    async def download(
        self,
        key: ObjectKey,
        target: str | Path,
        size: int | None = None,
        limit: int | None = None,
    ) -> str:
        """Streamed to ``target`` and hashed on the way, refused at the size the server
        announces when that passes the bound; a large object of known size in s3fs's
        bounded parallel parts."""
        import obstore

        if size is not None and size > PART_SIZE:
            return await (await self._large_store()).download(key, target, size)
        most = bound(size, limit)

        async def fetch() -> str:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)  # from the start on each attempt
            with BoundedSink(target, key, most, self.description) as sink:
                answer = await obstore.get_async(self.store, key.relpath)
                sink.announce(answer.meta["size"])
                async for chunk in answer.stream(min_chunk_size=CHUNK):
                    sink.write(chunk)
                return sink.md5

        return await _retrying(fetch)

    async def read_small(self, key: ObjectKey, limit: int) -> bytes:
        """At most ``limit + 1`` bytes are kept, whatever the object's size (a ranged read
        of an empty object is refused by S3, so the stream is cut instead)."""
        import obstore

        async def fetch() -> bytes:
            data = bytearray()
            answer = await obstore.get_async(self.store, key.relpath)
            async for chunk in answer.stream(min_chunk_size=min(CHUNK, limit + 1)):
                data += chunk
                if len(data) > limit:
                    break
            return bytes(data[: limit + 1])

        return check_within(await _retrying(fetch), limit, key)

    async def verify(self, key: ObjectKey, size: int) -> str | None:
        """Checked by size (a HEAD), as :meth:`FsspecStore.verify` does."""
        import obstore

        meta = await _retrying(lambda: obstore.head_async(self.store, key.relpath))
        if meta["size"] == size:
            return None
        with contextlib.suppress(Exception):
            await obstore.delete_async(self.store, key.relpath)
        return f"it holds {meta['size']} bytes, not {size}"

    async def close(self) -> None:
        if self._large is not None and not self._large.cancelled():
            with contextlib.suppress(Exception):  # a store that failed to open has no client
                await (await self._large).close()


T = TypeVar("T")
ATTEMPTS = 3


async def _retrying(action: Callable[[], Awaitable[T]]) -> T:
    """``action``'s result, its obstore errors as OS errors; a connection that failed
    (object_store does not retry every such failure: a server closing a kept-alive
    connection, seen under a 503 storm) is tried again, up to :data:`ATTEMPTS` times."""
    for attempt in range(ATTEMPTS):
        try:
            with _as_os_errors():
                return await action()
        except ConnectionError:
            if attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _as_os_errors() -> Iterator[None]:
    """obstore's errors as the transfer engine reads s3fs's: missing objects as
    FileNotFoundError, refusals as PermissionError (which stop the operation), failures
    to connect as ConnectionError (retried), anything else as an I/O error."""
    from obstore.exceptions import (
        BaseError,
        NotFoundError,
        PermissionDeniedError,
        UnauthenticatedError,
    )

    try:
        yield
    except NotFoundError as exc:
        raise FileNotFoundError(errno.ENOENT, _reason(exc)) from exc
    except (PermissionDeniedError, UnauthenticatedError) as exc:
        raise PermissionError(errno.EACCES, _reason(exc)) from exc
    except BaseError as exc:
        if _unreachable(exc):
            raise ConnectionError(_reason(exc)) from exc
        raise OSError(errno.EIO, _reason(exc)) from exc


def _refused_certificate(text: str) -> str | None:
    """Why rustls refused the server's certificate (``UnknownIssuer``, ``Expired``, ...),
    if that is what failed: obstore reports it as a failure to send the request."""
    found = re.search(r"InvalidCertificate\(\s*(?:Other\(\s*OtherError\(\s*)?(\w+)", text)
    return found[1] if found else None


def _reason(exc: BaseException) -> str:
    """What went wrong, in the server's words where it gave some: obstore's messages
    hold the request's URL, its retries and a multi-line debug dump."""
    text = str(exc)
    said = re.search(r"<Code>([^<]{1,80})</Code>\s*<Message>([^<]{1,300})</Message>", text)
    if said:
        return f"{said[1].strip()}: {said[2].strip()}"
    status = re.search(r"status code: (\d{3}[^:\n]{0,40})", text)
    if status:
        return f"HTTP {status[1].strip()}"
    refused = _refused_certificate(text)
    if refused:
        return f"TLS certificate not trusted ({refused})"
    if "error sending request" in text:
        return "error sending request (cannot connect)"
    return text.strip().split("\n", 1)[0].strip()[:300]


def _unreachable(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "error sending request" in text or "timed out" in text


def _store_error(name: str, description: str, bucket: str, exc: BaseException) -> StoreError:
    text = _reason(exc)
    refused = _refused_certificate(str(exc))
    if refused:
        return StoreError(
            f"DVC remote '{description}' presented a TLS certificate that is not trusted "
            f"({refused}).",
            f"Name its CA bundle with 'dvc remote modify --local {name} ssl_verify PATH' "
            "(false skips the check).",
        )
    if "NoSuchBucket" in str(exc):
        return StoreError(
            f"Bucket '{bucket}' of DVC remote '{description}' does not exist.",
            "Create it, or fix the remote's url with 'dvc remote modify'.",
        )
    if type(exc).__name__ in ("PermissionDeniedError", "UnauthenticatedError"):
        return StoreError(
            f"DVC remote '{description}' refused access: {text}",
            "Check the credentials in .dvc/config.local or the environment.",
        )
    if _unreachable(exc):
        return StoreError(
            f"Cannot reach DVC remote '{description}': {text.rstrip('.')}.",
            "Check the endpoint, network and credentials, then retry.",
        )
    return StoreError(
        f"DVC remote '{description}' failed: {text.rstrip('.')}.",
        "Check the endpoint, network and credentials, then retry.",
    )
