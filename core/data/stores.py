"""DVC remotes as object stores behind one async interface (DVC_FORMAT §5, §6.4).

The transfer engine speaks only to :class:`ObjectStore`. A local directory (or NFS mount)
copies through threads, writing to a temporary name, renaming and setting ``0444`` as DVC
does. Object stores (S3, GCS) use their fsspec async filesystem: one PUT is atomic there.
Heavy backends are imported only when a remote of that kind is opened, so the app starts
fast over SSH.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import hashlib
import itertools
import os
import re
import stat
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from core.data.mounts import on_network
from core.data.objects import (
    CHUNK,
    ManifestEntry,
    check_oid,
    manifest_oid,
    md5_bytes,
    md5_file,
    object_relpath,
    parse_manifest,
    serialize_manifest,
)
from core.errors import (
    ConfigError,
    CorruptObjectError,
    IncompleteDirectoryError,
    ObjectTooLargeError,
    StoreError,
)
from core.project.config import DvcRemote

T = TypeVar("T")

READ_ONLY = 0o444
_TEMPORARY_IDS = itertools.count()  # unique temporary names within this process
# A 2-hex prefix with at least this many wanted objects is listed instead of probed.
LIST_THRESHOLD = 4
# Listing a local folder beats a stat per key only when many keys share it: a large
# cache holds thousands of files per prefix.
LOCAL_LIST_THRESHOLD = 32
PART_SIZE = 8 << 20  # multipart pieces on S3: memory per big file is PART_SIZE x PART_JOBS
PART_JOBS = 2
BIG_FILES = 2
MAX_PARTS = 9_000


@dataclass(frozen=True, order=True)
class ObjectKey:
    """An object and its layout: 3.x under ``files/md5``, legacy at the root."""

    oid: str
    legacy: bool = False

    @property
    def relpath(self) -> str:
        return object_relpath(self.oid, self.legacy)


class ObjectStore(ABC):
    """Where objects live; every method is a coroutine run on the operation's loop."""

    description: str
    default_jobs: int = 16
    batch: int = 1  # >1: the engine hands this many copies at a time to a thread

    @abstractmethod
    async def present(self, keys: Collection[ObjectKey]) -> set[ObjectKey]:
        """Which of ``keys`` exist here."""

    @abstractmethod
    async def upload(self, source: Path, key: ObjectKey) -> None:
        """Store the local file ``source`` as ``key``, never leaving a partial object."""

    @abstractmethod
    async def download(
        self,
        key: ObjectKey,
        target: str | Path,
        size: int | None = None,
        limit: int | None = None,
    ) -> str:
        """Write ``key`` to the local path ``target``, read-only (the mode DVC expects of
        cached objects); return the md5 of what was written. ``size``, when known, lets a
        store choose how to move it. A remote's object is untrusted and may not fill the
        disk: past ``size`` bytes, or ``limit`` when the size is not known (a directory's
        file: its directory's recorded size), the download stops with
        :class:`ObjectTooLargeError`, having written at most one chunk more."""

    @abstractmethod
    async def read_small(self, key: ObjectKey, limit: int) -> bytes:
        """The bytes of a small object (a metrics file, a manifest), at most ``limit`` of
        them: a larger one raises :class:`ObjectTooLargeError` having read no more than
        ``limit + 1`` bytes, whatever the remote claims or sends."""

    async def verify(self, key: ObjectKey, size: int) -> str | None:
        """Re-read an uploaded object: None if it checks out, else what is wrong (and the
        bad copy is removed, so a re-run uploads it again)."""
        return None

    async def find(self, prefix: str) -> list[str]:
        """Every file under ``prefix`` (relative to the store's root), relative paths."""
        raise NotImplementedError

    async def check(self) -> None:
        """Fail once, clearly, when the store cannot be reached or refuses us."""
        return None

    async def close(self) -> None:
        return None


def bound(size: int | None, limit: int | None) -> int | None:
    """The most bytes a download may write: its known size, else its limit."""
    return size if size is not None else limit


def too_large(key: ObjectKey, most: int, description: str) -> ObjectTooLargeError:
    return ObjectTooLargeError(
        f"Object {key.oid} on DVC remote '{description}' is larger than the {most:,} "
        "bytes expected of it.",
        "It was not fetched: the remote's copy is damaged or was replaced.",
    )


def check_within(data: bytes, limit: int, key: ObjectKey) -> bytes:
    if len(data) > limit:
        raise ObjectTooLargeError(
            f"Object {key.oid} is larger than the {limit:,} bytes a value file may hold.",
            "It was not fetched.",
        )
    return data


def create_read_only(target: str | Path) -> int:
    """A new file, opened for writing, with mode exactly 0444 (DVC re-hashes any cached
    object with another mode). The mode is given at creation, so only a umask that would
    strip read bits costs a chmod."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, READ_ONLY)
    if _umask() & READ_ONLY:
        try:
            os.fchmod(fd, READ_ONLY)
        except BaseException:
            os.close(fd)
            raise
    return fd


class BoundedSink:
    """A download's new read-only file: hashes what is written and refuses more than
    ``most`` bytes (None: no bound) before writing them, so a remote cannot write more than
    the experiment recorded. Streams call :meth:`announce` with the size a server says it
    will send, to refuse before the first byte."""

    def __init__(
        self, target: str | Path, key: ObjectKey, most: int | None, description: str
    ) -> None:
        self.target, self.key, self.most, self.description = target, key, most, description
        self.written = 0
        self._digest = hashlib.md5(usedforsecurity=False)
        self._fd = create_read_only(target)

    def announce(self, size: int | None) -> None:
        if self.most is not None and size is not None and size > self.most:
            raise too_large(self.key, self.most, self.description)

    def write(self, chunk: bytes) -> None:
        self.announce(self.written + len(chunk))
        self._digest.update(chunk)
        view = memoryview(chunk)
        with _blamed_on(self.target):
            while view:
                view = view[os.write(self._fd, view) :]
        self.written += len(chunk)

    @property
    def md5(self) -> str:
        return self._digest.hexdigest()

    def __enter__(self) -> BoundedSink:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)


@functools.cache
def _umask() -> int:
    """This process's umask, read once (the kernel reports it; elsewhere, set and put back)."""
    with contextlib.suppress(OSError, ValueError, StopIteration), open("/proc/self/status") as f:
        return int(next(x for x in f if x.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def open_regular(source: str | Path) -> int:
    """Open a remote's object for reading, refusing anything but a regular file: a FIFO
    there hung a pull, a symlink to /dev/zero filled the disk. ``O_NONBLOCK`` keeps the
    open itself from waiting on a FIFO; it changes nothing for a regular file."""
    src = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(src).st_mode):
        os.close(src)
        raise OSError(errno.EINVAL, "not a regular file (a FIFO, device or directory)")
    return src


class PastLimitError(OSError):
    """:func:`copy_hashing` met more bytes than its limit (not the disk's EFBIG)."""


def copy_hashing(
    source: str | Path, target: str | Path, limit: int | None = None
) -> tuple[str, int]:
    """Copy in chunks (flat memory) to a new file created read-only, hashing what goes by;
    returns the md5 and the size, and stops past ``limit`` bytes (what the lock says the
    object may hold; None: unknown, the md5 check decides) with ``EFBIG``. Plain
    descriptors: file objects cost an fstat and an ioctl per file, and creating it
    read-only saves the chmod before it is placed."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    src = open_regular(source)
    try:
        dst = create_read_only(target)
        try:
            while chunk := os.read(src, CHUNK):
                if limit is not None and size + len(chunk) > limit:
                    raise PastLimitError(errno.EFBIG, f"larger than the {limit} bytes")
                digest.update(chunk)
                view = memoryview(chunk)
                with _blamed_on(target):
                    while view:
                        view = view[os.write(dst, view) :]
                size += len(chunk)
        finally:
            os.close(dst)
    finally:
        os.close(src)
    return digest.hexdigest(), size


def copy_read_only(source: str | Path, target: str | Path) -> int:
    """Copy in the kernel to a new file created 0444: no samefile stats, no chmod. Per
    object that is half of shutil.copyfile's syscalls, which is what 20,000 small objects
    cost. Returns the size."""
    src = os.open(source, os.O_RDONLY)
    try:
        dst = create_read_only(target)
        try:
            size = os.fstat(src).st_size
            done = 0
            while done < size:
                with _blamed_on(target):
                    sent = os.sendfile(dst, src, done, min(size - done, 1 << 30))
                if not sent:
                    raise OSError(f"{source} shrank while being copied")
                done += sent
        finally:
            os.close(dst)
    finally:
        os.close(src)
    return size


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


@contextlib.contextmanager
def _blamed_on(target: str | Path) -> Iterator[None]:
    """A full or read-only disk says which file it refused: ``write`` gives no name, and
    without one a full local cache read as "DVC remote failed"."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None and exc.errno in _FULL:
            exc.filename = str(target)
        raise


def place_atomically(temporary: str | Path, final: str | Path) -> None:
    """Rename a finished temporary file into place. Downloads are written read-only
    (:meth:`ObjectStore.download`), so no chmod per object is needed here."""
    os.replace(temporary, final)


def temporary_beside(final: Path) -> Path:
    """:func:`temporary_name`, with its folder made."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(temporary_name(final))


STALE_AFTER = 3600.0  # a temporary nobody wrote to for an hour: its writer is gone
STALE_UPLOAD_AFTER = 86400.0  # an S3 multipart upload begun a day ago: abandoned
_SSH_TEMPORARY = re.compile(r"^\.exptui-\d+-.+\.tmp$")
_OURS = re.compile(r"^\.exptui-(\d+)-\d+\.tmp$")


def sweep_stale_temporaries(folder: str, now: float | None = None) -> int:
    """Remove what a killed exptui left in ``folder``: only names :func:`temporary_name`
    makes, only when their process is gone (checked here) and nothing wrote to them for
    :data:`STALE_AFTER` (a process on another machine sharing this folder has a pid we
    cannot check, but a live copy keeps its file's mtime fresh). Returns how many."""
    now = time.time() if now is None else now
    removed = 0
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _OURS.match(entry.name)
            if match is None or _process_alive(int(match.group(1))):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER:
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def temporary_name(final: str | Path) -> str:
    """A name (not yet a file) beside ``final``: hidden, unique in this process, and
    recognisable as ours. Cheaper than mkstemp, which matters for 20,000 small objects."""
    return os.path.join(os.path.dirname(final), f".exptui-{os.getpid()}-{next(_TEMPORARY_IDS)}.tmp")


def _write_atomic(target: Path, data: bytes) -> None:
    """Read-only from creation, under a temporary name beside ``target``, renamed into
    place (DVC_FORMAT §5.4); the same steps a download takes."""
    if target.is_file():
        return  # content-addressed: same name, same bytes
    temporary = temporary_beside(target)
    try:
        with os.fdopen(create_read_only(temporary), "wb") as stream:
            stream.write(data)
        place_atomically(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class LocalStore(ObjectStore):
    """A DVC remote (or cache) that is a directory on this machine."""

    default_jobs = 8
    batch = 64  # copies per thread hand-off: one loop wake-up per batch, not per file

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.base = str(self.root)  # for string paths in the copy loops
        self.description = self.base
        self._made: set[str] = set()  # directories known to exist: one mkdir each

    def path(self, key: ObjectKey) -> Path:
        return self.root / key.relpath

    # -- synchronous reads and writes, for readers of the cache and the demo ----------

    def path_for(self, oid: str, legacy: bool = False) -> Path:
        return self.root / object_relpath(oid, legacy)

    def exists(self, oid: str, legacy: bool = False) -> bool:
        return self.path_for(oid, legacy).is_file()

    def read(self, oid: str, legacy: bool = False) -> bytes | None:
        """The object's bytes, or None if this store does not have it."""
        try:
            return self.path_for(oid, legacy).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read_manifest(self, oid: str, legacy: bool = False) -> list[ManifestEntry] | None:
        data = self.read(check_oid(oid), legacy)
        return None if data is None else parse_manifest(data, f"manifest {oid}")

    def add_bytes(self, data: bytes, legacy: bool = False) -> str:
        """Store ``data`` under its md5 (idempotent), read-only, and return the oid."""
        oid = md5_bytes(data)
        _write_atomic(self.path_for(oid, legacy), data)
        return oid

    def admit_bytes(self, key: ObjectKey, data: bytes) -> None:
        """Store bytes fetched from elsewhere as ``key``, only if they hash to it."""
        if md5_bytes(data) != key.oid.removesuffix(".dir"):
            raise CorruptObjectError(
                f"Object {key.oid} from the DVC remote is corrupt (its bytes hash to "
                f"{md5_bytes(data)}).",
                "It was not cached; the remote copy needs repairing.",
            )
        _write_atomic(self.path(key), data)

    def add_manifest(self, entries: Iterable[ManifestEntry], legacy: bool = False) -> str:
        """Store a directory manifest, refusing while any listed file is missing: a
        present ``.dir`` must keep meaning the whole directory is present."""
        entries = list(entries)
        missing = [e.relpath for e in entries if not self.exists(e.md5, legacy)]
        if missing:
            raise IncompleteDirectoryError(
                f"Refusing to write a .dir manifest with {len(missing)} missing file(s), "
                f"first {missing[0]!r}.",
                "Store every file of the directory first.",
            )
        data = serialize_manifest(entries)
        oid = manifest_oid(data)
        _write_atomic(self.path_for(oid, legacy), data)
        return oid

    # -- the async interface of every store ------------------------------------------

    def location(self, key: ObjectKey) -> str:
        """:meth:`path` as a string, for the copy loops: a ``Path`` per object cost a
        tenth of a pull of 20,000 small files."""
        return f"{self.base}/{key.relpath}"

    async def present(self, keys: Collection[ObjectKey]) -> set[ObjectKey]:
        return await asyncio.to_thread(self._present_now, keys)

    def _present_now(self, keys: Collection[ObjectKey]) -> set[ObjectKey]:
        """A prefix folder holding many wanted keys is listed once (a first push to an
        empty remote stat'ed 20,000 names that could not exist); the others are stat'ed,
        with string paths (2.6x faster than ``Path`` objects)."""
        isfile = os.path.isfile
        by_folder: dict[str, list[ObjectKey]] = defaultdict(list)
        for key in keys:
            by_folder[key.relpath.rsplit("/", 1)[0]].append(key)
        found: set[ObjectKey] = set()
        for folder, wanted in by_folder.items():
            if len(wanted) < LOCAL_LIST_THRESHOLD:
                found.update(k for k in wanted if isfile(self.location(k)))
                continue
            try:
                names = set(os.listdir(f"{self.base}/{folder}"))
            except (FileNotFoundError, NotADirectoryError):
                continue
            found.update(k for k in wanted if k.relpath.rsplit("/", 1)[1] in names)
        return found

    async def sizes(self, keys: Collection[ObjectKey]) -> dict[ObjectKey, int]:
        """The size of each of ``keys`` held here, absent ones left out: one stat answers
        both questions a push asks of its cache."""
        return await asyncio.to_thread(self._sizes_now, keys)

    def _sizes_now(self, keys: Collection[ObjectKey]) -> dict[ObjectKey, int]:
        found = {}
        for key in keys:
            try:
                info = os.stat(self.location(key))
            except (FileNotFoundError, NotADirectoryError):
                continue
            if stat.S_ISREG(info.st_mode):
                found[key] = info.st_size
        return found

    async def upload(self, source: Path, key: ObjectKey) -> None:
        await asyncio.to_thread(self.upload_now, source, key)

    def upload_now(self, source: str | Path, key: ObjectKey) -> None:
        """Copy (sendfile where the OS has it) to a temporary name, then rename: the plan
        already knows the object is missing, and a rename over an equal object is harmless."""
        try:
            with self.incoming(key) as temporary:
                copy_read_only(source, temporary)
                place_atomically(temporary, self.location(key))
        except PermissionError as exc:
            raise StoreError(
                f"Cannot write to DVC remote '{self.description}': permission denied.",
                "Check the directory's permissions, or push to another remote with -r.",
            ) from exc

    @contextlib.contextmanager
    def incoming(self, key: ObjectKey) -> Iterator[str]:
        """A temporary name beside ``key``'s place, removed if the caller fails before
        placing it. Per object as few syscalls as possible (20,000 small objects are little
        else): each folder is made once per store, nothing is unlinked after a rename."""
        final = self.location(key)
        folder = os.path.dirname(final)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            sweep_stale_temporaries(folder)
            self._made.add(folder)
        temporary = temporary_name(final)
        try:
            yield temporary
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    @functools.cached_property
    def networked(self) -> bool:
        """On NFS, SMB, FUSE or a cluster file system, where each syscall is a round trip."""
        return on_network(self.root)

    async def read_small(self, key: ObjectKey, limit: int) -> bytes:
        return await asyncio.to_thread(self._read_small_now, key, limit)

    def _read_small_now(self, key: ObjectKey, limit: int) -> bytes:
        src = open_regular(self.location(key))
        try:
            parts, size = [], 0
            while size <= limit and (chunk := os.read(src, limit + 1 - size)):
                parts.append(chunk)
                size += len(chunk)
            return check_within(b"".join(parts), limit, key)
        finally:
            os.close(src)

    async def download(
        self,
        key: ObjectKey,
        target: str | Path,
        size: int | None = None,
        limit: int | None = None,
    ) -> str:
        digest, _size = await asyncio.to_thread(self.download_now, key, target, bound(size, limit))
        return digest

    def download_now(self, key: ObjectKey, target: str | Path, most: int | None) -> tuple[str, int]:
        """:meth:`download` in this thread (the engine's batches); the md5 and the size."""
        try:
            return copy_hashing(self.location(key), target, most)
        except PastLimitError as exc:
            raise too_large(key, most or 0, self.description) from exc

    async def verify(self, key: ObjectKey, size: int) -> str | None:
        return await asyncio.to_thread(self.verify_now, key, size)

    async def find(self, prefix: str) -> list[str]:
        def walk() -> list[str]:
            base = self.root / prefix
            return [p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file()]

        return await asyncio.to_thread(walk)

    def verify_now(self, key: ObjectKey, size: int) -> str | None:
        """Local reads are cheap, so the whole object is re-hashed, not only sized."""
        path = self.path(key)
        digest = md5_file(path)
        if digest == key.oid.removesuffix(".dir"):
            return None
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return f"its bytes hash to {digest}"


class FsspecStore(ObjectStore):
    """An object store reached through an async fsspec filesystem (s3fs, gcsfs)."""

    def __init__(
        self,
        fs: Any,
        root: str,
        description: str,
        jobs: int = 32,
        parts: bool = False,
        answer_within: float = 70.0,
    ) -> None:
        self.fs = fs
        # The first request must be answered within one connect and one read timeout: the
        # client's retries multiply them (read_timeout=2 waited 65 s on an endpoint that
        # accepts and never answers; the default 60 s, 20 minutes).
        self.answer_within = answer_within
        self.root = root.rstrip("/")
        self.description = description
        self.default_jobs = jobs
        # s3fs splits big objects into parts moved concurrently; left to its defaults (50
        # MiB x 10 per file) three 200 MB files held 1.3 GB. Bounded here: PART_SIZE x
        # PART_JOBS per file, at most BIG_FILES such files at once.
        self.parts = parts
        self._big_files: asyncio.Semaphore | None = None
        self._swept = False

    def path(self, key: ObjectKey) -> str:
        return f"{self.root}/{key.relpath}"

    async def _run(self, coroutine: Any) -> Any:
        """Await one of the filesystem's coroutines (subclasses may run it elsewhere)."""
        return await coroutine

    async def check(self) -> None:
        """Fail once, clearly, when the bucket is missing or the endpoint unreachable
        (``_exists`` would hide both as False)."""
        bucket = self.root.split("/", 1)[0]
        try:
            await asyncio.wait_for(self._run(self.fs._ls(bucket)), self.answer_within)
        except asyncio.TimeoutError as exc:
            raise StoreError(
                f"DVC remote '{self.description}' did not answer within {self.answer_within:g} s.",
                "Check the endpoint and network (or raise read_timeout), then retry.",
            ) from exc
        except FileNotFoundError as exc:
            raise StoreError(
                f"Bucket '{bucket}' of DVC remote '{self.description}' does not exist.",
                "Create it, or fix the remote's url with 'dvc remote modify'.",
            ) from exc
        except PermissionError as exc:
            raise StoreError(
                f"DVC remote '{self.description}' refused access: {exc}",
                "Check the credentials in .dvc/config.local or the environment.",
            ) from exc
        except Exception as exc:  # botocore/aiohttp errors share no base class we can name
            unreachable = "connect" in type(exc).__name__.lower() or isinstance(
                exc, (OSError, asyncio.TimeoutError)
            )
            reason = str(exc).rstrip(".") or type(exc).__name__
            raise StoreError(
                f"Cannot reach DVC remote '{self.description}': {reason}."
                if unreachable
                else f"DVC remote '{self.description}' failed: {reason}.",
                "Check the endpoint, network and credentials, then retry.",
            ) from exc

    async def present(self, keys: Collection[ObjectKey]) -> set[ObjectKey]:
        root = self._strip(self.root).rstrip("/") + "/"

        async def listed(prefix: str) -> set[str]:
            try:
                names = await self._run(self.fs._find(f"{self.root}/{prefix}/"))
            except FileNotFoundError:
                return set()
            return {name[len(root) :] for name in names if name.startswith(root)}

        async def exists(key: ObjectKey) -> bool:
            return bool(await self._run(self.fs._exists(self.path(key))))

        return await present_by_prefix(
            keys, listed, exists, self._existing_prefixes, self.default_jobs
        )

    async def _existing_prefixes(self, prefixes: list[str]) -> set[str]:
        """Which of the 2-hex prefix folders exist, one listing per parent (``files/md5``).
        Listing an empty prefix costs s3fs three requests (the listing, then a HEAD and a
        listing to tell a file from nothing); a first push would ask that 256 times."""
        existing: set[str] = set()
        for parent in {prefix.rsplit("/", 1)[0] if "/" in prefix else "" for prefix in prefixes}:
            folder = f"{self.root}/{parent}".rstrip("/")
            try:
                names = await self._run(self.fs._ls(folder, detail=False))
            except FileNotFoundError:
                continue
            base = f"{parent}/" if parent else ""
            existing.update(base + name.rstrip("/").rsplit("/", 1)[-1] for name in names)
        return existing

    async def find(self, prefix: str) -> list[str]:
        try:
            names = await self._run(self.fs._find(f"{self.root}/{prefix}"))
        except FileNotFoundError:
            return []
        root = self._strip(self.root).rstrip("/") + "/"
        return [name[len(root) :] for name in names if name.startswith(root)]

    def _strip(self, path: str) -> str:
        return self.fs._strip_protocol(path)

    async def upload(self, source: Path, key: ObjectKey) -> None:
        if not self._swept:
            self._swept = True
            with contextlib.suppress(Exception):  # housekeeping never fails a push
                await self.abort_stale_uploads()
        size = source.stat().st_size
        if not self.parts or size <= PART_SIZE:
            await self._run(self.fs._put_file(str(source), self.path(key)))
            return
        part = max(PART_SIZE, -(-size // MAX_PARTS))  # S3 allows 10,000 parts per object
        async with self._big_file_gate():
            await self._run(
                self.fs._put_file(
                    str(source), self.path(key), chunksize=part, max_concurrency=PART_JOBS
                )
            )

    async def download(
        self,
        key: ObjectKey,
        target: str | Path,
        size: int | None = None,
        limit: int | None = None,
    ) -> str:
        """Big objects of known size in bounded parallel parts; the rest streamed in one
        request with flat memory (s3fs reads 64 KiB at a time then). A guard on fsspec's
        progress callback stops the copy at the size the server announces, or at the
        first chunk past the bound."""
        from core.data.sizeguard import SizeGuard

        path = self.path(key)
        guard = SizeGuard(key, bound(size, limit), self.description)
        if self.parts and size is not None and size > PART_SIZE:
            async with self._big_file_gate():
                await self._run(
                    self.fs._get_file(
                        path,
                        str(target),
                        callback=guard,
                        chunksize=PART_SIZE,
                        max_concurrency=PART_JOBS,
                    )
                )
        elif self.parts:
            await self._run(self.fs._get_file(path, str(target), callback=guard, max_concurrency=1))
        else:
            await self._run(self.fs._get_file(path, str(target), callback=guard))
        os.chmod(target, READ_ONLY)
        return await asyncio.to_thread(md5_file, target)

    async def read_small(self, key: ObjectKey, limit: int) -> bytes:
        data = await self._run(self.fs._cat_file(self.path(key), start=0, end=limit + 1))
        return check_within(data, limit, key)

    async def abort_stale_uploads(self, now: float | None = None) -> int:
        """S3 keeps (and bills) the parts of a multipart upload that a killed push never
        completed. Those under this remote's objects, begun more than
        :data:`STALE_UPLOAD_AFTER` ago, are aborted: no upload of one object runs that long.
        One listing per push; returns how many were aborted."""
        call = getattr(self.fs, "_call_s3", None)
        if call is None:
            return 0  # GCS expires unfinished resumable uploads by itself
        bucket, _, prefix = self.root.partition("/")
        objects = f"{prefix}/files/md5/" if prefix else "files/md5/"
        answer = await self._run(call("list_multipart_uploads", Bucket=bucket, Prefix=objects))
        cutoff = (time.time() if now is None else now) - STALE_UPLOAD_AFTER
        aborted = 0
        for upload in answer.get("Uploads") or []:
            if upload["Initiated"].timestamp() < cutoff:
                await self._run(
                    call(
                        "abort_multipart_upload",
                        Bucket=bucket,
                        Key=upload["Key"],
                        UploadId=upload["UploadId"],
                    )
                )
                aborted += 1
        return aborted

    def _big_file_gate(self) -> asyncio.Semaphore:
        if self._big_files is None:
            self._big_files = asyncio.Semaphore(BIG_FILES)
        return self._big_files

    async def verify(self, key: ObjectKey, size: int) -> str | None:
        """Object stores are checked by size (a HEAD); re-downloading would double the
        cost, and the ETag is not an md5 for multipart uploads."""
        info = await self._run(self.fs._info(self.path(key)))
        if info.get("size") == size:
            return None
        with contextlib.suppress(Exception):
            await self._run(self.fs._rm_file(self.path(key)))
        return f"it holds {info.get('size')} bytes, not {size}"

    async def close(self) -> None:
        """Close the backend's HTTP session on this loop (else aiohttp warns at exit)."""
        client = getattr(self.fs, "_s3", None)  # s3fs: an aiobotocore client context
        if client is not None:
            await client.__aexit__(None, None, None)
            return
        session = getattr(self.fs, "_session", None)  # gcsfs: an aiohttp session
        if session is not None and not session.closed:
            await session.close()


class SSHStore(FsspecStore):
    """An SSH/SFTP remote through sshfs. sshfs connects in its constructor on its own event
    loop (it cannot be built asynchronously inside a running one), so its coroutines run
    on that loop and are awaited from ours. Uploads go to a temporary name and are renamed
    (posix-rename), as DVC does, so no partial object is ever visible."""

    async def _run(self, coroutine: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.fs.loop))

    def __init__(self, fs: Any, root: str, description: str, jobs: int = 8) -> None:
        super().__init__(fs, root, description, jobs)
        self._swept_folders: set[str] = set()

    async def check(self) -> None:
        return None  # connecting already proved the server; the root is created on demand

    async def _sweep(self, directory: str) -> None:
        """What a killed push left in ``directory``: our temporaries nobody wrote to for
        :data:`STALE_AFTER` (a process on the server cannot be asked whether it lives; a
        live upload keeps its file's mtime fresh)."""
        cutoff = time.time() - STALE_AFTER
        for info in await self._run(self.fs._ls(directory, detail=True)):
            name = info["name"].rsplit("/", 1)[-1]
            mtime = info.get("mtime")
            if _SSH_TEMPORARY.match(name) and mtime is not None and mtime.timestamp() < cutoff:
                await self._run(self.fs._rm_file(info["name"]))

    async def upload(self, source: Path, key: ObjectKey) -> None:
        final = self.path(key)
        directory, name = final.rsplit("/", 1)
        if directory not in self._swept_folders:
            self._swept_folders.add(directory)
            with contextlib.suppress(Exception):  # housekeeping never fails a push
                await self._sweep(directory)
        temporary = f"{directory}/.exptui-{os.getpid()}-{name}.tmp"
        await self._run(self.fs._put_file(str(source), temporary))
        await self._run(self.fs._mv(temporary, final))

    async def read_small(self, key: ObjectKey, limit: int) -> bytes:
        """sshfs's ``_cat_file`` reads to the end of the file; this reads ``limit + 1``."""

        async def read() -> bytes:
            async with self.fs._pool.get() as channel, channel.open(self.path(key), "rb") as f:
                return bytes(await f.read(limit + 1))

        return check_within(await self._sftp(read(), self.path(key)), limit, key)

    async def download(
        self,
        key: ObjectKey,
        target: str | Path,
        size: int | None = None,
        limit: int | None = None,
    ) -> str:
        """Read through one handle, a chunk at a time (asyncssh reads each chunk's blocks in
        parallel), checked against the bound before it is written: sshfs's copy wrote
        megabytes in parallel before its first progress report."""
        most = bound(size, limit)

        async def read() -> str:
            async with self.fs._pool.get() as channel, channel.open(self.path(key), "rb") as f:
                with BoundedSink(target, key, most, self.description) as sink:
                    while chunk := await f.read(CHUNK if most is None else min(CHUNK, most + 1)):
                        sink.write(chunk)
                    return sink.md5

        return await self._sftp(read(), self.path(key))

    async def _sftp(self, coroutine: Coroutine[Any, Any, T], path: str) -> T:
        """``coroutine`` on sshfs's loop, asyncssh's SFTP errors (not OSErrors) as the
        OSErrors the engine reads, as sshfs's own calls raise them."""
        import asyncssh

        try:
            return await self._run(coroutine)
        except asyncssh.SFTPNoSuchFile as exc:
            raise FileNotFoundError(errno.ENOENT, exc.reason, path) from exc
        except asyncssh.SFTPPermissionDenied as exc:
            raise PermissionError(errno.EACCES, exc.reason, path) from exc
        except asyncssh.SFTPError as exc:
            raise OSError(errno.EIO, exc.reason, path) from exc

    async def close(self) -> None:
        pool, stack = getattr(self.fs, "_pool", None), getattr(self.fs, "_stack", None)
        if pool is not None:
            await self._run(pool.close())
        if stack is not None:
            with contextlib.suppress(Exception):
                await self._run(stack.aclose())


async def present_by_prefix(
    keys: Collection[ObjectKey],
    listed: Callable[[str], Awaitable[set[str]]],
    exists: Callable[[ObjectKey], Awaitable[bool]],
    existing_prefixes: Callable[[list[str]], Awaitable[set[str]]],
    jobs: int,
) -> set[ObjectKey]:
    """Which ``keys`` an object store holds: the 2-hex prefixes holding many wanted keys
    are listed (``listed`` gives the relative paths under one), but only those that exist
    at all; the others are probed singly. A listing is roughly 20x cheaper per object
    than a HEAD on S3 (DVC_FORMAT §9)."""
    by_prefix: dict[str, list[ObjectKey]] = defaultdict(list)
    for key in keys:
        by_prefix[key.relpath.rsplit("/", 1)[0]].append(key)
    found: set[ObjectKey] = set()

    async def list_prefix(prefix: str, wanted: list[ObjectKey]) -> None:
        names = await listed(prefix)
        found.update(key for key in wanted if key.relpath in names)

    async def probe(key: ObjectKey) -> None:
        if await exists(key):
            found.add(key)

    many = [prefix for prefix, wanted in by_prefix.items() if len(wanted) >= LIST_THRESHOLD]
    existing = await existing_prefixes(many)
    tasks: list[Coroutine[Any, Any, None]] = []
    for prefix, wanted in by_prefix.items():
        if len(wanted) < LIST_THRESHOLD:
            tasks.extend(probe(key) for key in wanted)
        elif prefix in existing:
            tasks.append(list_prefix(prefix, wanted))
    await gather_bounded(tasks, jobs)
    return found


async def gather_bounded(tasks: list[Any], limit: int) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(task: Any) -> None:
        async with gate:
            await task

    await asyncio.gather(*(run(t) for t in tasks))


class Stores:
    """The DVC remotes' stores, each opened (and checked) when first needed: a pull whose
    objects are all cached asks no remote, so it need not import s3fs nor connect (0.4 s
    of a re-pull from S3)."""

    def __init__(self, remotes: Iterable[DvcRemote], jobs: int | None = None) -> None:
        self.remotes = {remote.name: remote for remote in remotes}
        self.jobs = jobs  # -j: the connections a store must be able to keep open at once
        self.opening: dict[str, asyncio.Task[ObjectStore]] = {}

    async def get(self, name: str) -> ObjectStore:
        if name not in self.opening:  # one task per remote, however many ask at once
            self.opening[name] = asyncio.ensure_future(open_store(self.remotes[name], self.jobs))
        return await self.opening[name]

    async def close(self) -> None:
        """Close what opened; one still opening is waited for, so it cannot leak."""
        for task in self.opening.values():
            if task.cancelled():  # cancelled with whoever awaited it: nothing opened
                continue
            with contextlib.suppress(Exception):  # a store that failed to open has no client
                await (await task).close()


def on_stores(
    remotes: Iterable[DvcRemote],
    action: Callable[[Stores], Awaitable[T]],
    jobs: int | None = None,
) -> T:
    """Run ``action`` on one event loop with the stores it asks for, all closed after,
    whatever happens: the one store lifecycle of transfers, data badges and the
    run-cache. Local copies run in threads: as many as the jobs they may overlap.

    The result is kept off the task: Python 3.11's runner, restoring the SIGINT handler,
    looks the handler (which holds the task) up in an Enum, and the failed lookup formats
    the repr of the task's result: 0.13 s per call for a 20,000-object plan."""
    box: list[T] = []

    async def main() -> None:
        stores = Stores(remotes, jobs)
        executor = ThreadPoolExecutor(max_workers=max(4, jobs or 16))
        asyncio.get_running_loop().set_default_executor(executor)
        try:
            box.append(await action(stores))
        finally:
            await stores.close()
            executor.shutdown(wait=False)

    asyncio.run(main())
    return box[0]


async def open_store(remote: DvcRemote, jobs: int | None = None) -> ObjectStore:
    """The store for a DVC remote, built on the running loop (async backends need it);
    ``jobs`` (``-j``) sizes its connection pool when the backend has one."""
    if remote.is_cloud_versioned:
        raise ConfigError(
            f"DVC remote '{remote.name}' is cloud-versioned or a worktree remote.",
            "Experiments cannot be shared through such remotes (DVC refuses them too); "
            "use a plain remote with -r.",
        )
    scheme = remote.scheme
    if scheme == "local":
        return LocalStore(Path(remote.url))
    if scheme == "s3":
        from core.data.s3 import s3_store

        return await s3_store(remote, jobs)
    if scheme in ("gs", "gcs"):
        return await _gcs_store(remote)
    if scheme in ("ssh", "sftp"):
        return await _ssh_store(remote)
    if scheme in ("http", "https"):
        from core.data.httpstore import http_store

        return await http_store(remote)
    raise ConfigError(
        f"DVC remote '{remote.name}' uses {scheme}://, which exptui cannot transfer to yet.",
        "Supported: local directories, s3://, gs://, ssh:// and http(s)://; use "
        "'dvc push'/'dvc pull'.",
    )


S = TypeVar("S", bound=ObjectStore)


async def checked(store: S) -> S:
    """Run the pre-flight check; a store that fails it is closed before the error leaves."""
    try:
        await store.check()
    except BaseException:
        await store.close()
        raise
    return store


async def _gcs_store(remote: DvcRemote) -> ObjectStore:
    # gcsfs >= 2025 probes bucket layout over gRPC unless this is off (hangs on emulators
    # and costs a round trip on real GCS); it must be set before gcsfs is imported.
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    import gcsfs

    options = remote.options
    kwargs: dict[str, Any] = {"asynchronous": True, "skip_instance_cache": True}
    kwargs["requests_timeout"] = float(options.get("timeout") or 60)  # gcsfs waits forever
    if options.get("projectname"):
        kwargs["project"] = options["projectname"]
    if options.get("credentialpath"):
        kwargs["token"] = options["credentialpath"]
    if options.get("allow_anonymous_login", "").lower() == "true":
        kwargs["token"] = "anon"
    if options.get("endpointurl"):
        kwargs["endpoint_url"] = options["endpointurl"]
    fs = gcsfs.GCSFileSystem(**kwargs)
    bucket_path = remote.url.split("://", 1)[1]
    return await checked(
        FsspecStore(fs, bucket_path, remote.shown_url, jobs=int(options.get("jobs") or 16))
    )


async def _ssh_store(remote: DvcRemote) -> ObjectStore:
    """``ssh://[user@]host[:port]/path`` with DVC's ``user``, ``port``, ``keyfile``,
    ``password`` and ``timeout`` options; keys from the agent and ~/.ssh otherwise."""
    from urllib.parse import urlsplit

    options = remote.options
    parts = urlsplit(remote.url)
    kwargs: dict[str, Any] = {
        "connect_timeout": float(options.get("timeout") or 10),
        "skip_instance_cache": True,  # a closed instance must never be handed out again
        # sshfs turns host key checking off unless told otherwise; asyncssh's own default
        # is OpenSSH's: ~/.ssh/known_hosts (or UserKnownHostsFile from ~/.ssh/config), and
        # an unknown or changed key refuses the connection.
        "known_hosts": (),
        # SFTP has no read timeout; keepalives find a server that stopped answering within
        # a minute instead of never (a transfer may legitimately take hours).
        "keepalive_interval": 15,
        "keepalive_count_max": 4,
    }
    if parts.port or options.get("port"):
        kwargs["port"] = int(options.get("port") or parts.port or 22)
    if options.get("user") or parts.username:
        kwargs["username"] = options.get("user") or parts.username
    if options.get("keyfile"):
        kwargs["client_keys"] = [os.path.expanduser(options["keyfile"])]
    if options.get("password"):
        kwargs["password"] = options["password"]
    try:
        import sshfs

        fs = await asyncio.to_thread(sshfs.SSHFileSystem, parts.hostname or "", **kwargs)
    except Exception as exc:  # asyncssh's errors share no base class we can name
        name = type(exc).__name__
        reason = str(exc) or name  # asyncssh's timeouts say nothing at all
        if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            reason = f"no answer within {kwargs['connect_timeout']:g} s"
        if name == "HostKeyNotVerifiable":
            where = f"{parts.hostname}:{kwargs.get('port', 22)}"
            raise StoreError(
                f"The SSH host key of DVC remote '{remote.shown_url}' ({where}) is not "
                "trusted: it is not in your known_hosts, or it changed.",
                f"Check it, then connect once with 'ssh -p {kwargs.get('port', 22)} "
                f"{parts.hostname}' to record it, as ssh and git require.",
            ) from exc
        refused = "Permission" in name or "auth" in str(exc).lower()
        raise StoreError(
            f"{'SSH refused the login to' if refused else 'Cannot reach'} DVC remote "
            f"'{remote.shown_url}': {reason.rstrip('.')}.",
            "Add your key to ssh-agent or set keyfile with 'dvc remote modify --local'."
            if refused
            else "Check the host, port and network, then retry.",
        ) from exc
    return SSHStore(fs, parts.path, remote.shown_url, jobs=int(options.get("jobs") or 8))
